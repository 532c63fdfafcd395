"""Text lines of a prepared page, found from connected components.

A Thai line is a row of consonant-sized components with small marks above and below; the
emblem, photos, table rules and stamps are far larger and are left out. A line is split where
the horizontal gap is wide, so `ที่ …` at the left and the sender's address at the right, or a
memo's `ที่ …` and `วันที่ …`, become separate segments.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

from pipeline.groups import connected_groups
from pipeline.models import Box


@dataclass
class Segment:
    """A horizontal run of text on one line. `box` covers the marks above and below as well."""

    box: Box
    core_top: int  # top of the consonant band
    core_bottom: int  # bottom of the consonant band (the baseline)
    components: list[int] = field(default_factory=list, repr=False)

    @property
    def consonant_height(self) -> float:
        return float(self.core_bottom - self.core_top)


@dataclass
class Line:
    """One text line: its segments left to right."""

    segments: list[Segment]

    @property
    def box(self) -> Box:
        x0 = min(s.box.x for s in self.segments)
        y0 = min(s.box.y for s in self.segments)
        x1 = max(s.box.right for s in self.segments)
        y1 = max(s.box.bottom for s in self.segments)
        return Box(x0, y0, x1 - x0, y1 - y0)

    @property
    def baseline(self) -> int:
        return int(np.median([s.core_bottom for s in self.segments]))


@dataclass(frozen=True)
class Rule:
    """The straight strokes of a frame or an underline that letters touched (page coordinates)."""

    x: int
    y: int
    mask: np.ndarray = field(repr=False)


@dataclass
class Layout:
    lines: list[Line]
    large_lines: list[Line]  # text set much larger than the body: titles, urgency and secrecy marks
    consonant_height: float  # typical height of a consonant on this page, px
    page_width: int
    page_height: int
    text_left: int  # the left margin as the text shows it
    text_right: int
    big_components: list[Box]  # emblem, photos, table frames, rules
    labels: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0), np.int32))
    # connected-component labels of the page (component i of a Segment is label i + 1)
    rules: list[Rule] = field(default_factory=list)  # strokes letters were parted from: crops blank them
    parted_from: int | None = None  # components from this index on were parted from those strokes

    @property
    def page_length(self) -> float:
        """The full A4 page's height implied by its width (the image may hold only its top part)."""
        return self.page_width * 2 ** 0.5


# Pages come at 300 dpi (`preprocess.WORK_DPI`), where ก of 8 pt Thai is 14 px: anything smaller is
# speckle (a dark, uneven bilevel scan has thousands of 8–10 px specks, more than letters).
MIN_CONSONANT = 14
STACKED = 0.5  # of the lower line's height: lines overlapping more than this are stacked, not text
CONSONANT_LIKE = (0.8, 1.3)  # consonant heights: a glyph this tall stands on a line's baseline


def consonant_height(stats: np.ndarray) -> float:
    """The most common height among letter-like components: the page's consonant height."""
    heights = stats[:, cv2.CC_STAT_HEIGHT]
    widths = stats[:, cv2.CC_STAT_WIDTH]
    keep = (heights >= MIN_CONSONANT) & (heights <= 200) & (widths <= heights * 2.5) & (widths >= heights * 0.3)
    if keep.sum() < 5:
        return 27.0
    hist = np.bincount(heights[keep])
    # Smooth the histogram a little: consonant heights spread over a few pixels.
    smooth = np.convolve(hist, np.ones(3), mode="same")
    return float(np.argmax(smooth))


