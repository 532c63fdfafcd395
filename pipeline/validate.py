"""Register rules, pure: given what the outgoing register says, what is wrong with a letter.

The register is reached through `RegisterLookup`, so these rules know nothing of databases:
storage/register.py answers the questions, tests answer them from a dict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from rapidfuzz import fuzz

from pipeline.extract.date import agrees_in_part
from pipeline.extract.number import is_known_code
from pipeline.models import DocumentKind, Flag, Letter, LetterNumber
from pipeline.thai import LOOK_ALIKE_DIGITS, LOOK_ALIKE_LETTERS, normalize_text, strip_marks

# Subjects typed into the register and printed on the letter differ in small ways (spacing,
# abbreviations, a dropped mark in OCR): token-set similarity on mark-stripped text.
SUBJECT_SIMILARITY = 80.0
# With a register entry this close, a low-confidence number read is corrected without review.
AUTO_CORRECT_SUBJECT = 92.0
# A date read with less confidence may be completed from the register when month and year agree.
DATE_TRUSTED = 0.8
DATE_UNREAD = 0.5  # a date read less surely than this is as good as unread
DATE_FOR_LOOKUP = 0.7  # a date this sure may find a letter's entry together with its subject
REGISTER_DATE = 0.9  # confidence of a date taken from the register when none could be read
# A subject read this close to the register's is the register's (typed from the same letter, no OCR noise).
ADOPT_REGISTER_SUBJECT = 90.0

# Digits and code letters that OCR confuses (ลป read as สป, กค as คค), as pairs.
CONFUSABLE: frozenset[frozenset[str]] = frozenset(frozenset(pair) for pair in LOOK_ALIKE_DIGITS)
CONFUSABLE_LETTERS: frozenset[frozenset[str]] = frozenset(frozenset(pair) for pair in LOOK_ALIKE_LETTERS)


@dataclass(frozen=True)
class RegisterEntry:
    number: LetterNumber
    date: dt.date
    subject: str
    sender: str = ""


class RegisterLookup(Protocol):
    def find(self, number: LetterNumber, year: int | None) -> RegisterEntry | None: ...

    def same_series(self, number: LetterNumber, year: int | None) -> Iterable[RegisterEntry]:
        """Entries of the same code and agency (and circular series) in that year."""
        ...

    def on_date(self, date: dt.date) -> Iterable[RegisterEntry]:
        """Entries sent on that date (for a letter whose number could not be read)."""
        ...

    def received(self, number: LetterNumber, year: int | None) -> int | None:
        """The id of a letter already received with this number, if any."""
        ...


@dataclass(frozen=True)
class Suggestion:
    """A register entry the read number is probably a misreading of, and why we think so."""

    entry: RegisterEntry
    read: str
    evidence: dict[str, object]
    auto_accept: bool = False


@dataclass
class Validation:
    flags: list[Flag] = field(default_factory=list)
    entry: RegisterEntry | None = None
    suggestion: Suggestion | None = None
    duplicate_of: int | None = None
    details: dict[str, object] = field(default_factory=dict)

    @property
    def confirmed(self) -> bool:
        """The register knows this number and agrees with the letter's date and subject."""
        return self.entry is not None and Flag.REGISTER_MISMATCH not in self.flags


def settle(letter: Letter, validation: Validation) -> None:
    """Apply what the register says to the letter as read.

    An auto-accepted correction replaces the number read; what the register confirms is certain
    (confidence raised); a date that could not be read (or hardly) is the register's; the register's
    typed subject replaces a read one that differs from it only by OCR noise.
    """
    from pipeline.models import Field

    suggestion = validation.suggestion
    if suggestion is not None and suggestion.auto_accept:
        letter.number = Field(suggestion.entry.number, max(letter.number.confidence, 0.9),
                              f"{letter.number.source} → ทะเบียน: {suggestion.entry.number.canonical}")
        if suggestion.entry.number.complete and Flag.NUMBER_INCOMPLETE in letter.review_reasons:
            letter.review_reasons.remove(Flag.NUMBER_INCOMPLETE)  # the serial OCR lost, from the register
    entry = validation.entry
    if entry is None or not validation.confirmed:
        return

    letter.number = Field(entry.number, max(letter.number.confidence, 0.99), letter.number.source)
    if letter.date.value == entry.date:
        letter.date = Field(entry.date, max(letter.date.confidence, 0.99), letter.date.source)
    elif dates_agree(letter, entry):  # a damaged date that shows the register's month and year
        letter.date = Field(entry.date, max(letter.date.confidence, 0.9), letter.date.source)
    elif letter.date.value is None or letter.date.confidence < DATE_UNREAD:
        # No date could be read (or hardly: an implausible year, a month barely matched): the
        # register's, for this number and subject.
        letter.date = Field(entry.date, REGISTER_DATE, f"{letter.date.source} → ทะเบียน".strip())
    subject = letter.subject.value
    if subject is not None and subject_similarity(subject, entry.subject) >= ADOPT_REGISTER_SUBJECT:
        letter.subject = Field(normalize_text(entry.subject), max(letter.subject.confidence, 0.95),
                               letter.subject.source or subject)
    from pipeline.confidence import uncertain_fields

    if Flag.LOW_CONFIDENCE in letter.review_reasons and not uncertain_fields(letter):
        letter.review_reasons.remove(Flag.LOW_CONFIDENCE)


