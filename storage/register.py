"""The outgoing register in the database: import (CSV, XLSX), single entries, and lookups.

An import is all or nothing: every row is checked first, and a file with a bad row imports no
row at all, with one clear message per bad row. Re-importing is idempotent (upsert by number
and year).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import false, select
from sqlalchemy.orm import Session

from pipeline.extract.date import parse_date
from pipeline.extract.number import parse_number
from pipeline.models import LetterNumber
from pipeline.thai import be_year_to_ce, normalize_text, to_arabic_digits
from pipeline.validate import RegisterEntry
from storage.tables import LetterRow, RegisterEntryRow

COLUMNS = ("number", "date", "subject", "sender")
# Thai headers offices use in their exports, mapped to ours.
HEADER_ALIASES = {"เลขที่": "number", "เลขที่หนังสือ": "number", "ที่": "number", "ลงวันที่": "date",
                  "วันที่": "date", "เรื่อง": "subject", "หน่วยงาน": "sender", "ผู้ส่ง": "sender",
                  "จาก": "sender", "ส่วนราชการ": "sender"}


class RegisterImportError(Exception):
    """The file was not imported; `errors` says, per row, what is wrong (Thai)."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("นำเข้าทะเบียนไม่สำเร็จ ไม่มีแถวใดถูกนำเข้า:\n" + "\n".join(errors))


@dataclass(frozen=True)
class RegisterRecord:
    number: LetterNumber
    date: dt.date
    subject: str
    sender: str
    row: int  # in the file, for messages

    @property
    def year(self) -> int:
        return self.date.year


_SLASH_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})$")


def parse_register_date(value: object) -> dt.date | None:
    """ISO, Thai (`๑๔ ก.พ. ๒๕๖๑`), dd/mm/yyyy in BE or CE, or a spreadsheet date cell."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = to_arabic_digits(normalize_text(str(value or "")))
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        pass
    match = _SLASH_DATE.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        try:
            return dt.date(be_year_to_ce(year), month, day)
        except ValueError:
            return None
    return parse_date(text)


HEADER_SEARCH_ROWS = 5  # exports often have a title row or two above the column names


def _table(path: Path) -> list[list[object]]:
    """All rows of the first sheet (XLSX) or of the CSV (UTF-8, or TIS-620 as Thai Windows saves it)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        return [list(values) for values in sheet.iter_rows(values_only=True)]
    if suffix not in (".csv", ".txt"):
        raise RegisterImportError([f"ไม่รองรับแฟ้มชนิด {suffix or '(ไม่มีนามสกุล)'} ใช้ CSV หรือ XLSX"])
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise RegisterImportError(["แฟ้มนี้ไม่ใช่ตาราง CSV (เป็นแฟ้มไบนารี)"])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp874")  # Excel on Thai Windows saves CSV in TIS-620
    return [list(row) for row in csv.reader(text.splitlines())]