def _margins(lines: list[Line], width: int) -> tuple[int, int]:
    """Where the text's lines start and end (10th and 90th percentiles). Lines stacked over one
    another do not count: the grain of a dark patch on a bilevel scan groups into dozens of
    overlapping "lines" that would pull the margins to the page's edge."""
    ruled = [ln for ln in lines if ln.segments]
    if not ruled:
        return 0, width
    boxes = np.array([[b.x, b.y, b.right, b.bottom] for b in (ln.box for ln in ruled)])
    beside = (boxes[:, None, 0] < boxes[None, :, 2]) & (boxes[None, :, 0] < boxes[:, None, 2])
    overlap = np.minimum(boxes[:, None, 3], boxes[None, :, 3]) - np.maximum(boxes[:, None, 1], boxes[None, :, 1])
    heights = boxes[:, 3] - boxes[:, 1]
    stacked = beside & (overlap > STACKED * np.minimum(heights[:, None], heights[None, :]))
    np.fill_diagonal(stacked, False)
    apart = ~stacked.any(axis=1)
    if not apart.any():
        apart[:] = True
    return (int(np.percentile([ln.segments[0].box.x for ln, ok in zip(ruled, apart, strict=True) if ok], 10)),
            int(np.percentile([ln.segments[-1].box.right for ln, ok in zip(ruled, apart, strict=True) if ok], 90)))


def find_lines(ink: np.ndarray, *, top: int = 0, bottom: int | None = None) -> Layout:
    """Lines of text between rows `top` and `bottom` of a binary page (255 = ink)."""
    h, w = ink.shape
    bottom = h if bottom is None else bottom
    region = ink[top:bottom]
    _count, labels, stats, _c = cv2.connectedComponentsWithStats(region, connectivity=8)
    stats = stats[1:]
    stats[:, cv2.CC_STAT_TOP] += top
    ch = consonant_height(stats)
    big, large, core, marks = _kinds(stats, ch)
    xs, ys, ws, hs = stats[:, 0], stats[:, 1], stats[:, 2], stats[:, 3]
    big_boxes = [Box(int(xs[i]), int(ys[i]), int(ws[i]), int(hs[i])) for i in np.flatnonzero(big & ~large)]
    lines = _group_lines(np.flatnonzero(core), np.flatnonzero(marks), stats, ch)
    rules, parted = _free_letters_on_frames(labels, stats, np.flatnonzero(big & ~large), lines, ch, top)
    parted_from = len(stats) if rules else None
    if rules:  # a stamp's frame ran into a line: its letters are components of their own now
        stats = np.vstack([stats, parted])
        big, large, core, marks = _kinds(stats, ch)
        lines = _group_lines(np.flatnonzero(core), np.flatnonzero(marks), stats, ch)
    large_lines = [ln for ln in _group_lines(np.flatnonzero(large), np.flatnonzero(marks | core), stats, ch * 2.2)
                   if sum(len(s.components) for s in ln.segments) >= 3]
    text_left, text_right = _margins(lines, w)
    if top:
        labels = np.vstack([np.zeros((top, w), labels.dtype), labels])
    return Layout(lines, large_lines, ch, w, h, text_left, text_right, big_boxes, labels, rules, parted_from)