def subject_similarity(a: str, b: str) -> float:
    """0–100, tolerant of spacing, word order and lost marks.

    >>> subject_similarity("ขอเชิญประชุม ครั้งที่ 2/2567", "ขอเชิญประชุม  ครั้งที่ ๒/๒๕๖๗") > 95
    True
    """
    from pipeline.thai import to_arabic_digits

    x = strip_marks(to_arabic_digits(normalize_text(a)))
    y = strip_marks(to_arabic_digits(normalize_text(b)))
    return max(fuzz.token_set_ratio(x, y), fuzz.ratio(x.replace(" ", ""), y.replace(" ", "")))


def confusable_neighbours(number: LetterNumber) -> set[str]:
    """Canonical numbers one confusable digit (serial or agency) or code letter away from `number`.

    >>> neighbours = confusable_neighbours(LetterNumber("ลป", "0017.1", True, 45))
    >>> "ลป 0017.1/ว 44" in neighbours and "ลป 0013.1/ว 45" in neighbours and "ลป 0017.1/ว 45" not in neighbours
    True
    """
    out: set[str] = set()
    variants: list[LetterNumber] = []
    if number.serial is not None:
        serial = str(number.serial)
        for i, digit in enumerate(serial):
            for pair in CONFUSABLE:
                if digit in pair:
                    other = next(iter(pair - {digit}))
                    candidate = serial[:i] + other + serial[i + 1:]
                    if candidate[0] != "0":
                        variants.append(LetterNumber(number.code, number.agency, number.circular, int(candidate)))
    for i, digit in enumerate(number.agency):
        for pair in CONFUSABLE:
            if digit in pair:
                other = next(iter(pair - {digit}))
                variants.append(LetterNumber(number.code, number.agency[:i] + other + number.agency[i + 1:],
                                             number.circular, number.serial))
    for i, letter in enumerate(number.code):
        for pair in CONFUSABLE_LETTERS:
            if letter in pair:
                other = next(iter(pair - {letter}))
                code = number.code[:i] + other + number.code[i + 1:]
                variants.append(LetterNumber(code, number.agency, number.circular, number.serial))
    for v in variants:
        out.add(v.canonical)
    out.discard(number.canonical)
    return out


def validate(letter: Letter, register: RegisterLookup, *, number_threshold: float = 0.8) -> Validation:
    """Apply the register rules to one read letter."""
    result = Validation()
    number = letter.number.value
    if letter.kind is DocumentKind.NOT_LETTER:
        return result
    unsure = letter.number.confidence < number_threshold
    if number is not None and not number.complete:
        # A blank serial is flagged (domain.md §3) — unless it was read unsurely and the register
        # has this letter by its date and subject: then OCR lost the serial.
        found = _suggest_by_date_and_subject(letter, number, register) if unsure else None
        if found is None:
            result.flags.append(Flag.NUMBER_INCOMPLETE)
            return result
        number = found.entry.number
        result.suggestion, result.entry = found, found.entry
    # The year the serial belongs to; from a date as good as unread (2050 for 2024), any year.
    year = letter.year if letter.date.confidence >= DATE_UNREAD else None
    entry = register.find(number, year) if number is not None and result.entry is None else None
    if entry is not None:
        result.entry = entry
        problems = _mismatch(letter, entry)
        if problems:
            result.flags.append(Flag.REGISTER_MISMATCH)
            result.details["mismatch"] = problems
    elif result.entry is None:
        suggestion = _suggest(letter, number, register, number_threshold) if number is not None else None
        if suggestion is None and unsure:
            suggestion = _suggest_by_date_and_subject(letter, number, register)
        if suggestion is None and number is None:
            return result  # nothing read, nothing found: the unread number sends the letter to review
        if suggestion is not None:
            result.suggestion = suggestion
            if suggestion.auto_accept:
                result.entry = suggestion.entry
            else:
                result.flags.append(Flag.NUMBER_SUGGESTION)
        else:
            result.flags.append(Flag.NUMBER_NOT_IN_REGISTER)
    checked = result.entry.number if result.entry is not None else number
    if checked is None:
        return result
    # A serial is unique within its year: the register's entry knows the year when the date did not.
    duplicate = register.received(checked, result.entry.date.year if result.entry is not None else year)
    if duplicate is not None:
        result.flags.append(Flag.DUPLICATE)
        result.duplicate_of = duplicate
    return result


