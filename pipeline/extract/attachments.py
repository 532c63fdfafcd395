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


def top_line(ink: np.ndarray) -> TopLine | None:
    """Components of the topmost text line (ink: 255 = ink, small page image)."""
    h, w = ink.shape
    band = ink[: int(h * 0.2)]
    count, _l, stats, _c = cv2.connectedComponentsWithStats(band, connectivity=8)
    comps = [(int(stats[i, 0]), int(stats[i, 1]), int(stats[i, 2]), int(stats[i, 3]))
             for i in range(1, count) if stats[i, 4] >= 3]
    # Ignore page edges and scanner borders.
    comps = [c for c in comps if c[2] < w * 0.5 and c[3] < h * 0.1 and c[0] > w * 0.02 and c[0] + c[2] < w * 0.98]
    if not comps:
        return None
    heights = sorted(c[3] for c in comps)
    letter = heights[len(heights) // 2]
    top = min(c[1] for c in comps if c[3] >= letter * 0.6)
    row = [c for c in comps if c[1] < top + letter * 1.6 and c[1] + c[3] > top - letter * 0.5]
    return TopLine(row, w)


def is_blank(ink: np.ndarray) -> bool:
    return float(np.count_nonzero(ink)) / ink.size < BLANK_INK_SHARE


def looks_like_page_number(line: TopLine) -> bool:
    """`- ๒ -`: a tiny centred group at the top, with a dash at one side at least.

    Thin dashes can vanish in small bilevel images, so one dash is enough.
    """
    if not line.centred or line.width_share > 0.06 or not 1 <= len(line.boxes) <= 6:
        return False
    return any(b[2] >= b[3] * 1.8 for b in line.boxes)


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