def _kinds(stats: np.ndarray, ch: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Which components are big (emblem, frames, rules), large text, letters, and marks."""
    ws, hs, areas = stats[:, 2], stats[:, 3], stats[:, 4]
    big = (hs > ch * 3.2) | (ws > ch * 12) | ((ws > ch * 6) & (hs < ch * 0.25))
    noise = (areas < max(4, (ch * ch) / 120)) & (hs < ch * 0.3)
    core = ~big & ~noise & (hs >= ch * 0.55) & (hs <= ch * 1.75)
    # Large letters are solid; the emblem's feathers and rules are thin strokes in a wide box.
    solid = areas >= ws * hs * 0.18
    large = ~noise & solid & (hs > ch * 1.75) & (hs <= ch * 4.5) & (ws <= ch * 8) & (ws >= ch * 0.6)
    marks = ~big & ~noise & ~core
    return big, large, core, marks


RULE_LENGTH = 2.5  # consonant heights: a straight stroke this long is a rule or a frame, no letter
RULE_WIDTH = 0.3  # consonant heights: … and a rule is thinner than this (the emblem's body is not)
RULE_SHARE = 0.5  # of a big component's ink in such strokes: a frame or an underline
FRAME_FILL = 0.15  # of its box a frame's ink covers at most
_SHARED_COLUMNS = 0.45  # of the narrower piece's width: two pieces this much over one another are one letter
CROSSING = 0.5  # consonant heights: a frame's stroke crossing a letter is no thicker than this


def _free_letters_on_frames(labels: np.ndarray, stats: np.ndarray, big: np.ndarray, lines: list[Line],
                            ch: float, top: int) -> tuple[list[Rule], np.ndarray]:
    """Letters of a text line that a received stamp's frame (or an underline) runs into are part of
    the frame's big component, and big components are no text: the date under a stamp loses its
    year. Without the frame's straight strokes, the pieces standing in a line's band are letters:
    they get labels of their own (`labels` is changed in place). Returns the strokes taken out and
    the stats rows of the letters parted from them. The stamp's own text stands between the lines'
    bands and stays with the frame."""
    bands = [(min(s.core_top for s in ln.segments), max(s.core_bottom for s in ln.segments)) for ln in lines]
    length, width = max(9, round(ch * RULE_LENGTH)), max(3, round(ch * RULE_WIDTH))
    next_label = len(stats) + 1
    rules: list[Rule] = []
    rows: list[list[int]] = []
    for i in big:
        x, y, w, h = (int(v) for v in stats[i, :4])
        # A frame is thin lines round much paper, an underline a thin line; a dark, noisy patch of
        # a scan is neither.
        patch = stats[i, 4] > FRAME_FILL * w * h and min(w, h) > ch
        if patch or not any(b0 < y + h and y < b1 for b0, b1 in bands):
            continue
        own = (labels[y - top:y - top + h, x:x + w] == i + 1).astype(np.uint8)
        strokes = np.zeros_like(own)
        for long_, thick, across in (((length, 1), (length, width), (1, 5)), ((1, length), (width, length), (5, 1))):
            # thickened across first: a stamp set askew draws its frame in steps
            widened = cv2.dilate(own, cv2.getStructuringElement(cv2.MORPH_RECT, across))
            straight = _opened(widened, long_)
            strokes |= straight & own & (1 - _opened(own, thick))
        strokes = cv2.dilate(strokes, np.ones((3, 3), np.uint8)) & own  # with the strokes' ragged edges
        if strokes.sum() < RULE_SHARE * own.sum():
            continue  # the emblem, a photo, a signature: a few straight strokes in much else
        count, parts, part_stats, _c = cv2.connectedComponentsWithStats(own & (1 - strokes), connectivity=8)
        parted = len(rows)
        # a line's letters stand near its band (and pairing pieces costs their count squared)
        near = [p for p in range(1, count)
                if any(b0 - 1.5 * ch <= y + part_stats[p, 1] + part_stats[p, 3] / 2 <= b1 + ch for b0, b1 in bands)]
        for group in _cut_apart(strokes, part_stats, near):
            px, py = (int(v) for v in part_stats[group, :2].min(axis=0))
            pw = int((part_stats[group, 0] + part_stats[group, 2]).max()) - px
            ph = int((part_stats[group, 1] + part_stats[group, 3]).max()) - py
            area = int(part_stats[group, 4].sum())
            centre = y + py + ph / 2
            if ph > 1.75 * ch or pw > 2.5 * ch or area < max(4, ch * ch / 120) \
                    or not any(b0 - 0.8 * ch <= centre <= b1 + 0.5 * ch for b0, b1 in bands):
                continue
            labels[y - top:y - top + h, x:x + w][np.isin(parts, group)] = next_label
            next_label += 1
            rows.append([x + px, y + py, pw, ph, area])
        if len(rows) > parted:
            rules.append(Rule(x, y, strokes > 0))
    return rules, np.asarray(rows, dtype=stats.dtype).reshape(-1, stats.shape[1])


def _cut_apart(strokes: np.ndarray, part_stats: np.ndarray, pieces: list[int]) -> list[list[int]]:
    """The `pieces` left when a frame's strokes are taken out, grouped into the letters they were: a
    stroke running through the middle of a line (a stamp set askew over the year) cuts each digit
    into a top and a bottom, too small to be letters on their own. Pieces one above the other with
    stroke ink in every row between them (in the columns they share) are one letter."""
    boxes = {p: tuple(int(v) for v in part_stats[p, :4]) for p in pieces}

    def joins() -> Iterator[tuple[int, int]]:
        for a in pieces:
            ax, ay, aw, ah = boxes[a]
            for b in pieces:
                bx, by, bw, _bh = boxes[b]
                shared = min(ax + aw, bx + bw) - max(ax, bx)
                if by < ay + ah or shared < _SHARED_COLUMNS * min(aw, bw):
                    continue  # b is not below a, or they do not stand one above the other
                between = strokes[ay + ah:by, max(ax, bx):max(ax, bx) + shared]
                if between.size and between.any(axis=1).all():
                    yield a, b

    return connected_groups(pieces, joins())


def _opened(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Morphological opening with a (width, height) rectangle; outside the mask is paper (OpenCV's
    default border would let a frame's edge at the box's edge survive any opening)."""
    return np.asarray(cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, size),
                                       borderType=cv2.BORDER_CONSTANT, borderValue=0))


