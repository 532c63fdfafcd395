"""The review queue and the review page: an operator fixes what the machine was unsure of."""

from __future__ import annotations

import re
import urllib.parse
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from pipeline.models import RETURN_REASON_MISSING_ATTACHMENTS, SECRECIES, URGENCIES, Flag
from pipeline.thai import normalize_text
from review import queries
from review.auth import flash
from review.deps import OperatorUser, saraban
from review.render import render, thai_date
from saraban import operations
from saraban.operations import EDITABLE_FIELDS, FIELD_LABELS, NeedsConfirmation, OperationError
from storage.tables import LetterRow

router = APIRouter()


def _filters(station: str | None, reason: str | None) -> dict[str, str]:
    return {k: v for k, v in (("station", station), ("reason", reason)) if v}


def _query(params: dict[str, Any]) -> str:
    params = {k: v for k, v in params.items() if v not in (None, "")}
    return "?" + urllib.parse.urlencode(params) if params else ""


@router.get("/review")
def queue(request: Request, user: OperatorUser, station: str | None = None,
          reason: str | None = None, page: int = 1) -> Response:
    with saraban(request).db.session() as session:
        result = queries.review_queue(session, station=station or None, reason=reason or None, page=page)
    reasons = sorted(result.by_reason.items(), key=lambda kv: -kv[1])
    return render(request, "queue.html", {
        "queue": result, "station": station or "", "reason": reason or "", "reasons": reasons,
        "stations": sorted(result.by_station.items()),
        "filters": _filters(station, reason), "query": _query})


@router.get("/review/next")
def next_letter(request: Request, user: OperatorUser, after: int | None = None,
                station: str | None = None, reason: str | None = None) -> Response:
    with saraban(request).db.session() as session:
        letter_id = queries.next_in_queue(session, after, station=station or None, reason=reason or None)
    filters = _filters(station, reason)
    if letter_id is None:
        flash(request, "ไม่มีหนังสือรอตรวจทานแล้ว")
        return RedirectResponse("/review" + _query(filters), status_code=303)
    return RedirectResponse(f"/review/{letter_id}" + _query(filters), status_code=303)


def _shown_values(letter: LetterRow) -> dict[str, str]:
    """What the inputs start with: the stored values, and the register's suggested number preselected."""
    suggested = str((letter.suggestion or {}).get("number") or "")
    return {
        "number": suggested or letter.number or "",
        "date": thai_date(letter.date),
        "subject": letter.subject or "",
        "addressee": letter.addressee or "",
        "urgency": letter.urgency or "",
        "secrecy": letter.secrecy or "",
    }


# Review reasons that point at a field: the operator looks there first.
REGISTER_FIELDS = {"number_not_in_register": ("number",), "number_suggestion": ("number",),
                   "number_incomplete": ("number",), "duplicate": ("number",),
                   "register_mismatch": ("date", "subject"), "unresolved_addressee": ("addressee",)}


def flagged_fields(reasons: list[str], confidences: dict[str, Any], threshold: float) -> dict[str, str]:
    """Field → why it is highlighted: read with low confidence, or named by a review reason."""
    flagged = {}
    for name in ("number", "date", "subject", "addressee"):
        if float(confidences.get(name, 0.0) or 0.0) < threshold:
            flagged[name] = "ไม่แน่ใจ ตรวจให้ดี"
    for reason in reasons:
        for name in REGISTER_FIELDS.get(reason, ()):
            flagged.setdefault(name, "ตรวจกับทะเบียน" if reason != "unresolved_addressee" else "ระบุผู้รับไม่ได้")
    return flagged


def _page(request: Request, session: Session, letter: LetterRow, *, station: str | None, reason: str | None,
          values: dict[str, str] | None = None, units: list[str] | None = None,
          problems: list[str] | None = None,
          error: str | None = None, return_reason: str | None = None, status_code: int = 200) -> Response:
    app = saraban(request)
    threshold = app.settings.review_threshold
    reasons = queries.open_reasons(session, letter.id)
    names = queries.unit_names(session)
    recipients = units if units is not None else list(letter.recipients or [])
    routing = letter.routing or {}
    unclear = list(routing.get("unresolved") or []) + [part for part, _ids in routing.get("ambiguous") or []]
    confidences = letter.confidences or {}
    missing = letter.missing_attachments or Flag.MISSING_ATTACHMENTS.value in (letter.flags or [])
    return render(request, "review.html", {
        "letter": letter, "editable": letter.status == "needs_review", "reasons": reasons,
        "values": values or _shown_values(letter), "fields": EDITABLE_FIELDS, "labels": FIELD_LABELS,
        "flagged": flagged_fields(reasons, confidences, threshold),
        "sources": letter.sources or {}, "confidences": confidences,
        "candidates": queries.register_candidates(session, letter),
        "recipients": [(uid, names.get(uid, uid)) for uid in recipients], "unclear": unclear,
        "units": queries.active_units(session), "urgencies": URGENCIES, "secrecies": SECRECIES,
        "problems": problems or [], "error": error,
        "return_reason": return_reason if return_reason is not None else (
            RETURN_REASON_MISSING_ATTACHMENTS if missing else ""),
        "events": queries.letter_events(session, letter.id, limit=8),
        "station": station or "", "reason": reason or "", "filters": _filters(station, reason),
        "query": _query,
    }, status_code=status_code)