def dates_agree(letter: Letter, entry: RegisterEntry) -> bool:
    """The letter's date is the register's: read exactly, or read too poorly to be sure but showing
    the same month and year (a lost day, a year cut short)."""
    if letter.date.value == entry.date:
        return True
    unsure = letter.date.value is None or letter.date.confidence < DATE_TRUSTED
    return unsure and bool(letter.date.source) and agrees_in_part(letter.date.source, entry.date)


def _mismatch(letter: Letter, entry: RegisterEntry) -> dict[str, object]:
    problems: dict[str, object] = {}
    if letter.date.value is not None and letter.date.confidence >= DATE_UNREAD and not dates_agree(letter, entry):
        problems["date"] = {"letter": letter.date.value.isoformat(), "register": entry.date.isoformat()}
    if letter.subject.value:
        similarity = subject_similarity(letter.subject.value, entry.subject)
        if similarity < SUBJECT_SIMILARITY:
            problems["subject"] = {"letter": letter.subject.value, "register": entry.subject,
                                   "similarity": round(similarity, 1)}
    return problems


def _suggest(letter: Letter, number: LetterNumber, register: RegisterLookup,
             number_threshold: float) -> Suggestion | None:
    neighbours = confusable_neighbours(number)
    agreeing = []
    for entry in register.same_series(number, letter.year):
        if entry.number.canonical not in neighbours:
            continue
        same_date = letter.date.value is not None and entry.date == letter.date.value
        similarity = subject_similarity(letter.subject.value or "", entry.subject)
        if same_date and similarity >= SUBJECT_SIMILARITY:
            agreeing.append((entry, similarity))
    if len(agreeing) != 1:
        return None
    entry, similarity = agreeing[0]
    # Accept without review only when the number read was itself uncertain and the rest agrees closely.
    auto = letter.number.confidence < number_threshold and similarity >= AUTO_CORRECT_SUBJECT
    evidence = {"read": number.canonical, "register": entry.number.canonical, "date_agrees": True,
                "subject_similarity": round(similarity, 1), "number_confidence": letter.number.confidence}
    return Suggestion(entry, number.canonical, evidence, auto)


def _suggest_by_date_and_subject(letter: Letter, number: LetterNumber | None,
                                 register: RegisterLookup) -> Suggestion | None:
    """The one register entry of the letter's date whose subject is the letter's, when the number
    could not be read (or only unsurely): what a clerk does with a smudged number. What was read of
    the number must not contradict it (the circular mark, the code when it is a real one). The date
    may be a little unsure: a wrong one finds no entry with that subject."""
    date, subject = letter.date.value, letter.subject.value
    if date is None or letter.date.confidence < DATE_FOR_LOOKUP or not subject:
        return None
    agreeing = []
    for entry in register.on_date(date):
        # A number without its serial may have lost its ว with it; the agency was read, and must agree.
        if number is not None and ((number.complete and entry.number.circular != number.circular)
                                   or (is_known_code(number.code) and entry.number.code != number.code)
                                   or (not number.complete and entry.number.agency != number.agency)):
            continue
        similarity = subject_similarity(subject, entry.subject)
        if similarity >= AUTO_CORRECT_SUBJECT:
            agreeing.append((entry, similarity))
    if len(agreeing) != 1:
        return None
    entry, similarity = agreeing[0]
    read = number.canonical if number is not None else letter.number.source
    evidence = {"read": read, "register": entry.number.canonical, "found_by": "date_and_subject",
                "date_agrees": True, "subject_similarity": round(similarity, 1),
                "number_confidence": letter.number.confidence}
    return Suggestion(entry, read, evidence, auto_accept=True)


class MemoryRegister:
    """A `RegisterLookup` over entries held in memory (benchmarks, tests, small tools)."""

    def __init__(self, entries: Iterable[RegisterEntry], received: dict[tuple[str, int | None], int] | None = None):
        self._by_number: dict[tuple[str, int], RegisterEntry] = {}
        for entry in entries:
            self._by_number[(entry.number.canonical, entry.date.year)] = entry
        self._received = dict(received or {})

    def find(self, number: LetterNumber, year: int | None) -> RegisterEntry | None:
        if year is not None:
            return self._by_number.get((number.canonical, year))
        found = [e for (n, _y), e in self._by_number.items() if n == number.canonical]
        return found[0] if len(found) == 1 else None

    def same_series(self, number: LetterNumber, year: int | None) -> list[RegisterEntry]:
        neighbours = confusable_neighbours(number)
        return [e for (n, y), e in self._by_number.items() if n in neighbours and (year is None or y == year)]

    def on_date(self, date: dt.date) -> list[RegisterEntry]:
        return [e for e in self._by_number.values() if e.date == date]

    def received(self, number: LetterNumber, year: int | None) -> int | None:
        return self._received.get((number.canonical, year))

    def mark_received(self, number: LetterNumber, year: int | None, letter_id: int) -> None:
        self._received.setdefault((number.canonical, year), letter_id)
