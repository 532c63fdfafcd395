"""Which text on page 1 is the header, and reading it.

The header runs from the top of the page to the first body paragraph: a line indented by about
2.5 cm that fills the width and is followed by a line starting at the margin. Only those lines
(plus the large urgency/secrecy marks and titles) are read, in one Tesseract run; digits inside
them are then re-read by our glyph model.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.models import Box
from pipeline.ocr import digits
from pipeline.ocr.layout import CROSSING, Layout, Line, Segment, find_lines
from pipeline.ocr.preprocess import PreparedPage
from pipeline.ocr.spelling import Lexicon
from pipeline.ocr.tesseract import OcrLine, OcrToken, read_lines

MAX_HEADER_LINES = 24
PARTED_FROM_FRAME = 0.5  # a line whose letters a stamp's frame ran into: its reading is never sure


@dataclass(frozen=True)
class HeaderText:
    """One read segment of the header: its text (normalised, digits re-read) and geometry."""

    text: str
    box: Box
    line: int  # index of the page line it belongs to (segments of one line share it)
    indent: float  # distance from the text's left margin, in consonant heights
    fill: float  # how far the segment reaches across the text width, 0..1
    confidence: float  # lowest token confidence, 0..1
    large: bool = False  # a title or mark set much larger than the text
    colour: str = ""  # "red" when read from red ink
    digit_confidence: float = 1.0  # lowest confidence of the digits our glyph model read in it
    token_indents: tuple[float, ...] = ()  # indent of each space-separated token of `text`
    text_width: float = 0.0  # width of the page's text column, in consonant heights

    @property
    def last_token_share(self) -> float:
        """How much of the text column the last token takes: a long one means the line was
        broken inside a phrase (no space), as typists do only when no space is near the end."""
        if not self.token_indents or not self.text_width:
            return 0.0
        right = self.fill * self.text_width
        return (right - self.token_indents[-1]) / self.text_width

    def indent_of_token(self, index: int) -> float:
        if 0 <= index < len(self.token_indents):
            return self.token_indents[index]
        return self.indent


@dataclass
class Header:
    texts: list[HeaderText]
    layout: Layout
    crop_box: Box  # the header region of page 1, for the review page

    def by_line(self) -> list[list[HeaderText]]:
        grouped: dict[int, list[HeaderText]] = {}
        for t in self.texts:
            if not t.large:
                grouped.setdefault(t.line, []).append(t)
        return [sorted(v, key=lambda t: t.box.x) for _k, v in sorted(grouped.items())]


def _mm(value: float, dpi: float) -> float:
    return value / 25.4 * dpi


def header_lines(layout: Layout, dpi: float, *, past_paragraphs: int = 0) -> list[Line]:
    """Lines from the top of the page down to the body's first paragraph.

    `past_paragraphs`: read on past that many apparent paragraph starts (a long subject in a wide
    typewriter font can look like one; the caller asks again when the header seems cut short).
    """
    lines = layout.lines
    width = max(1, layout.text_right - layout.text_left)
    ch = layout.consonant_height

    def indent(line: Line) -> float:
        return line.segments[0].box.x - layout.text_left

    def fill(line: Line) -> float:
        return (line.box.right - layout.text_left) / width

    def substantial(line: Line) -> bool:
        return sum(s.box.w for s in line.segments) > width * 0.15

    # Lines wholly in the address column (the sender's address, a stamp, the grain of a dark patch
    # there) do not count against the header's length: the labels stand at the margin.
    address_column = _address_column(layout)
    chosen: list[Line] = []
    counted = 0
    for i, line in enumerate(lines):
        if counted >= MAX_HEADER_LINES or line.box.y > layout.page_length * 0.7:
            break
        counted += line.box.x < address_column
        nxt = next((other for other in lines[i + 1:i + 4] if substantial(other)), None)
        starts_paragraph = (
            _mm(14, dpi) <= indent(line) <= _mm(30, dpi)
            and fill(line) >= 0.75
            and len(line.segments) == 1
            and nxt is not None
            and abs(indent(nxt)) <= ch * 1.2
            and nxt.box.y - line.box.bottom < ch * 4
            and len(chosen) >= 3
        )
        if starts_paragraph:
            if past_paragraphs <= 0:
                break
            past_paragraphs -= 1
        chosen.append(line)
    return chosen


def _crop(page: PreparedPage, segment_box: Box, pad: int) -> np.ndarray:
    h, w = page.gray.shape
    x0, y0 = max(0, segment_box.x - pad), max(0, segment_box.y - pad // 2)
    x1, y1 = min(w, segment_box.right + pad), min(h, segment_box.bottom + pad // 2)
    return page.gray[y0:y1, x0:x1]


def _clean_crop(page: PreparedPage, segment: Segment, layout: Layout, pad: int) -> np.ndarray:
    """The segment's own strokes only, on white: neighbouring lines' ink and the faint edges of
    their letters (below the ink threshold, but Tesseract reads them) are blanked, and so is a
    stamp's frame the letters touched — but not where it crosses a letter (a frame set askew over
    the middle of a year): there the letter's strokes went on through it."""
    crop = _crop(page, segment.box, pad).copy()
    x0, y0 = max(0, segment.box.x - pad), max(0, segment.box.y - pad // 2)
    sub = layout.labels[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]]
    own = np.isin(sub, np.asarray(segment.components) + 1).astype(np.uint8)
    crop[cv2.dilate(own, np.ones((5, 5), np.uint8)) == 0] = 255
    strokes = _rule_strokes(layout, x0, y0, crop.shape)
    if strokes.any():
        reach = max(3, round(layout.consonant_height * CROSSING))
        crossed = cv2.morphologyEx(own, cv2.MORPH_CLOSE, np.ones((reach, 1), np.uint8)) \
            | cv2.morphologyEx(own, cv2.MORPH_CLOSE, np.ones((1, reach), np.uint8))
        # the strokes with their blurred edge, which the ink left out, but not the letters' own strokes
        crop[(cv2.dilate(strokes, np.ones((5, 5), np.uint8)) > 0) & (crossed == 0)] = 255
    return crop