def _rows(path: Path) -> Iterator[tuple[int, dict[str, object]]]:
    table = _table(path)
    header_at = 0
    for i, row in enumerate(table[:HEADER_SEARCH_ROWS]):
        names = {HEADER_ALIASES.get(normalize_text(str(h or "")), str(h or "").strip().lower()) for h in row}
        if set(COLUMNS[:3]) <= names:
            header_at = i
            break
    if not table:
        return
    columns = [HEADER_ALIASES.get(normalize_text(str(h or "")), str(h or "").strip().lower()) for h in table[header_at]]
    for index, values in enumerate(table[header_at + 1:], start=header_at + 2):
        if not values or all(v in (None, "") or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        yield index, dict(zip(columns, values, strict=False))


def parse_register_file(path: Path) -> list[RegisterRecord]:
    """Every row checked; raises `RegisterImportError` listing all bad rows, else the records."""
    try:
        rows = list(_rows(path))
    except RegisterImportError:
        raise
    except (OSError, UnicodeDecodeError, csv.Error, KeyError, ValueError) as exc:
        raise RegisterImportError([f"อ่านแฟ้มไม่ได้: {exc}"]) from exc
    except Exception as exc:  # a damaged spreadsheet raises from deep inside openpyxl
        raise RegisterImportError([f"อ่านแฟ้มไม่ได้ (แฟ้มเสียหายหรือไม่ใช่ตาราง): {type(exc).__name__}"]) from exc
    if not rows:
        raise RegisterImportError(["ไม่พบแถวข้อมูลในแฟ้ม (ต้องมีหัวตาราง number,date,subject,sender และอย่างน้อยหนึ่งแถว)"])
    if not set(COLUMNS[:3]) <= set(rows[0][1]):
        missing = [c for c in COLUMNS[:3] if c not in rows[0][1]]
        raise RegisterImportError([f"ไม่พบคอลัมน์ {', '.join(missing)} (ต้องมี number,date,subject,sender)"])
    errors: list[str] = []
    records: dict[tuple[str, int], RegisterRecord] = {}
    for index, row in rows:
        record, problem = _record(index, row)
        if problem:
            errors.append(problem)
            continue
        assert record is not None
        key = (record.number.canonical, record.year)
        earlier = records.get(key)
        if earlier is not None and (earlier.date, earlier.subject) != (record.date, record.subject):
            errors.append(f"แถวที่ {index}: เลขที่ {key[0]} ปี {key[1]} ซ้ำกับแถวที่ {earlier.row} แต่ข้อมูลต่างกัน")
            continue
        records.setdefault(key, record)
    if errors:
        raise RegisterImportError(errors)
    return list(records.values())


def _record(index: int, row: dict[str, object]) -> tuple[RegisterRecord | None, str | None]:
    raw_number = str(row.get("number") or "").strip()
    number = parse_number(raw_number)
    if number is None:
        return None, f"แถวที่ {index}: เลขที่หนังสือไม่ถูกต้อง '{raw_number}'"
    if not number.complete:
        return None, f"แถวที่ {index}: เลขที่หนังสือ '{raw_number}' ไม่มีเลขลำดับ"
    date = parse_register_date(row.get("date"))
    if date is None:
        return None, f"แถวที่ {index}: วันที่ไม่ถูกต้อง '{row.get('date')}'"
    subject = normalize_text(str(row.get("subject") or ""))
    if not subject:
        return None, f"แถวที่ {index}: ไม่มีเรื่อง"
    sender = normalize_text(str(row.get("sender") or ""))
    return RegisterRecord(number, date, subject, sender, index), None


def upsert(session: Session, records: Iterable[RegisterRecord]) -> tuple[int, int]:
    """Insert or update by (number, year); returns (added, updated)."""
    added = updated = 0
    for record in records:
        row = session.scalar(select(RegisterEntryRow).where(
            RegisterEntryRow.number == record.number.canonical, RegisterEntryRow.year == record.year))
        if row is None:
            session.add(_row(record))
            added += 1
        elif (row.date, row.subject, row.sender) != (record.date, record.subject, record.sender):
            row.date, row.subject, row.sender = record.date, record.subject, record.sender
            updated += 1
    session.flush()
    return added, updated


def _row(record: RegisterRecord) -> RegisterEntryRow:
    n = record.number
    return RegisterEntryRow(number=n.canonical, year=record.year, code=n.code, agency=n.agency, circular=n.circular,
                            serial=n.serial, date=record.date, subject=record.subject, sender=record.sender)


def import_register(session: Session, path: Path) -> tuple[int, int]:
    """Check the whole file, then upsert it in the caller's transaction."""
    return upsert(session, parse_register_file(path))


def _entry(row: RegisterEntryRow) -> RegisterEntry:
    number = LetterNumber(row.code, row.agency, row.circular, row.serial)
    return RegisterEntry(number, row.date, row.subject, row.sender)


class SqlRegister:
    """`pipeline.validate.RegisterLookup` over the database."""

    def __init__(self, session: Session, *, exclude_letter: int | None = None) -> None:
        self.session = session
        self.exclude_letter = exclude_letter

    def find(self, number: LetterNumber, year: int | None) -> RegisterEntry | None:
        query = select(RegisterEntryRow).where(RegisterEntryRow.number == number.canonical)
        if year is not None:
            query = query.where(RegisterEntryRow.year == year)
        rows = self.session.scalars(query.limit(2)).all()
        return _entry(rows[0]) if len(rows) == 1 else None

    def same_series(self, number: LetterNumber, year: int | None) -> list[RegisterEntry]:
        query = select(RegisterEntryRow).where(RegisterEntryRow.circular == number.circular)
        if year is not None:
            query = query.where(RegisterEntryRow.year == year)
        from pipeline.validate import confusable_neighbours

        neighbours = confusable_neighbours(number)
        query = query.where(RegisterEntryRow.number.in_(neighbours)) if neighbours else query.where(false())
        return [_entry(row) for row in self.session.scalars(query)]

    def on_date(self, date: dt.date) -> list[RegisterEntry]:
        rows = self.session.scalars(select(RegisterEntryRow).where(RegisterEntryRow.date == date))
        return [_entry(row) for row in rows]

    def received(self, number: LetterNumber, year: int | None) -> int | None:
        query = select(LetterRow.id).where(LetterRow.number == number.canonical, LetterRow.duplicate_of.is_(None))
        if year is not None:
            query = query.where(LetterRow.number_year == year)
        if self.exclude_letter is not None:
            query = query.where(LetterRow.id != self.exclude_letter)
        return self.session.scalar(query.order_by(LetterRow.id).limit(1))


def add_entry(session: Session, number: str, date: str, subject: str, sender: str = "") -> RegisterRecord:
    """`saraban register add`: one entry, checked like an imported row."""
    record, problem = _record(1, {"number": number, "date": date, "subject": subject, "sender": sender})
    if problem:
        raise RegisterImportError([problem.replace("แถวที่ 1: ", "")])
    assert record is not None
    upsert(session, [record])
    return record
