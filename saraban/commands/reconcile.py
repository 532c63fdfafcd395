"""saraban reconcile: the register against what actually arrived (issue 4).

    saraban reconcile [--since DATE] [--grace-days N] [--format table|csv|json] [--as-of DATE]

table: Thai headings, for a clerk; csv: one row per finding (`finding` codes from
pipeline.reconcile, details in Thai); json: one object, `Reconciliation.to_json()`.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from enum import StrEnum
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.table import Table

from pipeline.reconcile import NOT_IN_REGISTER, NUMBER_INCOMPLETE, SAME_FILE, SAME_NUMBER, Reconciliation
from pipeline.thai import thai_date_text
from saraban.cli import app, err


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


FINDING_TH = {
    "unsent": "ออกเลขแล้วแต่ไม่พบหนังสือที่สแกน",
    NOT_IN_REGISTER: "ไม่พบเลขที่ในทะเบียน",
    NUMBER_INCOMPLETE: "เลขที่ไม่ครบ (ไม่มีเลขลำดับ)",
    SAME_NUMBER: "สแกนซ้ำ (เลขที่ซ้ำกับหนังสือที่รับแล้ว)",
    SAME_FILE: "แฟ้มเดียวกันนำเข้าซ้ำ",
}
CSV_COLUMNS = ("finding", "sender", "number", "date", "letter_id", "original_id", "file", "detail")


def _date_option(value: str | None) -> dt.date | None:
    if value is None:
        return None
    from storage.register import parse_register_date

    parsed = parse_register_date(value)
    if parsed is None:
        raise typer.BadParameter(f"อ่านวันที่ไม่ได้: '{value}' (ใช้ 2024-03-01 หรือ ๑ มีนาคม ๒๕๖๗)")
    return parsed


@app.command("reconcile")
def reconcile_command(
    since: Annotated[str | None, typer.Option(help="only what is dated from DATE (ISO or Thai)")] = None,
    grace_days: Annotated[int, typer.Option(min=0, help="days a unit has to send its scan")] = 7,
    output: Annotated[Format, typer.Option("--format", help="table | csv | json")] = Format.table,
    as_of: Annotated[str | None, typer.Option(help="count from this day instead of today")] = None,
) -> None:
    """The register against what arrived: numbers never sent, letters the register lacks, duplicates."""
    from sqlalchemy.exc import SQLAlchemyError

    from saraban.app import App
    from storage.reconcile import reconcile_database

    since_day, today = _date_option(since), _date_option(as_of) or dt.date.today()
    try:
        with App.create().db.session() as session:
            report = reconcile_database(session, as_of=today, grace_days=grace_days, since=since_day)
    except SQLAlchemyError as exc:  # the database is unreachable: say so, not a traceback
        err.print(f"[red]กระทบยอดทะเบียนไม่ได้: {exc}[/red]")
        raise typer.Exit(2) from None
    if output is Format.json:
        sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
    elif output is Format.csv:
        write_csv(report, sys.stdout)
    else:
        print_report(report)


def csv_rows(report: Reconciliation) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for u in report.unsent:
        rows.append({"finding": "unsent", "sender": u.sender, "number": u.number, "date": u.date.isoformat(),
                     "detail": f"{u.subject} (ค้าง {u.days_waiting} วัน)"})
    for k in report.unknown:
        detail = FINDING_TH[k.finding] + (f" อาจเป็น {k.suggestion} (รอตรวจทาน)" if k.suggestion else "")
        rows.append({"finding": k.finding, "sender": k.sender, "number": k.number,
                     "date": k.date.isoformat() if k.date else "", "letter_id": k.letter_id, "file": k.file,
                     "detail": detail})
    for d in report.duplicates:
        rows.append({"finding": d.finding, "sender": d.sender, "number": d.number, "letter_id": d.letter_id,
                     "original_id": d.original_id, "file": d.file, "detail": FINDING_TH[d.finding]})
    return rows


def write_csv(report: Reconciliation, out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_rows(report))


def _thai_date(day: dt.date | None) -> str:
    return thai_date_text(day.year, day.month, day.day, abbreviated=True) if day else "-"


def print_report(report: Reconciliation, console: Console | None = None) -> None:
    from saraban.report import wide_console

    console = console or wide_console()
    window = f" ตั้งแต่ {_thai_date(report.since)}" if report.since else ""
    console.print(f"[bold]กระทบยอดทะเบียนหนังสือส่งกับหนังสือที่สแกนเข้ามา ณ {_thai_date(report.as_of)}{window}[/bold]")

    unsent = Table(title=f"ออกเลขแล้วแต่ไม่พบหนังสือที่สแกน (เกิน {report.grace_days} วัน)")
    for column in ("เลขที่", "ลงวันที่", "เรื่อง", "หน่วยงานผู้ส่ง", "ค้าง (วัน)"):
        unsent.add_column(column, overflow="fold")
    for u in report.unsent:
        unsent.add_row(u.number, _thai_date(u.date), u.subject, u.sender, str(u.days_waiting))
    console.print(unsent)

    unknown = Table(title="หนังสือที่สแกนแต่ไม่พบเลขที่ในทะเบียน")
    for column in ("รายการ", "เลขที่", "ลงวันที่", "หน่วยงานผู้ส่ง", "แฟ้ม", "หมายเหตุ"):
        unknown.add_column(column, overflow="fold")
    for k in report.unknown:
        note = FINDING_TH[k.finding] + (f" อาจเป็น {k.suggestion} (รอตรวจทาน)" if k.suggestion else "")
        unknown.add_row(str(k.letter_id), k.number or "-", _thai_date(k.date), k.sender,
                        k.file.rsplit("/", 1)[-1], note)
    console.print(unknown)

    duplicates = Table(title="หนังสือซ้ำ")
    for column in ("รายการ", "ซ้ำกับรายการ", "เลขที่", "หน่วยงานผู้ส่ง", "แฟ้ม", "ลักษณะ"):
        duplicates.add_column(column, overflow="fold")
    for d in report.duplicates:
        duplicates.add_row(str(d.letter_id) if d.letter_id else "-", str(d.original_id), d.number or "-",
                           d.sender, d.file.rsplit("/", 1)[-1], FINDING_TH[d.finding])
    console.print(duplicates)

    summary = Table(title="สรุปตามหน่วยงานผู้ส่ง")
    for column in ("หน่วยงานผู้ส่ง", "ไม่ได้ส่งหนังสือ", "ไม่มีในทะเบียน", "ซ้ำ", "รวม"):
        summary.add_column(column, overflow="fold")
    for s in report.by_sender:
        summary.add_row(s.sender, str(s.unsent), str(s.unknown), str(s.duplicates), str(s.total))
    console.print(summary)
    console.print(f"ไม่ได้ส่งหนังสือ {len(report.unsent)} เลข  ไม่มีในทะเบียน {len(report.unknown)} ฉบับ  "
                  f"ซ้ำ {len(report.duplicates)} รายการ")
