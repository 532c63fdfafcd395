"""Digits inside Tesseract's tokens, re-read by the glyph model (`pipeline.ocr.digits`)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from pipeline.models import Box
from pipeline.ocr.digits import merge, reread
from pipeline.ocr.glyphs import Glyph
from pipeline.ocr.tesseract import OcrLine, OcrToken
from samples.render import Page, debian_font, mm


def _line_image(text: str, font: str = "Garuda") -> np.ndarray:
    page = Page(debian_font(font))
    page.y = mm(20)
    page.text(page.left, text)
    gray = np.asarray(page.image.convert("L"))
    rows, cols = np.flatnonzero((gray < 128).any(axis=1)), np.flatnonzero((gray < 128).any(axis=0))
    return np.ascontiguousarray(gray[rows[0] - 10:rows[-1] + 10, cols[0] - 10:cols[-1] + 10])


def _glyph_columns(crop: np.ndarray) -> list[tuple[int, int]]:
    cols = np.flatnonzero((crop < 128).any(axis=0))
    breaks = np.flatnonzero(np.diff(cols) > 1)
    starts = [cols[0], *cols[breaks + 1]]
    ends = [*cols[breaks], cols[-1]]
    return [(int(a), int(b) + 1) for a, b in zip(starts, ends, strict=True)]


def test_a_year_tesseract_made_two_tokens_of_keeps_every_digit() -> None:
    """Tesseract's boundary between `๒๕` and `๖๖` runs through the first ๖: both tokens read
    into each other and each keeps the glyphs on its side, so no digit is cut in half."""
    crop = _line_image("๑๙ มีนาคม ๒๕๖๖")
    columns = _glyph_columns(crop)
    (day0, _), (_, day1) = columns[0], columns[1]
    (year0, _), (six0, six1), (_, year1) = columns[-4], columns[-2], columns[-1]
    middle = (six0 + six1) // 2  # the split falls inside ๖
    h = crop.shape[0]
    line = OcrLine([
        OcrToken("๑๙", Box(day0, 0, day1 - day0, h), 0.9),
        OcrToken("มีนาคม", Box(columns[2][0], 0, columns[-5][1] - columns[2][0], h), 0.9),
        OcrToken("๒๕", Box(year0, 0, middle - 2 - year0, h), 0.6),
        OcrToken("๒๒", Box(middle + 1, 0, year1 - middle - 1, h), 0.6),
    ])
    assert reread(crop, line, 27.0).text == "๑๙ มีนาคม ๒๕ ๖๖"


def _glyph(char: str, alternatives: tuple[tuple[str, float], ...] = ()) -> Glyph:
    return Glyph(char, 0.9, (0, 0, 10, 20), alternatives)


def test_a_slash_tesseract_read_is_not_lost() -> None:
    """Our model left the slash unread (a piece of ๓ still on it) or cut it into the digits."""
    from pipeline.ocr.digits import _slash_where_tesseract_saw_one

    glyphs = [_glyph("๓"), _glyph("?", (("/", 0.02), ("7", 0.0))), _glyph("๕")]
    assert "".join(g.char for g in _slash_where_tesseract_saw_one(glyphs, "๓/๕")) == "๓/๕"
    assert "".join(g.char for g in _slash_where_tesseract_saw_one(glyphs, "๓ซ๕")) == "๓?๕"  # Tesseract saw none
    assert merge("009/2060", list("0092060")) is None  # ours lost it: Tesseract's reading stands


def test_a_month_tesseract_glued_to_its_year_keeps_its_letters_and_our_digits() -> None:
    """`ก.พ. ๖๖` read by Tesseract as one token `กพ.'อ๐`: its runs of digits and letters do not line
    up with ours, but its letters stand over the glyphs ours left unread."""
    from pipeline.extract.date import parse_date

    crop = _line_image("๑๘ ก.พ. ๖๖")
    one, eight, ko, _dot, pho, dot, six, six2 = _glyph_columns(crop)
    h = crop.shape[0]
    glued = OcrToken("กพ.'อ๐", Box(ko[0], 0, six2[1] - ko[0], h), 0.04,
                     (("ก", *ko), ("พ", *pho), (".", *dot), ("'อ", *six), ("๐", *six2)))
    line = OcrLine([OcrToken("๑๘", Box(one[0], 0, eight[1] - one[0], h), 0.9), glued])
    read = reread(crop, line, 27.0)
    assert parse_date(read.text) == dt.date(2023, 2, 18)
    assert read.digit_confidence <= 0.5  # the two readings disagreed: unsure