def _rule_strokes(layout: Layout, x0: int, y0: int, shape: tuple[int, ...]) -> np.ndarray:
    """The strokes of the frames letters were parted from (`Layout.rules`) inside a crop at (x0, y0)."""
    strokes = np.zeros(shape[:2], np.uint8)
    for rule in layout.rules:
        h, w = rule.mask.shape
        left, top = max(x0, rule.x), max(y0, rule.y)
        right, bottom = min(x0 + shape[1], rule.x + w), min(y0 + shape[0], rule.y + h)
        if left < right and top < bottom:
            strokes[top - y0:bottom - y0, left - x0:right - x0] |= \
                rule.mask[top - rule.y:bottom - rule.y, left - rule.x:right - rule.x].astype(np.uint8)
    return strokes


def _scaled(crop: np.ndarray, factor: float) -> np.ndarray:
    if abs(factor - 1) < 0.05:
        return crop
    return cv2.resize(crop, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC)


ADDRESS_BLOCK_FROM = 0.58  # of the text width: the sender's address and a received stamp stand right of this
DAY_FROM = 0.35  # of the text width: a day written alone stands right of this, over its month


def _address_column(layout: Layout) -> float:
    """Where the sender's address column begins (x on the page)."""
    return layout.text_left + ADDRESS_BLOCK_FROM * max(1, layout.text_right - layout.text_left)


def _address_block_end(lines: list[Line], layout: Layout) -> int | None:
    """The index of the first line below the sender's address block: the second line at the margin
    (`เรื่อง` under `ที่`), or one that runs on from the margin into the address column — a memo's
    `ส่วนราชการ …` (a memo has no address block). None when no line ends it."""
    margin = layout.consonant_height * 1.5
    margin_lines = [i for i, line in enumerate(lines) if line.segments[0].box.x - layout.text_left < margin]
    address_column = _address_column(layout)
    ends = margin_lines[1:2] + [i for i in margin_lines if lines[i].segments[0].box.right > address_column]
    return min(ends) if ends else None


