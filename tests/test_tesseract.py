"""The Tesseract adapter: which garbled tokens get a second reading with the English model."""

from __future__ import annotations

import numpy as np

from pipeline.models import Box
from pipeline.ocr.tesseract import OcrToken, _latin_second_opinion
from samples.render import Page, debian_font, mm


def _crop(text: str) -> np.ndarray:
    page = Page(debian_font("Loma"))
    page.y = mm(20)
    page.text(page.left, text)
    gray = np.asarray(page.image.convert("L"))
    rows, cols = np.flatnonzero((gray < 128).any(axis=1)), np.flatnonzero((gray < 128).any(axis=0))
    return gray[rows[0] - 10:rows[-1] + 10, cols[0] - 10:cols[-1] + 10]


def test_a_latin_name_is_read_again_but_not_a_serial_or_a_year() -> None:
    crop = _crop("eMENSCR")
    box = Box(10, 10, crop.shape[1] - 20, crop.shape[0] - 20)
    garbled = OcrToken("eMลNSC๕", box, 0.4)  # what the Thai model makes of a Latin word
    quoted = [[OcrToken("ระบบ", Box(0, 0, 0, 0), 0.9), garbled]]
    _latin_second_opinion([crop], quoted)
    assert quoted[0][1].text == "eMENSCR"
    # After `/ว` stands the serial: digits the Thai model garbles, never a Latin word.
    serial = [[OcrToken("๐๐๓๓.๐๐๙/ว", Box(0, 0, 0, 0), 0.6), garbled]]
    _latin_second_opinion([crop], serial)
    assert serial[0][1] is garbled
    year = [[OcrToken("พฤษภาคม", Box(0, 0, 0, 0), 0.9), garbled]]  # … nor the year after a month
    _latin_second_opinion([crop], year)
    assert year[0][1] is garbled


def test_digits_the_english_model_made_letters_of_stay_thai() -> None:
    """๐๐๑๗.๒/๖ in a typewriter font reads as `ooed.w/` in English: letters between dots and a
    slash are no quoted name."""
    crop = _crop("ooed.w/")
    box = Box(10, 10, crop.shape[1] - 20, crop.shape[0] - 20)
    garbled = OcrToken("๐๐๑ญ.๒/59", box, 0.3)
    tokens = [[OcrToken("ลป", Box(0, 0, 0, 0), 0.9), garbled]]
    _latin_second_opinion([crop], tokens)
    assert tokens[0][1] is garbled