@router.get("/review/{letter_id}")
def review_page(request: Request, letter_id: int, user: OperatorUser, station: str | None = None,
                reason: str | None = None) -> Response:
    with saraban(request).db.session() as session:
        letter = session.get(LetterRow, letter_id)
        if letter is None:
            raise HTTPException(404, f"ไม่พบหนังสือรายการที่ {letter_id}")
        return _page(request, session, letter, station=station, reason=reason)


_SPLIT = re.compile(r"[,;\n]+")


def parse_added_units(text: str, units: list[tuple[str, str]]) -> list[str]:
    """Units typed into 'add a unit': ids, or exact names, separated by commas or lines."""
    by_id = {uid for uid, _name in units}
    by_name = {normalize_text(name): uid for uid, name in units}
    out = []
    for token in (normalize_text(t) for t in _SPLIT.split(text)):
        if not token:
            continue
        head = token.split(" ", 1)[0]
        uid = token if token in by_id else head if head in by_id else by_name.get(token)
        if uid is None:
            raise OperationError(f"ไม่พบหน่วยงาน '{token}' ในทำเนียบ")
        out.append(uid)
    return out


@router.post("/review/{letter_id}")
def act(request: Request, letter_id: int, user: OperatorUser,
        action: Annotated[str, Form()] = "approve",
        number: Annotated[str | None, Form()] = None, date: Annotated[str | None, Form()] = None,
        subject: Annotated[str | None, Form()] = None, addressee: Annotated[str | None, Form()] = None,
        urgency: Annotated[str | None, Form()] = None, secrecy: Annotated[str | None, Form()] = None,
        units: Annotated[list[str] | None, Form()] = None,
        units_shown: Annotated[list[str] | None, Form()] = None,
        add_units: Annotated[str, Form()] = "", return_reason: Annotated[str, Form()] = "",
        confirm: Annotated[str, Form()] = "", station: Annotated[str, Form()] = "",
        reason: Annotated[str, Form()] = "") -> Response:
    app = saraban(request)
    # Only the fields the form sent: a field left out is not a field cleared.
    sent = {"number": number, "date": date, "subject": subject, "addressee": addressee,
            "urgency": urgency, "secrecy": secrecy}
    values = {name: text for name, text in sent.items() if text is not None}
    chosen = list(dict.fromkeys(units or []))
    try:
        with app.db.session() as session:
            letter = session.get(LetterRow, letter_id)
            if letter is None:
                raise HTTPException(404, f"ไม่พบหนังสือรายการที่ {letter_id}")
            if action == "approve":
                added = parse_added_units(add_units, queries.active_units(session))
                chosen += [u for u in added if u not in chosen]
                addressee_changed = (addressee is not None
                                     and normalize_text(addressee) != (letter.addressee or ""))
                untouched = set(chosen) == set(units_shown or []) and not add_units.strip()
                # A corrected addressee with the proposal untouched: resolve the recipients again.
                explicit = None if untouched and (addressee_changed or not chosen) else chosen
                approval = operations.approve_and_route(session, letter_id, actor=user.username,
                                                        corrections=values, units=explicit,
                                                        confirm=bool(confirm))
                message = f"ส่งหนังสือ {letter.number or ''} ถึง {len(approval.units)} หน่วยงานแล้ว"
            elif action == "return":
                operations.return_to_sender(session, letter_id, return_reason, actor=user.username,
                                            corrections=values)
                message = f"ส่งหนังสือ {letter.number or ''} เข้าคิวส่งคืนผู้ส่งแล้ว"
            elif action == "not_letter":
                operations.correct_fields(session, letter_id, values, actor=user.username)
                operations.mark_not_letter(session, letter_id, actor=user.username)
                message = "บันทึกว่าไม่ใช่หนังสือราชการแล้ว"
            else:
                raise HTTPException(400, "ไม่รู้จักคำสั่งนี้")
    except OperationError as exc:
        with app.db.session() as session:
            letter = session.get(LetterRow, letter_id)
            assert letter is not None
            problems = exc.problems if isinstance(exc, NeedsConfirmation) else None
            shown = {**_shown_values(letter), **values}
            return _page(request, session, letter, station=station, reason=reason, values=shown,
                         units=chosen, problems=problems, error=None if problems else str(exc),
                         return_reason=return_reason, status_code=409 if problems else 400)
    flash(request, message)
    return RedirectResponse(f"/review/next{_query({'after': letter_id, **_filters(station, reason)})}",
                            status_code=303)