def _median_of_sorted(values: list[float]) -> float:
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def _group_lines(core_idx: np.ndarray, mark_idx: np.ndarray, stats: np.ndarray, ch: float) -> list[Line]:
    """Lines from letter-sized components (`core_idx`) and the small marks that belong to them."""
    xs, ys = stats[:, 0], stats[:, 1]
    ws, hs = stats[:, 2], stats[:, 3]

    # Group consonant-sized components into lines by how their extents overlap a line's band:
    # tall letters (ป ฝ ฟ) rise above it and letters with a descender or a vowel below (ฎ ญ บุ)
    # reach under it, but all of them cover most of the band.
    order = core_idx[np.argsort(ys[core_idx] + hs[core_idx] / 2)]
    rows: list[list[int]] = []
    row_bands: list[tuple[float, float]] = []  # (top, bottom) of each row's core band
    row_edges: list[tuple[list[float], list[float]]] = []  # each row's tops and bottoms, sorted
    for i in order:
        top, bottom = float(ys[i]), float(ys[i] + hs[i])
        best_row, best_overlap = -1, 0.0
        for r in range(max(0, len(rows) - 3), len(rows)):  # rows come in order: only recent ones can match
            band_top, band_bottom = row_bands[r]
            overlap = min(bottom, band_bottom) - max(top, band_top)
            share = overlap / max(1.0, min(bottom - top, band_bottom - band_top))
            if share > best_overlap:
                best_row, best_overlap = r, share
        if best_row >= 0 and best_overlap >= 0.6:
            rows[best_row].append(int(i))
            tops, bottoms = row_edges[best_row]
            bisect.insort(tops, top)
            bisect.insort(bottoms, bottom)
            row_bands[best_row] = (_median_of_sorted(tops), _median_of_sorted(bottoms))
        else:
            rows.append([int(i)])
            row_bands.append((top, bottom))
            row_edges.append(([top], [bottom]))
    rows = _tall_vowels_to_their_line(rows, row_bands, stats, ch)
    # Segments of consonant-sized components first; marks are given to segments afterwards.
    bands: list[tuple[int, int, list[int]]] = []  # (core_top, baseline, members) of each segment
    for members in rows:
        if len(members) < 2 and ws[members[0]] < ch * 0.6 and not _may_be_glyph(members[0], ws, hs, ch):
            continue
        base = int(np.median([ys[j] + hs[j] for j in members]))
        for seg in _split(members, xs, ws, ch):
            bands.append((base - round(ch), base, list(seg)))
    owned: list[list[int]] = [list(b[2]) for b in bands]
    spans = np.array([[min(xs[j] for j in b[2]), max(xs[j] + ws[j] for j in b[2])] for b in bands]) \
        if bands else np.zeros((0, 2))
    for k in mark_idx:
        mx0, mx1, my0, my1 = xs[k], xs[k] + ws[k], ys[k], ys[k] + hs[k]
        best, best_cost = -1, 1.0
        overlapping: Iterable[int] = np.flatnonzero((spans[:, 1] > mx0 - ch * 0.3) & (spans[:, 0] < mx1 + ch * 0.3)) \
            if len(spans) else []
        for b in overlapping:
            core_top, base, _m = bands[b]
            if my0 >= core_top - ch * 0.25 and my1 <= base + ch * 0.25:
                cost = 0.0  # inside the band: a dot, a comma, a small letter
            elif my1 <= base and my0 < core_top:
                cost = max(0.0, core_top - my1) / (ch * 1.6)  # above: vowels and tone marks stack high
            else:
                cost = max(0.0, my0 - base) / (ch * 0.45)  # below: ุ ู hang close under the baseline
            if cost <= best_cost:
                best, best_cost = int(b), cost
        if best >= 0:
            owned[best].append(int(k))
    by_row: dict[int, list[Segment]] = {}
    for (core_top, base, _members), comps in zip(bands, owned, strict=True):
        x0 = int(min(xs[j] for j in comps))
        x1 = int(max(xs[j] + ws[j] for j in comps))
        y0 = int(min(ys[j] for j in comps))
        y1 = int(max(ys[j] + hs[j] for j in comps))
        by_row.setdefault(base, []).append(Segment(Box(x0, y0, x1 - x0, y1 - y0), core_top, base, comps))
    lines: list[Line] = []
    lone: list[Line] = []
    for _base, segments in sorted(by_row.items()):
        segments.sort(key=lambda sg: sg.box.x)
        if sum(sg.box.w for sg in segments) >= ch * 0.9:
            lines.append(Line(segments))
        elif len(segments) == 1 and len(segments[0].components) == 1 \
                and _may_be_glyph(segments[0].components[0], ws, hs, ch):
            lone.append(Line(segments))
    # A glyph alone is a line only with white space above and below it (the day of a date); beside a
    # line it is a piece of that line's marks.
    lines.extend(g for g in lone if not any(_overlap_rows(g.box, line.box) for line in lines))
    lines.sort(key=lambda line: line.baseline)
    return lines


