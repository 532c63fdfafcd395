"""The outgoing register against what actually arrived, pure (domain.md §6).

Provinces hand out numbers from a central register; units must then scan the signed letter and
send it. Three things go wrong, and this finds each, with counts per sender unit:

- a number was taken and no scanned letter arrived within `grace_days` (taken but never sent);
- a scanned letter carries a number the register does not know (or a blank serial);
- the same letter arrived twice (a re-scan with the same number, or the very same file again).

A letter whose misread number has a register suggestion waiting for review counts as the arrival
of the suggested number: it is listed as unknown, with the suggestion, but its register entry is
not reported as unsent.

    >>> entry = RegisteredNumber("ลป 0017.1/ว 5", 2024, dt.date(2024, 3, 1), "ขอเชิญประชุม", "จังหวัดลำปาง")
    >>> report = reconcile([entry], [], [], as_of=dt.date(2024, 3, 20), grace_days=7)
    >>> [(u.number, u.days_waiting) for u in report.unsent]
    [('ลป 0017.1/ว 5', 19)]
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache

from pipeline.extract.number import parse_number

UNKNOWN_SENDER = "ไม่ทราบหน่วยงานผู้ส่ง"

# Finding codes, shared by the CSV and JSON outputs.
NOT_IN_REGISTER = "not_in_register"
NUMBER_INCOMPLETE = "number_incomplete"
SAME_NUMBER = "same_number"  # the letter scanned again: new bytes, a number already received
SAME_FILE = "same_file"  # the very same file (sha256) taken in again


@dataclass(frozen=True)
class RegisteredNumber:
    """One row of the outgoing register."""

    number: str  # canonical
    year: int
    date: dt.date
    subject: str
    sender: str = ""  # the sender unit, as the register names it

    @property
    def sender_code(self) -> str | None:
        return _parsed(self.number)[0]


@dataclass(frozen=True)
class ScannedLetter:
    """A letter as stored after intake."""

    letter_id: int
    number: str | None  # canonical, as read (or as corrected); None for non-letters
    year: int | None
    date: dt.date | None  # the letter's own date
    received_on: dt.date  # the day it was scanned in
    file: str = ""
    sender_code: str | None = None
    suggestion: str | None = None  # a register number proposed for a misread number, pending review
    duplicate_of: int | None = None  # an earlier letter with the same number

    @property
    def complete(self) -> bool:
        return self.number is not None and _parsed(self.number)[1]

    @property
    def day(self) -> dt.date:
        """The day `--since` is compared with: the letter's date, else the day it arrived."""
        return self.date or self.received_on


@dataclass(frozen=True)
class RepeatedFile:
    """The same bytes taken in again: recorded, never stored twice."""

    letter_id: int  # the letter stored the first time
    file: str
    received_on: dt.date


@dataclass(frozen=True)
class Unsent:
    number: str
    year: int
    date: dt.date
    subject: str
    sender: str
    days_waiting: int


@dataclass(frozen=True)
class Unknown:
    letter_id: int
    number: str | None
    date: dt.date | None
    sender: str
    file: str
    finding: str  # NOT_IN_REGISTER | NUMBER_INCOMPLETE
    suggestion: str | None = None


@dataclass(frozen=True)
class Duplicate:
    original_id: int
    letter_id: int | None  # the second letter; None when the same file was not stored again
    number: str | None
    sender: str
    file: str
    finding: str  # SAME_NUMBER | SAME_FILE


@dataclass
class SenderCounts:
    sender: str
    unsent: int = 0
    unknown: int = 0
    duplicates: int = 0

    @property
    def total(self) -> int:
        return self.unsent + self.unknown + self.duplicates


@dataclass
class Reconciliation:
    as_of: dt.date
    grace_days: int
    since: dt.date | None
    unsent: list[Unsent] = field(default_factory=list)
    unknown: list[Unknown] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    by_sender: list[SenderCounts] = field(default_factory=list)

    def to_json(self) -> dict:
        """The `saraban reconcile --format json` shape: ISO dates, one object."""
        def plain(item: object) -> dict:
            return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in asdict(item).items()}  # type: ignore[call-overload]

        return {
            "as_of": self.as_of.isoformat(), "grace_days": self.grace_days,
            "since": self.since.isoformat() if self.since else None,
            "unsent": [plain(u) for u in self.unsent],
            "unknown": [plain(u) for u in self.unknown],
            "duplicates": [plain(d) for d in self.duplicates],
            "by_sender": [{**asdict(s), "total": s.total} for s in self.by_sender],
            "totals": {"unsent": len(self.unsent), "unknown": len(self.unknown),
                       "duplicates": len(self.duplicates)},
        }


