"""The register rules of pipeline/validate.py: each rule with an in-memory register, then the same
cases against `SqlRegister` on SQLite and PostgreSQL (the lookups must agree)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from pipeline.extract.number import parse_number
from pipeline.models import DocumentKind, Field, Flag, Letter, LetterNumber
from pipeline.validate import (
    AUTO_CORRECT_SUBJECT,
    SUBJECT_SIMILARITY,
    RegisterEntry,
    Validation,
    confusable_neighbours,
    subject_similarity,
    validate,
)
from saraban.app import App
from storage.register import RegisterRecord, SqlRegister, upsert
from storage.tables import LetterRow

STANDARDS = "การกำหนดมาตรฐานและความเป็นธรรมในการปฏิบัติงาน"
E_DOCUMENT = "แจ้งวิธีการ/ขั้นตอนการใช้งานระบบสารบรรณอิเล็กทรอนิกส์ (e-Document)"
MEETING = "ขอเชิญประชุมคณะกรรมการบริหารงานจังหวัดแบบบูรณาการ ครั้งที่ ๑๑/๒๕๖๕"
LAMPANG = "สำนักงานจังหวัดลำปาง"


def number(text: str) -> LetterNumber:
    parsed = parse_number(text)
    assert parsed is not None, text
    return parsed


def entry(text: str, day: str, subject: str, sender: str = LAMPANG) -> RegisterEntry:
    return RegisterEntry(number(text), dt.date.fromisoformat(day), subject, sender)


# The register every case below is checked against.
REGISTER = [
    entry("ลป 0017.1/ว 14155", "2015-06-15", E_DOCUMENT),
    entry("ลป 0017.5/4386", "2018-02-14", STANDARDS),
    entry("ลป 0421/4042", "2022-09-16", MEETING, "ที่ว่าการอำเภอเถิน"),
    entry("ลป 0421/4042", "2023-01-09", "ขอส่งรายงานการประชุม", "ที่ว่าการอำเภอเถิน"),  # serials restart yearly
    # Two entries one confusable digit from ลป 0017.2/7005 (0↔6 and 5↔6), same day, same subject.
    entry("ลป 0017.2/7006", "2024-05-01", "ขอความร่วมมือรายงานข้อมูล"),
    entry("ลป 0017.2/7065", "2024-05-01", "ขอความร่วมมือรายงานข้อมูล"),
]
# Letters already received: (canonical number, year) → letter id.
RECEIVED = {("ลป 0017.5/4386", 2018): 41}


class DictRegister:
    """`RegisterLookup` from a list: what storage/register.py answers, without a database."""

    def __init__(self, entries: Iterable[RegisterEntry], received: dict[tuple[str, int], int]) -> None:
        self.entries = list(entries)
        self.received_ids = dict(received)

    def find(self, number: LetterNumber, year: int | None) -> RegisterEntry | None:
        found = [e for e in self.entries if e.number == number and (year is None or e.date.year == year)]
        return found[0] if len(found) == 1 else None

    def same_series(self, number: LetterNumber, year: int | None) -> list[RegisterEntry]:
        # The whole series, wider than SqlRegister's answer: the neighbourhood is the rule's to apply.
        series = (number.code, number.circular)
        return [e for e in self.entries
                if (e.number.code, e.number.circular) == series and (year is None or e.date.year == year)]

    def on_date(self, date: dt.date) -> list[RegisterEntry]:
        return [e for e in self.entries if e.date == date]

    def received(self, number: LetterNumber, year: int | None) -> int | None:
        ids = [i for (n, y), i in self.received_ids.items() if n == number.canonical and year in (None, y)]
        return min(ids) if ids else None


def letter(text: str | None, day: str | None = None, subject: str | None = None, *, confidence: float = 0.95,
           kind: DocumentKind = DocumentKind.LETTER) -> Letter:
    return Letter("scan.pdf", kind, 1,
                  number=Field(number(text) if text else None, confidence if text else 0.0),
                  date=Field(dt.date.fromisoformat(day) if day else None, 0.95 if day else 0.0),
                  subject=Field(subject, 0.9 if subject else 0.0))


@dataclass(frozen=True)
class Case:
    """A letter as read, and exactly what the rules must say about it."""

    name: str
    letter: Letter
    flags: tuple[Flag, ...]
    entry: str | None = None  # the register entry the letter was matched to
    suggestion: str | None = None
    auto_accept: bool = False
    duplicate_of: int | None = None


N1 = "ลป 0017.1/ว 14155"  # E_DOCUMENT, 2015-06-15
N2 = "ลป 0017.5/4386"  # STANDARDS, 2018-02-14, received as letter 41
MISREAD_AGENCY = "ลป 0013.1/ว 14155"  # N1 with ๗ read as ๓
MISREAD_SERIAL = "ลป 0017.5/4385"  # N2 with ๖ read as ๕
OTHER = "ขอเชิญประชุมคณะกรรมการ"
SIMILAR = STANDARDS + "ของหน่วยงาน"  # similar enough to match, not enough to correct on its own
NOT_FOUND = (Flag.NUMBER_NOT_IN_REGISTER,)
SUGGESTED = (Flag.NUMBER_SUGGESTION,)

CASES = [
    Case("found, date and subject agree",
         letter(N1, "2015-06-15", E_DOCUMENT), (), entry=N1),
    Case("found, Thai digits, spacing and lost marks in the subject",
         letter("ที่ ลป ๐๔๒๑/๔๐๔๒", "2022-09-16", "ขอเชิญประชุมคณะกรรมการบริหารงานจังหวัด แบบบูรณาการ ครั้งที่ 11/2565"),
         (), entry="ลป 0421/4042"),
    Case("found, date differs",
         letter(N1, "2015-06-16", E_DOCUMENT), (Flag.REGISTER_MISMATCH,), entry=N1),
    Case("found, subject differs",
         letter(N1, "2015-06-15", OTHER), (Flag.REGISTER_MISMATCH,), entry=N1),
    Case("found, date unreadable: subject still checked",
         letter(N1, None, E_DOCUMENT), (), entry=N1),
    Case("same number, the other year's entry",
         letter("ลป 0421/4042", "2023-01-09", "ขอส่งรายงานการประชุม"), (), entry="ลป 0421/4042"),
    Case("the number exists only in another year",
         letter(N1, "2016-06-15", E_DOCUMENT), NOT_FOUND),
    Case("not in the register, nothing near",
         letter("ลป 0017.1/ว 99999", "2015-06-15", E_DOCUMENT), NOT_FOUND),
    Case("circular mark read, the register has a plain number",
         letter("ลป 0017.5/ว 4386", "2018-02-14", STANDARDS), NOT_FOUND),
    Case("blank serial",
         letter("พร 0023.1/ว", "2025-10-03", STANDARDS), (Flag.NUMBER_INCOMPLETE,)),
    Case("blank serial read surely, though the register has the date and subject: flagged",
         letter("ลป 0017.1/ว", "2015-06-15", E_DOCUMENT), (Flag.NUMBER_INCOMPLETE,)),
    Case("serial lost by OCR (read unsurely): the entry of the date with the subject and agency",
         letter("ลป 0017.1/ว", "2015-06-15", E_DOCUMENT, confidence=0.6), (),
         entry=N1, suggestion=N1, auto_accept=True),
    Case("serial and ว lost by OCR: the same",
         letter("ลป 0017.1/", "2015-06-15", E_DOCUMENT, confidence=0.6), (),
         entry=N1, suggestion=N1, auto_accept=True),
    Case("serial lost, another agency read: flagged",
         letter("ลป 0017.2/ว", "2015-06-15", E_DOCUMENT, confidence=0.6), (Flag.NUMBER_INCOMPLETE,)),
    Case("not a letter",
         letter(None, kind=DocumentKind.NOT_LETTER), ()),
    # A number not read (or read unsurely and not found): the one entry of that date with that subject.
    Case("no number read: the one entry of the date with the subject, accepted",
         letter(None, "2015-06-15", E_DOCUMENT), (), entry=N1, suggestion=N1, auto_accept=True),
    Case("no number read, two entries of the date with the subject: nothing",
         letter(None, "2024-05-01", "ขอความร่วมมือรายงานข้อมูล"), ()),
    Case("no number read, no entry of the date with the subject: nothing",
         letter(None, "2015-06-15", OTHER), ()),
    Case("no number read, the subject only similar: nothing",
         letter(None, "2018-02-14", SIMILAR), ()),
    Case("already received",
         letter(N2, "2018-02-14", STANDARDS), (Flag.DUPLICATE,), entry=N2, duplicate_of=41),
    Case("already received and the subject differs",
         letter(N2, "2018-02-14", OTHER), (Flag.REGISTER_MISMATCH, Flag.DUPLICATE),
         entry=N2, duplicate_of=41),
    # The glyph-confusion neighbourhood: one digit off, in a confusable pair.
    Case("agency one confusable digit off: suggestion, review",
         letter("ลป ๐๐๑๓.๑/ว ๑๔๑๕๕", "2015-06-15", E_DOCUMENT), SUGGESTED, suggestion=N1),
    Case("serial one confusable digit off: suggestion, review (as read, not yet a duplicate of 41)",
         letter(MISREAD_SERIAL, "2018-02-14", STANDARDS), SUGGESTED, suggestion=N2),
    Case("low confidence, subject agrees closely: accepted without review",
         letter(MISREAD_AGENCY, "2015-06-15", E_DOCUMENT, confidence=0.5), (),
         entry=N1, suggestion=N1, auto_accept=True),
    Case("low confidence, accepted, and that number was already received",
         letter(MISREAD_SERIAL, "2018-02-14", STANDARDS, confidence=0.5), (Flag.DUPLICATE,),
         entry=N2, suggestion=N2, auto_accept=True, duplicate_of=41),
    Case("low confidence, subject only similar: suggestion, review",
         letter(MISREAD_SERIAL, "2018-02-14", SIMILAR, confidence=0.5), SUGGESTED, suggestion=N2),
    Case("confidence exactly at the threshold is not low",
         letter(MISREAD_AGENCY, "2015-06-15", E_DOCUMENT, confidence=0.8), SUGGESTED, suggestion=N1),
    Case("the neighbour's date disagrees: no suggestion",
         letter(MISREAD_AGENCY, "2015-06-16", E_DOCUMENT, confidence=0.5), NOT_FOUND),
    Case("date unreadable: no suggestion",
         letter(MISREAD_AGENCY, None, E_DOCUMENT, confidence=0.5), NOT_FOUND),
    Case("the neighbour's subject disagrees: no suggestion",
         letter(MISREAD_AGENCY, "2015-06-15", OTHER, confidence=0.5), NOT_FOUND),
    Case("two neighbours qualify: no suggestion",
         letter("ลป 0017.2/7005", "2024-05-01", "ขอความร่วมมือรายงานข้อมูล", confidence=0.5), NOT_FOUND),
    Case("one digit off, but not a confusable pair (1↔5): read surely, not found",
         letter("ลป 0017.1/ว 54155", "2015-06-15", E_DOCUMENT), NOT_FOUND),
    Case("two confusable digits off: read surely, not found",
         letter("ลป 0013.1/ว 14165", "2015-06-15", E_DOCUMENT), NOT_FOUND),
    Case("unsure, not a neighbour, but the one entry of the date with the subject: accepted",
         letter("ลป 0013.1/ว 14165", "2015-06-15", E_DOCUMENT, confidence=0.5), (),
         entry=N1, suggestion=N1, auto_accept=True),
    Case("unsure, the one entry of the date with the subject has another code: not found",
         letter("มท 0013.1/ว 14165", "2015-06-15", E_DOCUMENT, confidence=0.5), NOT_FOUND),
    Case("unsure, a code that is no code (ศธ read ถ5): the one entry of the date with the subject",
         letter("ถ5 0013.1/ว 14165", "2015-06-15", E_DOCUMENT, confidence=0.5), (),
         entry=N1, suggestion=N1, auto_accept=True),
    Case("unsure, the entry of the date with the subject is not a circular: not found",
         letter("ลป 0013.1/14165", "2015-06-15", E_DOCUMENT, confidence=0.5), NOT_FOUND),
]


def outcome(v: Validation) -> tuple:
    return (tuple(v.flags), v.entry.number.canonical if v.entry else None,
            v.suggestion.entry.number.canonical if v.suggestion else None,
            bool(v.suggestion and v.suggestion.auto_accept), v.duplicate_of)


def expected(case: Case) -> tuple:
    return (case.flags, case.entry, case.suggestion, case.auto_accept, case.duplicate_of)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rules_with_an_in_memory_register(case: Case) -> None:
    result = validate(case.letter, DictRegister(REGISTER, RECEIVED), number_threshold=0.8)
    assert outcome(result) == expected(case)


def test_mismatch_details_say_what_differs() -> None:
    register = DictRegister(REGISTER, {})
    result = validate(letter(N1, "2015-06-16", OTHER), register)
    mismatch: dict = result.details["mismatch"]  # type: ignore[assignment]
    assert mismatch["date"] == {"letter": "2015-06-16", "register": "2015-06-15"}
    assert mismatch["subject"]["register"] == E_DOCUMENT
    assert mismatch["subject"]["letter"] == OTHER and mismatch["subject"]["similarity"] < SUBJECT_SIMILARITY


def test_suggestion_carries_its_evidence() -> None:
    read = letter(MISREAD_AGENCY, "2015-06-15", E_DOCUMENT, confidence=0.93)
    result = validate(read, DictRegister(REGISTER, {}))
    assert result.suggestion is not None and result.entry is None
    assert result.suggestion.read == "ลป 0013.1/ว 14155"
    assert result.suggestion.evidence == {"read": "ลป 0013.1/ว 14155", "register": "ลป 0017.1/ว 14155",
                                          "date_agrees": True, "subject_similarity": 100.0,
                                          "number_confidence": 0.93}


def test_the_review_threshold_is_the_callers() -> None:
    read = letter(MISREAD_AGENCY, "2015-06-15", E_DOCUMENT, confidence=0.85)
    assert validate(read, DictRegister(REGISTER, {}), number_threshold=0.8).suggestion.auto_accept is False  # type: ignore[union-attr]
    assert validate(read, DictRegister(REGISTER, {}), number_threshold=0.9).suggestion.auto_accept is True  # type: ignore[union-attr]


def test_confusable_neighbourhood() -> None:
    near = confusable_neighbours(number("ลป 0017.1/ว 45"))
    assert {"ลป 0017.1/ว 44", "ลป 0017.1/ว 55", "ลป 0017.1/ว 46", "ลป 0013.1/ว 45", "ลป 0017.7/ว 45"} <= near
    assert "ลป 0017.1/ว 45" not in near  # never itself
    assert "ลป 0017.1/ว 47" not in near  # 5↔7 is not a confusable pair
    assert "ลป 0017.1/45" not in near and "ลป 0017.1/ว 445" not in near  # one digit changed, nothing else
    assert all(n.startswith("ลป 0017.1/ว ") or n.endswith("/ว 45") for n in near)  # serial or agency
    # A serial never gains a leading zero: 6→0 in the first place is not a serial anyone wrote.
    assert "ลป 0017.1/ว 5" not in confusable_neighbours(number("ลป 0017.1/ว 65"))
    blank = confusable_neighbours(number("พร 0023.1/ว"))
    assert "พร 0028.1/ว" in blank and all(n.endswith("/ว") for n in blank)  # blank serial: agency only
    # The confusions domain.md §5 measured for stock Tesseract are all in the neighbourhood.
    for printed, read in (("4", "5"), ("6", "5"), ("8", "5"), ("9", "5"), ("7", "3"), ("6", "0"), ("6", "2")):
        assert f"ลป 0017.1/ว 1{printed}" in confusable_neighbours(number(f"ลป 0017.1/ว 1{read}"))


def test_subject_similarity_is_thai_aware() -> None:
    # ำ written as two characters, marks lost, a space added: the same subject.
    assert subject_similarity(STANDARDS, "การกําหนดมาตรฐาน และความเปนธรรมในการปฏิบตงาน") == 100.0
    assert subject_similarity("ครั้งที่ ๑๑/๒๕๖๕", "ครั้งที่ 11/2565") == 100.0
    assert SUBJECT_SIMILARITY <= subject_similarity(STANDARDS, SIMILAR) < AUTO_CORRECT_SUBJECT
    assert subject_similarity(STANDARDS, OTHER) < SUBJECT_SIMILARITY


# --- the same rules against the database -----------------------------------------------------------

def _load(session: Session, entries: Iterable[RegisterEntry], received: dict[tuple[str, int], int]) -> None:
    upsert(session, [RegisterRecord(e.number, e.date, e.subject, e.sender, row)
                     for row, e in enumerate(entries, start=2)])
    for (canonical, year), letter_id in received.items():
        session.add(_letter_row(letter_id, canonical, year))
    session.flush()


def _letter_row(letter_id: int, canonical: str, year: int, duplicate_of: int | None = None) -> LetterRow:
    return LetterRow(id=letter_id, sha256=f"{letter_id:064x}", file_name=f"{letter_id}.pdf", kind="letter",
                     number=canonical, number_year=year, sender_code=number(canonical).sender_code,
                     status="routed", duplicate_of=duplicate_of)


def test_sql_register_answers_as_the_rules_expect(app: App) -> None:
    """Every case above, against SqlRegister on this backend: the same outcome as in memory."""
    with app.db.session() as session:
        _load(session, REGISTER, RECEIVED)
    with app.db.session() as session:
        register = SqlRegister(session)
        got = {c.name: outcome(validate(c.letter, register, number_threshold=0.8)) for c in CASES}
    assert got == {c.name: expected(c) for c in CASES}


def test_sql_register_lookups(app: App) -> None:
    with app.db.session() as session:
        _load(session, REGISTER, RECEIVED)
        session.add(_letter_row(42, N2, 2018, duplicate_of=41))  # a re-scan: not a second arrival
        session.add(_letter_row(43, "ลป 0421/4042", 2022))
    with app.db.session() as session:
        register = SqlRegister(session)
        n4042 = number("ลป 0421/4042")
        assert register.find(n4042, 2022).subject == MEETING  # type: ignore[union-attr]
        assert register.find(n4042, None) is None  # two years have it: the year decides, not a guess
        assert register.find(number("ลป 0017.5/4386"), None).date == dt.date(2018, 2, 14)  # type: ignore[union-attr]
        assert register.find(number("ลป 0017.5/4386"), 2019) is None
        series = {e.number.canonical for e in register.same_series(number("ลป 0017.2/7005"), 2024)}
        assert series == {"ลป 0017.2/7006", "ลป 0017.2/7065"}
        assert register.same_series(number("ลป 0017.2/7005"), 2023) == []
        assert register.received(number("ลป 0017.5/4386"), 2018) == 41
        assert register.received(number("ลป 0421/4042"), 2023) is None  # serials restart: another letter
        # While a letter is re-checked (e.g. after review), it is not its own duplicate.
        assert SqlRegister(session, exclude_letter=43).received(n4042, 2022) is None
        assert SqlRegister(session, exclude_letter=41).received(number("ลป 0017.5/4386"), 2018) is None


def test_migrations_build_the_schema_the_tables_declare(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The register's date index (and every other) comes from the migrations, not only the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from storage.database import Database
    from storage.tables import Base

    database = Database(f"sqlite:///{tmp_path / 'schema.db'}")
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    database.dispose()
    assert differences == []


def test_settle_takes_what_the_register_knows() -> None:
    from pipeline.validate import settle

    register = DictRegister(REGISTER, {})
    # A date that could not be read: the register's, once the number and subject agree.
    read = letter(N1, None, E_DOCUMENT)
    settle(read, validate(read, register))
    assert read.date.value == dt.date(2015, 6, 15) and read.date.confidence >= 0.9
    assert read.number.confidence >= 0.99
    # A number that could not be read: the one entry of the date with the subject.
    read = letter(None, "2015-06-15", E_DOCUMENT)
    settle(read, validate(read, register))
    assert read.number.value is not None and read.number.value.canonical == N1
    assert "ทะเบียน" in read.number.source
    # A date read a little unsurely still finds the entry with the subject; an unsure one does not.
    for date_confidence, found in ((0.75, True), (0.6, False)):
        read = letter(None, "2015-06-15", E_DOCUMENT)
        read.date = Field(read.date.value, date_confidence)
        settle(read, validate(read, register))
        assert (read.number.value is not None) is found
    # Neither read: nothing to look up by, nothing taken.
    read = letter(None, None, E_DOCUMENT)
    settle(read, validate(read, register))
    assert read.number.value is None and read.date.value is None
    # A date as good as unread (an implausible year): the number is found in any year, the date is
    # the register's.
    read = letter(N1, "2050-06-15", E_DOCUMENT)
    read.date = Field(read.date.value, 0.3)
    validation = validate(read, register)
    assert validation.entry is not None and validation.flags == []
    settle(read, validation)
    assert read.date.value == dt.date(2015, 6, 15)
    # …and only a letter received with that number in the entry's year is a duplicate of it.
    received_other_year = DictRegister(REGISTER, {(N1, 2016): 77})
    read = letter(N1, "2050-06-15", E_DOCUMENT)
    read.date = Field(read.date.value, 0.3)
    assert validate(read, received_other_year).duplicate_of is None
    assert validate(read, DictRegister(REGISTER, {(N1, 2015): 78})).duplicate_of == 78
    # A serial OCR lost, completed from the register, is no longer an incomplete number.
    read = letter("ลป 0017.1/ว", "2015-06-15", E_DOCUMENT, confidence=0.6)
    read.review_reasons.append(Flag.NUMBER_INCOMPLETE)
    settle(read, validate(read, register))
    assert read.number.value is not None and read.number.value.canonical == N1
    assert Flag.NUMBER_INCOMPLETE not in read.review_reasons
    # A date read that disagrees: a mismatch for a person, the date stays as read.
    read = letter(N1, "2015-06-16", E_DOCUMENT)
    settle(read, validate(read, register))
    assert read.date.value == dt.date(2015, 6, 16)
