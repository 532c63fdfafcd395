"""Dates as Thai letters write them (domain.md §4), to Gregorian `datetime.date`.

    >>> parse_date("๑๔ กุมภาพันธ์ ๒๕๖๑")
    datetime.date(2018, 2, 14)
    >>> parse_date("19 พ.ย. 67")
    datetime.date(2024, 11, 19)
    >>> parse_date("วันที่ ๑ ก.พ. ๒๕๖๗")
    datetime.date(2024, 2, 1)
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from pipeline.thai import MONTHS, be_year_to_ce, month_number, normalize_text, strip_marks, to_arabic_digits

_FULL = [full for full, _abbr in MONTHS]
_ABBR = [abbr for _full, abbr in MONTHS]
_CHOICES = _FULL + _ABBR + [a.replace(".", "") for a in _ABBR]
_KEYS = [strip_marks(c) for c in _CHOICES]
_DATE = re.compile(
    r"(?P<day>\d{1,2})\s*(?P<month>[ก-๏.][ก-๏.\s]{1,14}?)\s*(?:พ\.?\s*ศ\.?\s*)?(?P<year>\d{4}|\d{2})(?!\d)"
)
_LABELS = re.compile(r"^\s*(?:ลงวันที่|วันที่)\s*")

EARLIEST_YEAR = 1950
LATEST_YEAR = 2100


@dataclass(frozen=True)
class DateReading:
    date: dt.date
    month_score: float  # 0..1: how exactly the month name was read
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
    key = strip_marks(word)
    found = process.extract(key, _KEYS, scorer=fuzz.ratio, limit=6)
    if not found or found[0][1] < 72:
        return None
    # Without marks ม.ค. and มี.ค. look alike: among equal skeletons the marks as read decide.
    top = found[0][1]
    tied = [(s, fuzz.ratio(word, _CHOICES[i]), i) for _k, s, i in found if s == top]
    score, exactness, index = max(tied)
    confidence = max(0.5, min(score / 100.0, (100 + exactness) / 200))
    if len({i % 12 for _s, _e, i in tied}) > 1:
        confidence = min(confidence, 0.6)  # two months fit equally: a person must look
    return index % 12 + 1, confidence


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
        year = be_year_to_ce(int(match.group("year")))
        if not earliest <= year <= latest:
            continue
        try:
            date = dt.date(year, month[0], int(match.group("day")))
        except ValueError:
            continue
        return DateReading(date, month[1], match.group(0))
    return None