def reconcile(register: Iterable[RegisteredNumber], letters: Iterable[ScannedLetter],
              repeated: Iterable[RepeatedFile], *, as_of: dt.date, grace_days: int = 7,
              since: dt.date | None = None) -> Reconciliation:
    """Everything the register and the scans disagree on, from `since` (a date) on."""
    entries, scanned = list(register), list(letters)
    senders = _sender_names(entries)

    def sender_of(letter: ScannedLetter | None) -> str:
        if letter is None:
            return UNKNOWN_SENDER
        return senders.get(letter.sender_code or "") or letter.sender_code or UNKNOWN_SENDER

    def in_window(day: dt.date) -> bool:
        return since is None or day >= since

    report = Reconciliation(as_of, grace_days, since)
    report.unsent = _unsent(entries, scanned, as_of - dt.timedelta(days=grace_days), as_of, in_window)
    report.unknown = [Unknown(s.letter_id, s.number, s.date, sender_of(s), s.file, finding, s.suggestion)
                      for s, finding in _unknown(entries, scanned) if in_window(s.day)]
    by_id = {s.letter_id: s for s in scanned}
    report.duplicates = [
        Duplicate(s.duplicate_of, s.letter_id, s.number, sender_of(s), s.file, SAME_NUMBER)
        for s in sorted(scanned, key=lambda s: s.letter_id) if s.duplicate_of is not None and in_window(s.day)]
    for repeat in sorted(repeated, key=lambda r: (r.received_on, r.letter_id, r.file)):
        original = by_id.get(repeat.letter_id)
        if in_window(original.day if original else repeat.received_on):
            report.duplicates.append(Duplicate(repeat.letter_id, None, original.number if original else None,
                                               sender_of(original), repeat.file, SAME_FILE))
    report.by_sender = _counts(report)
    return report


def _unsent(entries: list[RegisteredNumber], scanned: list[ScannedLetter], due: dt.date, as_of: dt.date,
            in_window: Callable[[dt.date], bool]) -> list[Unsent]:
    """Register numbers dated on or before `due` that no letter carries (nor is suggested for)."""
    arrived: set[tuple[str, int | None]] = set()
    arrived_any_year: set[str] = set()  # from letters whose date could not be read
    for letter in scanned:
        for number in (letter.number, letter.suggestion):
            if number is not None:
                arrived.add((number, letter.year))
                if letter.year is None:
                    arrived_any_year.add(number)
    return [Unsent(e.number, e.year, e.date, e.subject, e.sender or e.sender_code or UNKNOWN_SENDER,
                   (as_of - e.date).days)
            for e in sorted(entries, key=lambda e: (e.date, e.number))
            if in_window(e.date) and e.date <= due
            and (e.number, e.year) not in arrived and e.number not in arrived_any_year]


def _unknown(entries: list[RegisteredNumber], scanned: list[ScannedLetter]) -> list[tuple[ScannedLetter, str]]:
    """Letters (first arrivals) whose number the register does not know, with the finding."""
    known = {(e.number, e.year) for e in entries}
    known_numbers = Counter(e.number for e in entries)
    found = []
    for letter in sorted(scanned, key=lambda s: s.letter_id):
        if letter.number is None or letter.duplicate_of is not None:
            continue
        # A letter without a readable date matches when its number is unique in the register.
        registered = (letter.number, letter.year) in known or (
            letter.year is None and known_numbers[letter.number] == 1)
        if not letter.complete:
            found.append((letter, NUMBER_INCOMPLETE))
        elif not registered:
            found.append((letter, NOT_IN_REGISTER))
    return found


@lru_cache(maxsize=65536)
def _parsed(number: str) -> tuple[str | None, bool]:
    """(sender code, serial present) of a canonical number."""
    parsed = parse_number(number)
    return (parsed.sender_code, parsed.complete) if parsed else (None, False)


def _sender_names(entries: list[RegisteredNumber]) -> dict[str, str]:
    """Sender code (`ลป 0017.1`) → the unit the register most often names for it."""
    seen: dict[str, Counter[str]] = {}
    for e in entries:
        code = e.sender_code
        if code and e.sender:
            seen.setdefault(code, Counter())[e.sender] += 1
    return {code: names.most_common(1)[0][0] for code, names in seen.items()}


def _counts(report: Reconciliation) -> list[SenderCounts]:
    counts: dict[str, SenderCounts] = {}

    def of(sender: str) -> SenderCounts:
        return counts.setdefault(sender, SenderCounts(sender))

    for u in report.unsent:
        of(u.sender).unsent += 1
    for k in report.unknown:
        of(k.sender).unknown += 1
    for d in report.duplicates:
        of(d.sender).duplicates += 1
    return sorted(counts.values(), key=lambda c: (-c.total, c.sender))