def _tall_vowels_to_their_line(rows: list[list[int]], bands: list[tuple[float, float]], stats: np.ndarray,
                               ch: float) -> list[list[int]]:
    """Rows are grown from the top, so a tall vowel (ใ ไ โ) rising from a line's baseline as high as a
    bold pile of marks over the same line (ื่ over เรื่อง, blurred into one) joins the pile's row and is
    lost to its line. Such a row stands right above the line and holds at most one glyph of a
    consonant's height (a pile can be as tall as a small one): its tall glyphs go back to the row
    below; the pile stays where it was."""
    xs, ws, hs = stats[:, 0], stats[:, 2], stats[:, 3]
    order = sorted(range(len(rows)), key=lambda r: bands[r][0])
    for above, below in itertools.pairwise(order):
        members = rows[above]
        consonants = sum(CONSONANT_LIKE[0] * ch <= hs[j] <= CONSONANT_LIKE[1] * ch for j in members)
        # its band ends at most half a consonant over the other's, well above that one's baseline
        close = bands[below][0] - bands[above][1] <= 0.5 * ch and bands[above][1] <= bands[below][1] - 0.3 * ch
        if not members or not rows[below] or consonants >= 2 or not close:
            continue
        left, right = min(xs[j] for j in rows[below]), max(xs[j] + ws[j] for j in rows[below])
        tall = [j for j in members if hs[j] > CONSONANT_LIKE[1] * ch and left <= xs[j] and xs[j] + ws[j] <= right]
        rows[below].extend(tall)
        rows[above] = [j for j in members if j not in tall]
    return [row for row in rows if row]


def _overlap_rows(a: Box, b: Box) -> bool:
    return a.y < b.bottom and b.y < a.bottom


def _may_be_glyph(index: int, ws: np.ndarray, hs: np.ndarray, ch: float) -> bool:
    """A component alone on its row that may still be text: the day of a date, added by hand on a line
    of its own above month and year (`4`), rather than a speck or a sliver of a rule."""
    return bool(ws[index] >= ch * 0.3 and ch * 0.8 <= hs[index] <= ch * 1.6)


def _split(members: list[int], xs: np.ndarray, ws: np.ndarray, ch: float) -> list[list[int]]:
    """Split one line's components where the gap is wider than a few spaces."""
    members = sorted(members, key=lambda j: xs[j])
    groups: list[list[int]] = [[members[0]]]
    right = xs[members[0]] + ws[members[0]]
    for j in members[1:]:
        if xs[j] - right > ch * 3.0:
            groups.append([j])
        else:
            groups[-1].append(j)
        right = max(right, xs[j] + ws[j])
    return groups
