"""Tables for people: the intake summary and an inbox, with rich."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

STATUS_TH = {"routed": "ส่งเข้ากล่องหนังสือแล้ว", "needs_review": "รอตรวจทาน", "held": "รอส่งคืนผู้ส่ง",
             "duplicate": "ซ้ำ", "failed": "นำเข้าไม่ได้"}
STATUS_STYLE = {"routed": "green", "needs_review": "yellow", "held": "magenta", "duplicate": "cyan", "failed": "red"}


def _recipients(ids: list[str]) -> str:
    if len(ids) <= 3:
        return ", ".join(ids)
    return f"{', '.join(ids[:2])} … ({len(ids)} หน่วยงาน)"


def wide_console() -> Console:
    """Tables stay readable when output goes to a file or CI log (no terminal width to ask)."""
    console = Console()
    return console if console.is_terminal else Console(width=160)


def print_intake_table(results: list[dict], console: Console | None = None) -> None:
    console = console or wide_console()
    table = Table(title="ผลการนำเข้าหนังสือ", show_lines=False)
    for column in ("แฟ้ม", "เลขที่", "วันที่", "สถานะ", "ผู้รับ", "ข้อสังเกต"):
        table.add_column(column, overflow="fold")
    for r in results:
        status = r["status"]
        if status == "needs_review" and r.get("flags") == ["missing_attachments"]:
            status = "held"  # in the returns queue: its attachments did not arrive
        table.add_row(
            r["file"].rsplit("/", 1)[-1], r.get("number") or "-", r.get("date") or "-",
            f"[{STATUS_STYLE.get(status, 'white')}]{STATUS_TH.get(status, status)}[/]",
            _recipients(r.get("recipients") or []), ", ".join(r.get("flags") or []) or (r.get("reason") or ""),
        )
    console.print(table)
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    console.print("  ".join(f"{STATUS_TH.get(k, k)}: {v}" for k, v in sorted(counts.items())))


def print_inbox(unit: str, items: list[dict], console: Console | None = None) -> None:
    console = console or wide_console()
    table = Table(title=f"กล่องหนังสือ {unit}")
    for column in ("รายการ", "เลขที่", "วันที่", "เรื่อง", "ชั้นความเร็ว", "สถานะ", "เลขรับ"):
        table.add_column(column, overflow="fold")
    for i in items:
        table.add_row(str(i["letter_id"]), i["number"] or "-", i["date"] or "-", i["subject"] or "-",
                      i["urgency"] or "", i["status"], str(i["receive_number"] or ""))
    console.print(table)
