"""Dates as Thai letters write them (domain.md §4), to Gregorian `datetime.date`.

    >>> parse_date("๑๔ กุมภาพันธ์ ๒๕๖๑")
    datetime.date(2018, 2, 14)
    >>> parse_date("19 พ.ย. 67")
    datetime.date(2024, 11, 19)
    >>> parse_date("วันที่ ๑ ก.พ. ๒๕๖๗")
    datetime.date(2024, 2, 1)
    >>> parse_date("๒๔ กรกฎาคม ๒๕ ๖๕")
    datetime.date(2022, 7, 24)
    >>> parse_date("17 ถุพ. 2566")  # ก read as ถ
    datetime.date(2023, 2, 17)
    >>> parse_date("๑๓ ก.พ. ๒๔๖๘")  # ๕ read as ๔: no letter is of 1925
    datetime.date(2025, 2, 13)
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from pipeline.thai import (
    LOOK_ALIKE_DIGITS,
    MONTHS,
    be_year_to_ce,
    fold_confusables,
    month_number,
    normalize_text,
    strip_marks,
    to_arabic_digits,
)

_FULL = [full for full, _abbr in MONTHS]
_ABBR = [abbr for _full, abbr in MONTHS]
_CHOICES = _FULL + _ABBR + [a.replace(".", "") for a in _ABBR]
_KEYS = [strip_marks(c).replace(".", "") for c in _CHOICES]
_FOLDED_KEYS = [fold_confusables(k) for k in _KEYS]
_DATE = re.compile(
    r"(?P<day>\d{1,2})\s*(?P<month>[ก-๏.][ก-๏.\s]{1,14}?)\s*[,;:]?\s*(?:พ\.?\s*ศ\.?\s*)?"
    r"(?P<year>\d{4}|\d{2} \d{2}|\d \d{3}|\d{3} \d|\d{2})(?!\d)"  # OCR may split a year (๒๕ ๖๕, 2 558)
)
_LABELS = re.compile(r"^\s*(?:ลงวันที่|วันที่)\s*")

EARLIEST_YEAR = 1950
CONFUSED_MONTH = 0.85  # how sure a month read with a confusable letter is
LATEST_YEAR = 2100
REPAIRED_YEAR = 0.6  # how sure a date is whose year was out of range until one digit became its look-alike


@dataclass(frozen=True)
class DateReading:
    date: dt.date
    score: float  # 0..1: how exactly the month name (and the year) was read
    text: str


def match_month(word: str) -> tuple[int, float] | None:
    """The month (1–12) a possibly misread month word stands for, and how sure (0..1)."""
    word = normalize_text(word).replace(" ", "")
    exact = month_number(word)
    if exact:
        return exact, 1.0
    if not word:
        return None
    # Compared without marks, which OCR adds and drops most (กุย. for ก.ย.); the score still
    # counts how far the word as read is from the month with its marks.
    key = strip_marks(word).replace(".", "")
    folded_key = fold_confusables(key)
    folded = [i % 12 + 1 for i, k in enumerate(_FOLDED_KEYS) if k == folded_key]
    if key not in _KEYS and len(set(folded)) == 1:
        return folded[0], CONFUSED_MONTH  # letters OCR confuses (ถ.พ. for ก.พ.): no other month reads so
    found = process.extract(key, _KEYS, scorer=fuzz.ratio, limit=6)
    # Abbreviations are two or three letters: one misread letter leaves 50–67 %, still worth a
    # (low-confidence) reading.
    if not found or found[0][1] < (50 if len(key) <= 3 else 72):
        return None
    # Without marks ม.ค. and มี.ค. look alike: among equal skeletons the marks as read decide.
    top = found[0][1]
    tied = [(s, fuzz.ratio(word, _CHOICES[i]), i) for _k, s, i in found if s == top]
    score, exactness, index = max(tied)
    confidence = max(0.5, min(score / 100.0, (100 + exactness) / 200))
    if len({i % 12 for _s, _e, i in tied}) > 1:
        confidence = min(confidence, 0.6)  # two months fit equally: a person must look
    return index % 12 + 1, confidence


def has_month(text: str) -> bool:
    """Whether some word of `text` is a month name (as read, marks lost and all)."""
    body = normalize_text(text)
    return any(match_month(word) is not None for word in re.findall(r"[ก-๏.]{2,}", body)
               if len(strip_marks(word).replace(".", "")) >= 2)


def agrees_in_part(text: str, date: dt.date) -> bool:
    """Whether a date too damaged to read (day lost, year cut short) still shows `date`'s month and
    the end of its year: then the register's date for the same number is this letter's.

    >>> agrees_in_part("ญข่ มีนาคม ๒๕๖๖", dt.date(2023, 3, 7))
    True
    >>> agrees_in_part("๓ พ.ย. ๖", dt.date(2024, 11, 3)), agrees_in_part("๓ พ.ย. ๒๕๖๖", dt.date(2024, 11, 3))
    (True, False)
    """
    body = to_arabic_digits(normalize_text(text))
    months = [match_month(word) for word in re.findall(r"[ก-๏.]{2,}", body)]
    if not any(m is not None and m[0] == date.month for m in months):
        return False
    numbers = re.findall(r"\d+", body)
    if numbers and numbers[0] == str(date.day):
        numbers = numbers[1:]  # the day, read
    be = str(date.year + 543)
    return not numbers or any(n in be or n in str(date.year) for n in numbers)


def parse_date(text: str, *, earliest: int = EARLIEST_YEAR, latest: int = LATEST_YEAR) -> dt.date | None:
    reading = read_date(text, earliest=earliest, latest=latest)
    return reading.date if reading else None


def read_date(text: str, *, earliest: int = EARLIEST_YEAR, latest: int = LATEST_YEAR) -> DateReading | None:
    """The first valid `<day> <month> <year>` in `text`, with how well its month matched."""
    body = _LABELS.sub("", to_arabic_digits(normalize_text(text)))
    for match in _DATE.finditer(body):
        month = match_month(match.group("month"))
        if month is None:
            continue
        year = _year(match.group("year").replace(" ", ""), earliest, latest)
        if year is None:
            continue
        try:
            date = dt.date(year[0], month[0], int(match.group("day")))
        except ValueError:
            continue
        return DateReading(date, month[1] * year[1], match.group(0))
    return None


def _year(digits: str, earliest: int, latest: int) -> tuple[int, float] | None:
    """The CE year of the year's digits, and how sure: as read when it is in range; else the only
    year in range one look-alike digit away (a letter of ๒๔๖๘, 1925, is ๒๕๖๘ misread)."""
    year = be_year_to_ce(int(digits))
    if earliest <= year <= latest:
        return year, 1.0
    if len(digits) != 4:
        return None
    repaired = {be_year_to_ce(int(digits[:i] + pair.replace(digit, "") + digits[i + 1:]))
                for i, digit in enumerate(digits) for pair in LOOK_ALIKE_DIGITS if digit in pair}
    in_range = [y for y in repaired if earliest <= y <= latest]
    return (in_range[0], REPAIRED_YEAR) if len(in_range) == 1 else None