def _in_address_block(segment: Segment, index: int, lines: list[Line], layout: Layout, end: int | None) -> bool:
    """The sender's address at the top right (and a stamp there): never needed, so never read.

    It lies right of the centre, above the line that ends it (`end`, `_address_block_end`); the
    date, which starts at the centre, stays.
    """
    width = max(1, layout.text_right - layout.text_left)
    if (segment.box.x - layout.text_left) / width < ADDRESS_BLOCK_FROM:
        return False
    left = [s for s in lines[index].segments if s.box.right <= segment.box.x]
    if left and segment.box.x - left[-1].box.right < layout.consonant_height * 8:
        return False  # the value of a label just before it (a memo's `วันที่ …`)
    above = lines[index - 1].segments if index else []
    if len(above) == 1 and above[0].box.w < 3 * layout.consonant_height \
            and (above[0].box.x - layout.text_left) / width >= DAY_FROM:
        return False  # month and year under a day filled in on a line of its own
    return end is None or index < end


@dataclass(frozen=True)
class _Job:
    """One image to read and where it came from."""

    crop: np.ndarray
    box: Box
    line: int = -1
    indent: float = 0.0
    fill: float = 0.0
    segment: Segment | None = None  # a text segment (digits re-read); None for marks and titles
    colour: str = ""

    @property
    def large(self) -> bool:
        return self.segment is None


def read_header(page: PreparedPage, *, past_paragraphs: int = 0, layout: Layout | None = None,
                lexicon: Lexicon | None = None) -> Header:
    """Find and read the header of a prepared page 1."""
    layout = layout or find_lines(page.ink)
    ch = layout.consonant_height
    chosen = header_lines(layout, page.dpi, past_paragraphs=past_paragraphs)
    pad = int(ch * 0.6)
    width = max(1, layout.text_right - layout.text_left)

    block_end = _address_block_end(chosen, layout)
    line_jobs = [
        _Job(_clean_crop(page, seg, layout, pad), seg.box, li, (seg.box.x - layout.text_left) / ch,
             (seg.box.right - layout.text_left) / width, seg)
        for li, line in enumerate(chosen) for seg in line.segments
        if not _in_address_block(seg, li, chosen, layout, block_end)
    ]
    mark_jobs: list[_Job] = []
    first_top = chosen[0].box.y if chosen else layout.page_height
    # Large text near the top: the memo title, urgency and secrecy marks printed in black.
    for line in layout.large_lines:
        if line.box.y < max(first_top, layout.page_length * 0.12) + ch * 4:
            factor = ch / max(1.0, line.segments[0].consonant_height)
            mark_jobs.extend(_Job(_scaled(_crop(page, seg.box, pad), factor), seg.box) for seg in line.segments)
    # Red ink: urgency (top left) and secrecy (top and bottom centre), read from the red mask.
    mark_jobs.extend(_Job(crop, box, colour="red") for box, crop in _red_regions(page, ch))

    # Marks and titles are set large: scaled to text size and laid side by side as one extra line,
    # they are read in the same Tesseract run (a short large word alone in the block gets dropped).
    mark_line, spans = _side_by_side([job.crop for job in mark_jobs], ch)
    ocr_all = read_lines([job.crop for job in line_jobs] + ([mark_line] if mark_jobs else []), lexicon=lexicon)
    ocr: list[OcrLine] = ocr_all[: len(line_jobs)] + (_split_by_spans(ocr_all[-1], spans) if mark_jobs else [])
    texts: list[HeaderText] = []
    for job, read in zip(line_jobs + mark_jobs, ocr, strict=True):
        text, digit_confidence, token_indents = read.text, 1.0, tuple[float, ...]()
        if job.segment is not None:
            reread = digits.reread(job.crop, read, ch)
            text, digit_confidence = reread.text, reread.digit_confidence
            crop_x = max(0, job.box.x - pad)
            token_indents = tuple((crop_x + t.box.x - layout.text_left) / ch for t in read.tokens)
        confidence = read.confidence
        if job.segment is not None and layout.parted_from is not None \
                and max(job.segment.components) >= layout.parted_from:
            confidence = min(confidence, PARTED_FROM_FRAME)  # letters that lost a stroke with the frame
        texts.append(HeaderText(text, job.box, job.line, job.indent, job.fill, confidence, job.large,
                                job.colour, digit_confidence, token_indents, width / ch))
    bottom = chosen[-1].box.bottom if chosen else int(layout.page_length * 0.4)
    crop_box = Box(0, 0, layout.page_width, min(layout.page_height, bottom + int(ch)))
    return Header(texts, layout, crop_box)


