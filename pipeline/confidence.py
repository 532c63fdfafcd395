"""How sure we are of each field, and when a letter must be looked at by a person.

Each field's confidence combines what the recognisers said (Tesseract per token, our glyph model
per digit), whether the text fits its grammar, and cross-checks (a plausible date; the register,
applied later in validation). Below the threshold the letter goes to review with the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pipeline.extract.number import number_plausibility
from pipeline.models import Letter, LetterNumber
from pipeline.ocr.header import HeaderText

# A field below its threshold sends the letter to review (tuned on bench/accuracy.py's set).
THRESHOLDS = {"number": 0.80, "date": 0.80, "subject": 0.70, "addressee": 0.70}


def _recognition(sources: Sequence[HeaderText]) -> float:
    if not sources:
        return 0.0
    return min(min(s.confidence, s.digit_confidence) for s in sources)


def number_confidence(number: LetterNumber | None, sources: Sequence[HeaderText]) -> float:
    if number is None:
        return 0.0
    return round(min(1.0, _recognition(sources) * 0.5 + 0.5) * number_plausibility(number), 3)


def date_confidence(date: dt.date | None, reading_score: float, sources: Sequence[HeaderText],
                    today: dt.date | None = None) -> float:
    if date is None:
        return 0.0
    today = today or dt.date.today()
    plausible = 1.0 if dt.date(1990, 1, 1) <= date <= today + dt.timedelta(days=366) else 0.6
    return round(min(1.0, _recognition(sources) * 0.5 + 0.5) * reading_score * plausible, 3)


def text_confidence(value: str | None, sources: Sequence[HeaderText]) -> float:
    if not value:
        return 0.0
    return round(_recognition(sources), 3)


def uncertain_fields(letter: Letter) -> list[str]:
    """The key fields read with less confidence than their threshold."""
    return [name for name, threshold in THRESHOLDS.items() if getattr(letter, name).confidence < threshold]
