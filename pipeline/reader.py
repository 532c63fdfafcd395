"""A scan in, a `Letter` out: the reading pipeline, top to bottom.

open → page 1: prepare (inks, light, orientation, skew) → header lines → one Tesseract run →
digits re-read by our glyph model → fields by label → later pages classified → kind → confidence.
Touches no database or store: `saraban extract` is exactly this.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipeline import confidence
from pipeline.document import Document, open_document
from pipeline.errors import BlankScanError
from pipeline.extract.attachments import PageRole, classify_pages, is_blank, may_be_distribution
from pipeline.extract.date import read_date
from pipeline.extract.distribution import Distribution, is_distribution_page, parse_distribution
from pipeline.extract.header import HeaderFields, parse_header
from pipeline.extract.kind import document_kind
from pipeline.extract.number import parse_number, read_around_lost_slash
from pipeline.models import DocumentKind, Field, Flag, Letter, TextLine
from pipeline.ocr.header import Header, read_header, read_page_lines
from pipeline.ocr.preprocess import prepare, prepare_thumbnail
from pipeline.ocr.spelling import Lexicon, default_lexicon
from pipeline.thai import fold_spaces, strip_marks, to_arabic_digits

THUMBNAIL_DPI = 100.0
HEADER_SHARE = 0.8  # of page 1, from the top: the header and its first paragraph always fit
SLASH_LOST = 0.5  # how sure a number read without its slash can be
_DISTRIBUTION_HINTS = ("แจ้งท้าย", "บัญชี", "รายชื่อ")


@dataclass(frozen=True)
class Hints:
    """What the deployment knows that helps reading (intake gives it; `saraban extract` reads without).

    `vocabulary`: names besides the dictionary (the directory's units and positions), so that OCR
    repair does not bend a proper name into a common word. `codes`: the agency codes the
    register numbers letters with, to tell ลป from a misread สป. `agencies`: its (code, agency)
    prefixes (`("ลป", "0421")`), to read an agency whose last digit took in the slash after it.
    """

    vocabulary: tuple[str, ...] = ()
    codes: frozenset[str] = frozenset()
    agencies: frozenset[tuple[str, str]] = frozenset()


NO_HINTS = Hints()


def read_letter(path: str | Path, *, display_name: str | None = None, hints: Hints = NO_HINTS) -> Letter:
    """Read one scan. Raises an `IntakeError` subclass when the file cannot be read at all."""
    lexicon = default_lexicon(hints.vocabulary)
    started = time.perf_counter()
    doc = open_document(path)
    # The colour page (26 MB at 300 dpi) is not kept past preparing it: letters are read side by side.
    prepared = prepare(doc.page(0, colour=True), keep=HEADER_SHARE)
    if is_blank(prepared.ink):
        raise BlankScanError(Path(path).name)
    header = read_header(prepared, lexicon=lexicon)
    fields = _fields(header)
    if fields.addressee is None and fields.title is None and fields.subject is not None:
        # `เรียน` not reached: what looked like the body was still the header (a long wrapped subject).
        header = read_header(prepared, past_paragraphs=1, layout=header.layout, lexicon=lexicon)
        fields = _fields(header)
    kind = document_kind(fields)
    letter = Letter(file=display_name or str(path), kind=kind, pages=doc.page_count)
    letter.lines = [TextLine(t.text, t.box, t.confidence) for t in header.texts]
    letter.header_image = _header_image(prepared.gray, header)
    del prepared, header  # page 1's images and labels (~40 MB) are not needed for the later pages
    if kind is DocumentKind.NOT_LETTER:
        letter.add_reason(Flag.NOT_LETTER)
    else:
        _fill_fields(letter, fields, hints)
        _later_pages(letter, doc, fields, lexicon)
        _review_reasons(letter)
    letter.seconds = round(time.perf_counter() - started, 3)
    return letter


def _fields(header: Header) -> HeaderFields:
    marks = [t for t in header.texts if t.large]
    return parse_header(header.by_line(), marks, header.layout.page_width)


def _fill_fields(letter: Letter, fields: HeaderFields, hints: Hints = NO_HINTS) -> None:
    number = parse_number(fields.number_text, known_codes=hints.codes,
                          known_agencies=hints.agencies) if fields.number_text else None
    number_confidence = confidence.number_confidence(number, fields.sources.get("number", []))
    if number is not None and read_around_lost_slash(fields.number_text or ""):
        number_confidence = min(number_confidence, SLASH_LOST)  # a guess
    letter.number = Field(number, number_confidence, fields.number_text or "")
    reading = read_date(fields.date_text) if fields.date_text else None
    letter.date = Field(reading.date if reading else None,
                        confidence.date_confidence(reading.date if reading else None,
                                                   reading.score if reading else 0.0,
                                                   fields.sources.get("date", [])),
                        fields.date_text or "")
    for name in ("subject", "addressee"):
        value = getattr(fields, name)
        setattr(letter, name, Field(value, confidence.text_confidence(value, fields.sources.get(name, [])),
                                    value or ""))
    letter.references = [fold_spaces(to_arabic_digits(r)) for r in fields.references]
    letter.attachments = list(fields.attachments)
    letter.urgency = fields.urgency
    letter.secrecy = fields.secrecy


def _later_pages(letter: Letter, doc: Document, fields: HeaderFields, lexicon: Lexicon | None = None) -> None:
    if doc.page_count < 2:
        letter.missing_attachments = bool(letter.attachments)
        return
    pages = [doc.page(i, colour=False, max_dpi=THUMBNAIL_DPI * 1.5) for i in range(1, doc.page_count)]
    inks = [prepare_thumbnail(p, THUMBNAIL_DPI) for p in pages]
    distribution = [False] * len(inks)
    addressee = strip_marks(fields.addressee or "")
    if any(strip_marks(h) in addressee for h in _DISTRIBUTION_HINTS):
        for i, ink in enumerate(inks):
            if may_be_distribution(ink):
                found = _distribution_list(doc, i + 1, lexicon)
                if found is not None and found.names:
                    distribution[i] = True
                    letter.distribution.extend(found.names)
                    letter.distribution_complete = letter.distribution_complete and found.complete
    roles = classify_pages(inks, distribution)
    letter.attachment_pages = sum(role is PageRole.ATTACHMENT for role in roles)
    letter.missing_attachments = bool(letter.attachments) and letter.attachment_pages == 0


def _distribution_list(doc: Document, index: int, lexicon: Lexicon | None) -> Distribution | None:
    """The แจ้งท้าย list on page `index`, or None when the page is something else."""
    lines = read_page_lines(prepare(doc.page(index, colour=False)), lexicon=lexicon)
    return parse_distribution(lines) if is_distribution_page(lines) else None


def _review_reasons(letter: Letter) -> None:
    if confidence.uncertain_fields(letter):
        letter.add_reason(Flag.LOW_CONFIDENCE)
    if letter.number.value is not None and not letter.number.value.complete:
        letter.add_reason(Flag.NUMBER_INCOMPLETE)
    if letter.missing_attachments:
        letter.add_reason(Flag.MISSING_ATTACHMENTS)


def _header_image(gray: np.ndarray, header: Header) -> bytes:
    """The header of page 1 at 150 dpi as JPEG, for the review page (zoomable, light to send)."""
    box = header.crop_box
    crop = gray[box.y:box.bottom, box.x:box.right]
    small = cv2.resize(crop, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return data.tobytes() if ok else b""
