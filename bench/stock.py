"""The stock baseline: Tesseract `tha+eng` over the whole first page, then our label parsing.

This is what a general document system does with a Thai letter; `bench/accuracy.py` measures it
side by side with our reader in the same run.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from pipeline import confidence
from pipeline.document import open_document
from pipeline.extract.date import read_date
from pipeline.extract.header import parse_header
from pipeline.extract.kind import document_kind
from pipeline.extract.number import parse_number
from pipeline.models import Box, DocumentKind, Field, Flag, Letter
from pipeline.ocr.header import HeaderText
from pipeline.ocr.tesseract import run_tesseract
from pipeline.thai import fold_spaces, normalize_text, to_arabic_digits


def _lines(tsv: str, page_width: int) -> list[list[HeaderText]]:
    words: dict[tuple[int, int, int], list[tuple[int, int, int, int, float, str]]] = {}
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5" or not cols[11].strip():
            continue
        key = (int(cols[2]), int(cols[3]), int(cols[4]))
        words.setdefault(key, []).append((int(cols[6]), int(cols[7]), int(cols[8]), int(cols[9]),
                                          max(0.0, float(cols[10])) / 100, cols[11]))
    if not words:
        return []
    left = min(w[0] for ws in words.values() for w in ws)
    right = max(w[0] + w[2] for ws in words.values() for w in ws)
    heights = sorted(w[3] for ws in words.values() for w in ws)
    ch = max(1.0, float(np.median(heights)))
    out: list[list[HeaderText]] = []
    for index, key in enumerate(sorted(words, key=lambda k: min(w[1] for w in words[k]))):
        ws = sorted(words[key])
        x0, y0 = ws[0][0], min(w[1] for w in ws)
        x1, y1 = max(w[0] + w[2] for w in ws), max(w[1] + w[3] for w in ws)
        # Tesseract's Thai "words" are often single characters: join them by the gaps between boxes.
        text = ""
        last_right = None
        for x, _y, w, _h, _c, t in ws:
            if last_right is not None and x - last_right > ch * 0.35:
                text += " "
            text += t
            last_right = x + w
        out.append([HeaderText(normalize_text(text), Box(x0, y0, x1 - x0, y1 - y0), index, (x0 - left) / ch,
                               (x1 - left) / max(1, right - left), min(w[4] for w in ws))])
    return out


def read_stock(path: str | Path) -> Letter:
    started = time.perf_counter()
    doc = open_document(path)
    page = doc.page(0, colour=False)
    gray = page.image
    if page.dpi < 290:  # Tesseract wants ~300 dpi
        gray = cv2.resize(gray, None, fx=300 / page.dpi, fy=300 / page.dpi, interpolation=cv2.INTER_CUBIC)
    _text, tsv = run_tesseract(gray, lang="tha+eng", psm=3)
    lines = _lines(tsv, gray.shape[1])
    fields = parse_header(lines, [], gray.shape[1])
    letter = Letter(file=str(path), kind=document_kind(fields), pages=doc.page_count)
    if letter.kind is DocumentKind.NOT_LETTER:
        letter.add_reason(Flag.NOT_LETTER)
    else:
        number = parse_number(fields.number_text) if fields.number_text else None
        src = fields.sources
        letter.number = Field(number, confidence.number_confidence(number, src.get("number", [])),
                              fields.number_text or "")
        reading = read_date(fields.date_text) if fields.date_text else None
        date = reading.date if reading else None
        letter.date = Field(date, confidence.date_confidence(date, reading.score if reading else 0,
                                                             src.get("date", [])))
        letter.subject = Field(fields.subject, confidence.text_confidence(fields.subject, src.get("subject", [])))
        letter.addressee = Field(fields.addressee,
                                 confidence.text_confidence(fields.addressee, src.get("addressee", [])))
        letter.references = [fold_spaces(to_arabic_digits(r)) for r in fields.references]
        letter.attachments = list(fields.attachments)
        letter.urgency, letter.secrecy = fields.urgency, fields.secrecy
        # The same later-page classification as ours: the baseline is about reading page 1.
        from pipeline.reader import _later_pages, _review_reasons

        _later_pages(letter, doc, fields)
        _review_reasons(letter)
    letter.seconds = round(time.perf_counter() - started, 3)
    return letter