def _side_by_side(crops: list[np.ndarray], ch: float) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Crops scaled to one height and joined left to right with wide gaps; their x-spans."""
    if not crops:
        return np.full((1, 1), 255, np.uint8), []
    height = int(ch * 2.6)
    gap = int(ch * 3)
    parts, spans, x = [], [], 0
    for crop in crops:
        scaled = cv2.resize(crop, (max(1, round(crop.shape[1] * height / crop.shape[0])), height),
                            interpolation=cv2.INTER_AREA)
        parts.append(scaled)
        spans.append((x, x + scaled.shape[1]))
        x += scaled.shape[1] + gap
        parts.append(np.full((height, gap), 255, np.uint8))
    return np.hstack(parts[:-1]), spans


def _split_by_spans(line: OcrLine, spans: list[tuple[int, int]]) -> list[OcrLine]:
    """The tokens of the joined line given back to the crops they came from."""
    out: list[list[OcrToken]] = [[] for _ in spans]
    for token in line.tokens:
        centre = token.box.x + token.box.w / 2
        for i, (x0, x1) in enumerate(spans):
            if x0 - 10 <= centre <= x1 + 10:
                out[i].append(token)
                break
    return [OcrLine(tokens) for tokens in out]


def _red_regions(page: PreparedPage, ch: float) -> list[tuple[Box, np.ndarray]]:
    """Words in red ink (urgency, secrecy), each cut from the redness map as dark-on-white text.

    Marks stand at the top of the page (and secrecy again at the bottom): only those bands are searched.
    """
    if page.red is None:
        return []
    height = page.red.shape[0]
    bands = [(0, int(height * 0.25)), (int(height * 0.9), height)]
    regions: list[tuple[Box, np.ndarray]] = []
    for top, bottom in bands:
        regions.extend(_red_words(page.red, top, bottom, ch))
    return regions


def _red_words(red: np.ndarray, top: int, bottom: int, ch: float) -> list[tuple[Box, np.ndarray]]:
    band = red[top:bottom]
    mask = cv2.threshold(band, 60, 255, cv2.THRESH_BINARY)[1]
    if not mask.any():
        return []
    # Join the letters of one word; keep words that are large enough to be marks.
    joined = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_RECT, (int(ch * 1.5), int(ch * 0.6))))
    count, _labels, stats, _c = cv2.connectedComponentsWithStats(joined, connectivity=8)
    regions = []
    for i in range(1, count):
        x, y, w, h, _area = stats[i]
        if h < ch * 1.0 or w < ch * 1.5:
            continue
        redness = band[y:y + h, x:x + w]
        text = 255 - cv2.multiply(redness, 2)
        regions.append((Box(int(x), int(y) + top, int(w), int(h)), np.pad(text, int(ch * 0.4), constant_values=255)))
    return regions


def read_page_lines(page: PreparedPage, max_lines: int = 120, lexicon: Lexicon | None = None) -> list[str]:
    """Every text line of a page, top to bottom (for a distribution list, which must be read whole)."""
    layout = find_lines(page.ink)
    ch = layout.consonant_height
    pad = int(ch * 0.6)
    crops = [_clean_crop(page, seg, layout, pad) for line in layout.lines[:max_lines] for seg in line.segments]
    ocr = read_lines(crops, lexicon=lexicon)
    texts = [digits.reread(crop, line, ch).text for crop, line in zip(crops, ocr, strict=True)]
    return [t for t in texts if t]
