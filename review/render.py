"""Pages from Jinja2 templates, autoescaped (OCR text is shown as text, never as markup), and the
filters that write dates, times, reasons and statuses the Thai way."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from pipeline.models import FLAG_REASONS, Flag
from pipeline.thai import MONTHS, ce_year_to_be
from review.auth import csrf_token, take_flashes

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Thailand keeps no daylight saving time: a fixed offset is exact. The database holds UTC.
BANGKOK = dt.timezone(dt.timedelta(hours=7), "ICT")

STATUS_NAMES = {"routed": "ส่งถึงหน่วยงานแล้ว", "needs_review": "รอตรวจทาน", "held": "รอส่งคืนผู้ส่ง",
                "returned": "ส่งคืนผู้ส่งแล้ว", "not_letter": "ไม่ใช่หนังสือราชการ", "new": "ยังไม่รับ",
                "received": "รับแล้ว", "pending": "รอยืนยัน", "confirmed": "ส่งคืนแล้ว",
                "overridden": "ได้รับเอกสารแนบแล้ว ส่งต่อแล้ว", "open": "รอตรวจทาน", "closed": "ตรวจทานแล้ว"}
OUTCOME_NAMES = {"routed": "ส่งต่อแล้ว", "needs_review": "รอตรวจทาน", "duplicate": "ซ้ำ", "failed": "ไม่สำเร็จ"}
ACTION_NAMES = {"letter_received": "รับเข้าระบบ", "sent_to_review": "ส่งตรวจทาน", "held_for_return": "รอส่งคืนผู้ส่ง",
                "number_corrected": "แก้เลขที่ตามทะเบียน", "number_suggested": "พบเลขที่ใกล้เคียงในทะเบียน",
                "routed": "ส่งถึงหน่วยงาน", "received": "ลงรับ", "returned_by_unit": "หน่วยงานส่งคืน",
                "field_corrected": "แก้ไขข้อมูล", "review_approved": "อนุมัติและส่งต่อ",
                "return_requested": "ส่งเข้าคิวส่งคืน", "return_confirmed": "ยืนยันส่งคืนผู้ส่ง",
                "return_overridden": "แนบเอกสารที่ได้รับภายหลัง", "marked_not_letter": "ไม่ใช่หนังสือราชการ",
                "pdf_opened": "เปิดแฟ้ม PDF"}
URGENCY_CLASSES = {"ด่วนที่สุด": "urgent-3", "ด่วนมาก": "urgent-2", "ด่วน": "urgent-1"}


def local_time(value: dt.datetime) -> dt.datetime:
    """A UTC timestamp from the database in Thai time."""
    return value.replace(tzinfo=dt.UTC).astimezone(BANGKOK)


def thai_date(value: dt.date | None) -> str:
    """`14 มี.ค. 2567`; an empty string for no date."""
    if value is None:
        return ""
    return f"{value.day} {MONTHS[value.month - 1][1]} {ce_year_to_be(value.year)}"


def thai_datetime(value: dt.datetime | None) -> str:
    """`24 พ.ย. 2569 10:07 น.` in Thai time."""
    if value is None:
        return ""
    local = local_time(value)
    return f"{thai_date(local.date())} {local:%H:%M} น."


def waited(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """How long since: `3 ชม. 20 นาที`, `2 วัน`."""
    if value is None:
        return ""
    seconds = max(0, int(((now or dt.datetime.now(dt.UTC).replace(tzinfo=None)) - value).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{days} วัน {hours} ชม." if hours else f"{days} วัน"
    if hours:
        return f"{hours} ชม. {rest // 60} นาที"
    return f"{rest // 60} นาที" if seconds >= 60 else "ไม่ถึง 1 นาที"


def reason_text(code: str) -> str:
    try:
        return FLAG_REASONS[Flag(code)]
    except ValueError:
        return code


def event_reason(text: str | None) -> str:
    """An event's reason; a list of review codes (`low_confidence, secret`) in Thai."""
    if not text:
        return ""
    parts = [part.strip() for part in text.split(",")]
    if all(part in Flag._value2member_map_ for part in parts):
        return ", ".join(reason_text(part) for part in parts)
    return text


def make_environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             auto_reload=False)
    env.filters.update(thai_date=thai_date, thai_datetime=thai_datetime, waited=waited, reason=reason_text,
                       status=lambda s: STATUS_NAMES.get(s or "", s or ""),
                       outcome=lambda s: OUTCOME_NAMES.get(s or "", s or ""),
                       urgency_class=lambda u: URGENCY_CLASSES.get(u or "", ""),
                       action=lambda a: ACTION_NAMES.get(a or "", a or ""), event_reason=event_reason)
    return env


def render(request: Request, name: str, context: dict[str, Any] | None = None, *,
           status_code: int = 200) -> HTMLResponse:
    env: jinja2.Environment = request.app.state.templates
    page = {"request": request, "user": getattr(request.state, "user", None), "csrf": csrf_token(request),
            "flashes": take_flashes(request), "path": request.url.path, **(context or {})}
    html = env.get_template(name).render(page)
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})
