"""Reconciliation: the pure comparison (pipeline/reconcile.py), its database queries, and the
`saraban reconcile` command in its three formats (run as a real process, on both databases)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from pipeline.extract.number import parse_number
from pipeline.reconcile import (
    NOT_IN_REGISTER,
    NUMBER_INCOMPLETE,
    SAME_FILE,
    SAME_NUMBER,
    UNKNOWN_SENDER,
    RegisteredNumber,
    RepeatedFile,
    ScannedLetter,
    reconcile,
)
from saraban.app import App
from saraban.commands.reconcile import CSV_COLUMNS, print_report, write_csv
from storage.reconcile import reconcile_database
from storage.tables import IntakeFileRow, LetterRow, RegisterEntryRow

from .conftest import ROOT

TODAY = dt.date(2024, 6, 30)
LAMPANG = "สำนักงานจังหวัดลำปาง"
KO_KHA = "ที่ว่าการอำเภอเกาะคา"


REPORT = "ขอความร่วมมือรายงานข้อมูล"


def reg(number: str, day: str, sender: str = LAMPANG, subject: str = REPORT) -> RegisteredNumber:
    date = dt.date.fromisoformat(day)
    return RegisteredNumber(number, date.year, date, subject, sender)


def scan(letter_id: int, number: str | None, day: str | None, *, received: str = "2024-06-01",
         suggestion: str | None = None, duplicate_of: int | None = None) -> ScannedLetter:
    date = dt.date.fromisoformat(day) if day else None
    code = number.split("/")[0] if number else None
    arrived = dt.date.fromisoformat(received)
    year = date.year if date else None
    return ScannedLetter(letter_id, number, year, date, arrived, f"in/{letter_id}.pdf", code, suggestion,
                         duplicate_of)


REGISTER = [
    reg("ลป 0017.1/ว 101", "2024-05-02"),  # arrived
    reg("ลป 0017.1/ว 102", "2024-05-03"),  # never sent
    reg("ลป 0017.1/ว 103", "2024-06-27"),  # taken three days ago: still within the grace days
    reg("ลป 0418.1/ว 55", "2024-03-10", KO_KHA),  # never sent
    reg("ลป 0418.1/ว 56", "2024-03-11", KO_KHA),  # its letter's date was unreadable
    reg("ลป 0418.1/ว 57", "2024-03-12", KO_KHA),  # read as 53: a suggestion waits for review
    reg("ลป 0017.1/ว 101", "2023-05-02"),  # last year's 101: serials restart, never sent
]
LETTERS = [
    scan(1, "ลป 0017.1/ว 101", "2024-05-02"),
    scan(2, "ลป 0418.1/ว 56", None),
    scan(3, "ลป 0418.1/ว 53", "2024-03-12", suggestion="ลป 0418.1/ว 57"),
    scan(4, "ลป 0017.1/ว 999", "2024-05-20"),  # the register does not know it
    scan(5, "ลป 0017.1/ว", "2024-05-21"),  # blank serial
    scan(6, "ลป 0017.1/ว 101", "2024-05-02", received="2024-06-03", duplicate_of=1),  # scanned again
    scan(7, "มท 0810.7/ว 5827", "2024-06-18"),  # a sender the register has never seen
    scan(8, None, None),  # not a letter
]
REPEATS = [RepeatedFile(1, "in/again/1.pdf", dt.date(2024, 6, 5))]


def test_numbers_taken_and_never_sent() -> None:
    report = reconcile(REGISTER, LETTERS, REPEATS, as_of=TODAY, grace_days=7)
    assert [(u.number, u.year, u.days_waiting) for u in report.unsent] == [
        ("ลป 0017.1/ว 101", 2023, 425), ("ลป 0418.1/ว 55", 2024, 112), ("ลป 0017.1/ว 102", 2024, 58)]
    assert report.unsent[1].sender == KO_KHA and report.unsent[1].subject == REPORT
    # Longer grace: 102 is not yet due; none: 103 is overdue as well.
    def unsent(grace_days: int) -> set[str]:
        return {u.number for u in reconcile(REGISTER, LETTERS, [], as_of=TODAY, grace_days=grace_days).unsent}

    assert "ลป 0017.1/ว 102" not in unsent(60)
    assert "ลป 0017.1/ว 103" in unsent(0)


def test_letters_the_register_does_not_know() -> None:
    report = reconcile(REGISTER, LETTERS, REPEATS, as_of=TODAY)
    assert [(k.letter_id, k.number, k.finding, k.suggestion) for k in report.unknown] == [
        (3, "ลป 0418.1/ว 53", NOT_IN_REGISTER, "ลป 0418.1/ว 57"),
        (4, "ลป 0017.1/ว 999", NOT_IN_REGISTER, None),
        (5, "ลป 0017.1/ว", NUMBER_INCOMPLETE, None),
        (7, "มท 0810.7/ว 5827", NOT_IN_REGISTER, None)]
    senders = {k.letter_id: k.sender for k in report.unknown}
    # The register tells which unit uses an agency code; an unknown code stays as printed.
    assert senders == {3: KO_KHA, 4: LAMPANG, 5: LAMPANG, 7: "มท 0810.7"}
    # A letter whose date was unreadable matches only when its number is unique in the register.
    ambiguous = reconcile(REGISTER, [scan(9, "ลป 0017.1/ว 101", None)], [], as_of=TODAY)
    assert [k.letter_id for k in ambiguous.unknown] == [9]
    assert {u.number for u in ambiguous.unsent} == {"ลป 0017.1/ว 102", "ลป 0418.1/ว 55", "ลป 0418.1/ว 56",
                                                    "ลป 0418.1/ว 57"}  # 101 of both years count as arrived


def test_duplicates_both_kinds() -> None:
    report = reconcile(REGISTER, LETTERS, REPEATS, as_of=TODAY)
    assert [(d.original_id, d.letter_id, d.number, d.finding, d.file) for d in report.duplicates] == [
        (1, 6, "ลป 0017.1/ว 101", SAME_NUMBER, "in/6.pdf"),
        (1, None, "ลป 0017.1/ว 101", SAME_FILE, "in/again/1.pdf")]
    assert {d.sender for d in report.duplicates} == {LAMPANG}
    orphan = reconcile([], [], [RepeatedFile(77, "x.pdf", TODAY)], as_of=TODAY)
    assert orphan.duplicates[0].sender == UNKNOWN_SENDER and orphan.duplicates[0].number is None


def test_counts_per_sender_unit() -> None:
    report = reconcile(REGISTER, LETTERS, REPEATS, as_of=TODAY)
    assert [(s.sender, s.unsent, s.unknown, s.duplicates, s.total) for s in report.by_sender] == [
        (LAMPANG, 2, 2, 2, 6), (KO_KHA, 1, 1, 0, 2), ("มท 0810.7", 0, 1, 0, 1)]


def test_since_limits_every_list() -> None:
    report = reconcile(REGISTER, LETTERS, REPEATS, as_of=TODAY, since=dt.date(2024, 5, 1))
    assert [u.number for u in report.unsent] == ["ลป 0017.1/ว 102"]
    assert [k.letter_id for k in report.unknown] == [4, 5, 7]
    assert len(report.duplicates) == 2  # the letter they repeat is dated 2024-05-02
    # Without a date, the day the letter arrived decides.
    undated = [scan(10, "ลป 0017.1/ว 998", None, received="2024-04-01"), scan(11, "ลป 0017.1/ว 997", None)]
    report = reconcile([], undated, [], as_of=TODAY, since=dt.date(2024, 5, 1))
    assert [k.letter_id for k in report.unknown] == [11]


def test_json_shape() -> None:
    report = reconcile(REGISTER, LETTERS, REPEATS, as_of=TODAY, grace_days=7, since=dt.date(2024, 1, 1))
    data = report.to_json()
    assert (data["as_of"], data["grace_days"], data["since"]) == ("2024-06-30", 7, "2024-01-01")
    assert data["totals"] == {"unsent": 2, "unknown": 4, "duplicates": 2}
    assert data["unsent"][0] == {"number": "ลป 0418.1/ว 55", "year": 2024, "date": "2024-03-10",
                                 "subject": REPORT, "sender": KO_KHA, "days_waiting": 112}
    assert data["unknown"][0] == {"letter_id": 3, "number": "ลป 0418.1/ว 53", "date": "2024-03-12",
                                  "sender": KO_KHA, "file": "in/3.pdf", "finding": "not_in_register",
                                  "suggestion": "ลป 0418.1/ว 57"}
    assert data["duplicates"][1] == {"original_id": 1, "letter_id": None, "number": "ลป 0017.1/ว 101",
                                     "sender": LAMPANG, "file": "in/again/1.pdf", "finding": "same_file"}
    assert data["by_sender"][0] == {"sender": LAMPANG, "unsent": 1, "unknown": 2, "duplicates": 2, "total": 5}
    json.dumps(data, ensure_ascii=False)  # plain JSON all the way down


def test_csv_and_table() -> None:
    report = reconcile(REGISTER, LETTERS, REPEATS, as_of=TODAY)
    out = io.StringIO()
    write_csv(report, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["finding"] for r in rows] == ["unsent"] * 3 + ["not_in_register", "not_in_register",
                                                             "number_incomplete", "not_in_register",
                                                             "same_number", "same_file"]
    assert rows[3]["letter_id"] == "3" and "อาจเป็น ลป 0418.1/ว 57" in rows[3]["detail"]
    assert rows[-1]["original_id"] == "1" and rows[-1]["letter_id"] == ""

    console = Console(record=True, width=200, file=io.StringIO())
    print_report(report, console)
    text = console.export_text()
    for heading in ("ออกเลขแล้วแต่ไม่พบหนังสือที่สแกน (เกิน 7 วัน)", "หนังสือที่สแกนแต่ไม่พบเลขที่ในทะเบียน",
                    "หนังสือซ้ำ", "สรุปตามหน่วยงานผู้ส่ง", "หน่วยงานผู้ส่ง", "ณ ๓๐ มิ.ย. ๒๕๖๗"):
        assert heading in text
    assert "ลป 0418.1/ว 55" in text and "แฟ้มเดียวกันนำเข้าซ้ำ" in text and "เลขที่ไม่ครบ" in text


# --- the database and the real command ---------------------------------------------------------------

def _store(app: App) -> None:
    with app.db.session() as session:
        for e in REGISTER:
            n = parse_number(e.number)
            assert n is not None
            session.add(RegisterEntryRow(number=e.number, year=e.year, code=n.code, agency=n.agency,
                                         circular=n.circular, serial=n.serial, date=e.date, subject=e.subject,
                                         sender=e.sender))
        for s in LETTERS:
            pending = {"number": s.suggestion, "read": s.number, "auto_accepted": False}
            session.add(LetterRow(id=s.letter_id, sha256=f"{s.letter_id:064x}", file_name=s.file,
                                  kind="letter" if s.number else "not_letter", number=s.number,
                                  number_year=s.year, sender_code=s.sender_code, date=s.date,
                                  status="needs_review", suggestion=pending if s.suggestion else None,
                                  duplicate_of=s.duplicate_of,
                                  created_at=dt.datetime.combine(s.received_on, dt.time(9))))
        session.flush()
        # An auto-accepted correction is the register's number already: it must not count as pending.
        session.add(LetterRow(id=20, sha256="f" * 64, file_name="in/20.pdf", kind="letter",
                              number="ลป 0017.1/ว 101", number_year=2024, sender_code="ลป 0017.1",
                              status="needs_review", duplicate_of=1, date=dt.date(2024, 5, 2),
                              created_at=dt.datetime(2024, 6, 4, 9),
                              suggestion={"number": "ลป 0017.1/ว 101", "auto_accepted": True}))
        for r in REPEATS:
            session.add(IntakeFileRow(path=r.file, station="default", sha256=f"{r.letter_id:064x}",
                                      outcome="duplicate", letter_id=r.letter_id,
                                      reason_code="duplicate_file",
                                      created_at=dt.datetime.combine(r.received_on, dt.time(10))))
        session.add(IntakeFileRow(path="in/broken.pdf", station="default", outcome="failed",
                                  reason_code="corrupt_file"))


def _saraban(app: App, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SARABAN_HOME": str(app.settings.resolved_home),
           "SARABAN_DATABASE_URL": app.settings.resolved_database_url}
    command = Path(sys.executable).parent / "saraban"  # the installed console script
    return subprocess.run([str(command), "reconcile", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_database_and_command(app: App) -> None:
    _store(app)
    with app.db.session() as session:
        report = reconcile_database(session, as_of=TODAY, grace_days=7)
    expected = reconcile(REGISTER, [*LETTERS, scan(20, "ลป 0017.1/ว 101", "2024-05-02", received="2024-06-04",
                                                   duplicate_of=1)], REPEATS, as_of=TODAY, grace_days=7)
    assert report.to_json() == expected.to_json()

    done = _saraban(app, "--format", "json", "--as-of", "2024-06-30", "--since", "๑ พฤษภาคม ๒๕๖๗")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["since"] == "2024-05-01" and [u["number"] for u in data["unsent"]] == ["ลป 0017.1/ว 102"]
    assert data["totals"] == {"unsent": 1, "unknown": 3, "duplicates": 3}

    done = _saraban(app, "--format", "csv", "--as-of", "2024-06-30", "--grace-days", "60")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["number"] for r in rows if r["finding"] == "unsent"] == ["ลป 0017.1/ว 101", "ลป 0418.1/ว 55"]

    done = _saraban(app, "--as-of", "2024-06-30")
    assert done.returncode == 0, done.stderr
    assert "ออกเลขแล้วแต่ไม่พบหนังสือที่สแกน" in done.stdout and "สรุปตามหน่วยงานผู้ส่ง" in done.stdout

    done = _saraban(app, "--since", "เมื่อวาน")
    assert done.returncode == 2 and "อ่านวันที่ไม่ได้" in done.stderr
