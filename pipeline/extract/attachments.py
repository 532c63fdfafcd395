"""Pages after the first: the letter's own, or attachments? Decided cheaply from small images.

A continuation page of the letter carries a centred page number `- ๒ -` at the top; a
distribution list (แจ้งท้าย) belongs to the letter as well. Everything from the first other
page on is an attachment, whether or not it carries `สิ่งที่ส่งมาด้วย ๑` at the top right.
Blank pages (the backs of sheets fed through a duplex scanner) are neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np


class PageRole(StrEnum):
    CONTINUATION = "continuation"
    DISTRIBUTION = "distribution"
    ATTACHMENT = "attachment"
    BLANK = "blank"


BLANK_INK_SHARE = 0.0015
DASH_LENGTH = 1.5  # a dash is at least this many times as wide as it is tall


@dataclass(frozen=True)
class TopLine:
    """The first text line from the top of a page, as components."""

    boxes: list[tuple[int, int, int, int]]
    page_width: int

    @property
    def left(self) -> int:
        return min(b[0] for b in self.boxes)

    @property
    def right(self) -> int:
        return max(b[0] + b[2] for b in self.boxes)

    @property
    def centred(self) -> bool:
        centre = (self.left + self.right) / 2
        return abs(centre - self.page_width / 2) < self.page_width * 0.08

    @property
    def width_share(self) -> float:
        return (self.right - self.left) / self.page_width


SPECK_AREA = 6  # px at the thumbnails' 100 dpi: a tone mark is about this size, a speck smaller
SPECKLE_WINDOW = 25  # px (6 mm)
SPECKLE_COUNT = 10  # this many specks within one window are the grain of a dark patch, not text
LETTER_INK = 0.25  # of the letter height squared: the least ink of a letter
LINE_GAP = 3.0  # letter heights: a wider gap between two pieces of ink at one height parts them


def _in_speckle(stats: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Per component: does it lie where specks crowd (a dark patch where the lamp light fell off
    on a bilevel scan)? A line of text holds a few small marks per window, such a patch dozens."""
    centres = np.zeros(shape, np.float32)
    small = stats[:, cv2.CC_STAT_AREA] <= SPECK_AREA
    xs = np.minimum(stats[:, 0] + stats[:, 2] // 2, shape[1] - 1)
    ys = np.minimum(stats[:, 1] + stats[:, 3] // 2, shape[0] - 1)
    np.add.at(centres, (ys[small], xs[small]), 1.0)
    crowd = cv2.boxFilter(centres, -1, (SPECKLE_WINDOW, SPECKLE_WINDOW), normalize=False,
                          borderType=cv2.BORDER_CONSTANT)
    return crowd[ys, xs] >= SPECKLE_COUNT


def top_line(ink: np.ndarray) -> TopLine | None:
    """Components of the topmost text line (ink: 255 = ink, small page image)."""
    h, w = ink.shape
    band = ink[: int(h * 0.2)]
    _count, _l, stats, _c = cv2.connectedComponentsWithStats(band, connectivity=8)
    speckle = _in_speckle(stats, band.shape)
    # Each component's box and ink; page edges and scanner borders ignored.
    inked = [((int(x), int(y), int(cw), int(ch)), int(area)) for x, y, cw, ch, area in stats[1:][~speckle[1:]]
             if area >= 3 and cw < w * 0.5 and ch < h * 0.1 and x > w * 0.02 and x + cw < w * 0.98]
    if not inked:
        return None
    comps = [box for box, _area in inked]
    heights = sorted(c[3] for c in comps)
    letter = heights[len(heights) // 2]
    # The line starts at a letter: as tall as one and with its ink (a speck at the edge of a dark
    # patch is as tall, but thin).
    letters = [c for c, area in inked if c[3] >= letter * 0.6 and area >= LETTER_INK * letter ** 2]
    if not letters:
        return None
    first = min(letters, key=lambda c: c[1])
    top = first[1]
    row = sorted((c for c in comps if c[1] < top + letter * 1.6 and c[1] + c[3] > top - letter * 0.5),
                 key=lambda c: c[0])
    # The line is the run of ink around that letter with no gap wider than a few letters: a speck
    # standing apart at the same height is not part of it.
    start = end = row.index(first)
    while start > 0 and row[start][0] - (row[start - 1][0] + row[start - 1][2]) <= letter * LINE_GAP:
        start -= 1
    while end + 1 < len(row) and row[end + 1][0] - (row[end][0] + row[end][2]) <= letter * LINE_GAP:
        end += 1
    return TopLine(row[start:end + 1], w)


def is_blank(ink: np.ndarray) -> bool:
    return float(np.count_nonzero(ink)) / ink.size < BLANK_INK_SHARE


def looks_like_page_number(line: TopLine) -> bool:
    """`- ๒ -`: a tiny centred group at the top, with a dash at one side at least.

    Thin dashes can vanish in small bilevel images, so one dash is enough; a dark scan thickens
    them (5 × 3 px at 100 dpi).
    """
    if not line.centred or line.width_share > 0.06 or not 1 <= len(line.boxes) <= 6:
        return False
    return any(b[2] >= b[3] * DASH_LENGTH for b in line.boxes)


def classify_pages(inks: list[np.ndarray], distribution: list[bool] | None = None) -> list[PageRole]:
    """Roles of the pages after the first. `distribution[i]` says page i was read as a แจ้งท้าย list."""
    roles: list[PageRole] = []
    in_letter = True
    for index, ink in enumerate(inks):
        if is_blank(ink):
            roles.append(PageRole.BLANK)
            continue
        if distribution and distribution[index]:
            roles.append(PageRole.DISTRIBUTION)
            continue
        line = top_line(ink)
        if in_letter and line is not None and looks_like_page_number(line):
            roles.append(PageRole.CONTINUATION)
            continue
        in_letter = False
        roles.append(PageRole.ATTACHMENT)
    return roles


def may_be_distribution(ink: np.ndarray) -> bool:
    """A centred title line at the top and a list below: worth reading to see if it is แจ้งท้าย."""
    line = top_line(ink)
    return line is not None and line.centred and line.width_share < 0.3 and not looks_like_page_number(line)
