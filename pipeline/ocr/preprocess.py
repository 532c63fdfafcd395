"""From a scanned page to an upright, straight, clean page (OpenCV).

Steps: separate red and blue ink from black text (urgency marks and received stamps must not
break the text lines under them); flatten uneven light; binarise; turn upside-down pages;
deskew; normalise the resolution so that later stages see one scale whatever the scanner did.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.document import Page

WORK_DPI = 300.0  # Tesseract and the glyph model see text at this scale
_ANALYSIS_DPI = 100.0  # skew and orientation are decided on a small copy
# Ink that can be text, at the analysis scale: not a speck, not a picture, a rule or a dark patch.
_TEXT_MIN_AREA = 4  # px
_TEXT_MAX_HEIGHT = 40  # px (10 mm: a title's letters)
_TEXT_MAX_WIDTH = 80  # px (20 mm: a word run together)


@dataclass(frozen=True)
class PreparedPage:
    """An upright, deskewed page at `dpi`. Images share one geometry.

    `gray`: black text on white, coloured ink removed. `ink`: binary, 255 = black-text ink.
    `red`: how strongly each pixel shows red ink (urgency, secrecy), 0..255; None without colour.
    `blue`: kept for stamps and signatures, not computed yet (None).
    """

    gray: np.ndarray
    ink: np.ndarray
    red: np.ndarray | None
    blue: np.ndarray | None
    dpi: float
    skew: float  # degrees the scan was rotated by (before correction)
    upside_down: bool


def separate_inks(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(gray without coloured ink, redness, blueness) from an RGB page.

    The gray image is the brightest channel of each pixel: black ink is dark in every channel,
    red ink is bright in red and blue ink in blue, so stamps and urgency marks fade into the
    paper while black text, even under a stamp, stays dark. What is left of coloured strokes
    (their edges, where JPEG smeared the colour) is whitened using the colour maps.
    """
    # Every step writes into a buffer already there (`dst=`): pages are read side by side, and each
    # full-page temporary is 9 MB at 300 dpi.
    r, g, b = cv2.split(rgb)
    # Saturating uint8 arithmetic: negative differences are 0.
    scratch = cv2.max(g, b)
    redness = cv2.multiply(cv2.subtract(r, scratch, dst=scratch), 2, dst=scratch)
    scratch = cv2.subtract(g, 10)
    blueness = cv2.multiply(cv2.subtract(b, cv2.max(r, scratch, dst=scratch), dst=scratch), 3, dst=scratch)
    gray = cv2.max(cv2.max(r, g, dst=r), b, dst=r)
    del g, b, scratch
    # Sensor noise makes single pixels of gray paper and black ink look red or blue; widened below,
    # they would whiten whole words. A median keeps strokes and drops such specks.
    cv2.medianBlur(redness, 3, dst=redness)  # in place: no second 9 MB map per colour
    cv2.medianBlur(blueness, 3, dst=blueness)
    # Thresholds are loose because JPEG halves colour resolution: thin coloured strokes lose chroma.
    coloured = cv2.threshold(redness, 60, 255, cv2.THRESH_BINARY)[1]
    cv2.bitwise_or(coloured, cv2.threshold(blueness, 54, 255, cv2.THRESH_BINARY)[1], dst=coloured)
    # Widen the masks to take stroke edges, but never over pixels dark in every channel
    # (black ink, also where a stamp lies over it).
    coloured = cv2.dilate(coloured, np.ones((5, 5), np.uint8))
    cv2.bitwise_and(coloured, cv2.threshold(gray, 80, 255, cv2.THRESH_BINARY)[1], dst=coloured)
    cv2.bitwise_or(gray, coloured, dst=gray)  # where the mask is set (255) the pixel becomes paper
    return gray, redness, blueness


def flatten_light(gray: np.ndarray, dpi: float) -> np.ndarray:
    """Divide by the estimated paper brightness so that uneven lamp light and tinted paper vanish."""
    small_scale = 50.0 / dpi
    small = cv2.resize(gray, None, fx=small_scale, fy=small_scale, interpolation=cv2.INTER_AREA)
    # Text is thin at 50 dpi: a closing (max filter) removes it and leaves the paper.
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9)))
    paper = cv2.GaussianBlur(paper, (0, 0), 3)
    paper = cv2.resize(paper, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)
    flat = cv2.divide(gray, np.maximum(paper, 1), scale=255)
    return flat


def binarise(gray: np.ndarray) -> np.ndarray:
    """255 = ink. Otsu on a light-flattened page; speckles smaller than a dot removed later by layout."""
    _t, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return ink


def estimate_skew(ink_small: np.ndarray, limit: float = 5.0) -> float:
    """Angle (degrees, counter-clockwise positive) that the text lines are rotated by.

    The projection profile of straight text lines is sharpest: try angles coarse to fine and keep
    the one whose row sums have the largest variance. Ink pixels are projected as points, which is
    far cheaper than rotating the image for every angle.
    """
    ys, xs = np.nonzero(ink_small)
    if len(xs) < 50:
        return 0.0
    if len(xs) > 60000:  # a sample of the ink is enough and keeps this fast
        pick = np.random.default_rng(0).choice(len(xs), 60000, replace=False)
        ys, xs = ys[pick], xs[pick]
    h, w = ink_small.shape
    xs = xs.astype(np.float64) - w / 2
    ys = ys.astype(np.float64) - h / 2
    size = int(np.hypot(h, w)) + 2

    def sharpness(angle: float) -> float:
        a = np.deg2rad(angle)
        # Rows after rotating the page by `angle` (OpenCV's sense: counter-clockwise on screen).
        rows = np.rint(xs * np.sin(a) + ys * np.cos(a) + size / 2).astype(np.int64)
        counts = np.bincount(rows, minlength=size)
        return float(np.dot(counts, counts))

    best = 0.0
    for step, span in ((0.5, limit), (0.1, 0.5), (0.02, 0.1)):
        candidates = np.arange(best - span, best + span + 1e-9, step)
        centre_ = best
        # Ties (tiny angles that move no pixel) go to the angle nearest the current estimate.
        best = float(max(candidates, key=lambda a: (round(sharpness(a), 3), -abs(a - centre_))))
    return best  # the angle whose projection is sharpest is the one the lines lean by


def text_like(ink_small: np.ndarray) -> np.ndarray:
    """The ink of components sized like letters and words: the lines the skew is measured on. A
    dark patch of uneven light on a bilevel scan (one huge component and its speckle) or the
    emblem would otherwise outweigh the text and pull the page's angle to theirs."""
    _n, labels, stats, _c = cv2.connectedComponentsWithStats(ink_small, connectivity=8)
    area = stats[:, cv2.CC_STAT_AREA]
    keep = (area >= _TEXT_MIN_AREA) & (stats[:, cv2.CC_STAT_HEIGHT] <= _TEXT_MAX_HEIGHT) \
        & (stats[:, cv2.CC_STAT_WIDTH] <= _TEXT_MAX_WIDTH)
    keep[0] = False  # the background
    return np.where(keep[labels], 255, 0).astype(np.uint8)


def is_upside_down(ink_small: np.ndarray) -> bool:
    """Thai puts far more above its letters than below: vowels and tone marks (ุ ู are the only
    marks below), and ไ โ ใ ป ฝ ฟ rise above the line where only ฎ ฏ ญ ฐ hang under it. On a page
    turned upside down both sit under the line instead.

    Two counts of that: small marks just over or under a letter, and letters that reach above or
    below their neighbours' band. The second holds on bold, blurred scans where marks run into
    their letters and the first finds almost nothing.
    """
    count, labels, stats, _centroids = cv2.connectedComponentsWithStats(ink_small, connectivity=8)
    if count < 20:
        return False
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    widths = stats[1:, cv2.CC_STAT_WIDTH]
    sizable = heights[(heights >= 4) & (widths <= heights * 3)]
    if len(sizable) < 10:
        return False
    letter = float(np.median(sizable))
    above, below = _marks_above_and_below(labels, stats, letter)
    rise, hang = _letters_rising_and_hanging(stats[1:], letter)
    up, down = above + rise, below + hang
    return down > up * 1.3 and down >= 8


def _marks_above_and_below(labels: np.ndarray, stats: np.ndarray, letter: float) -> tuple[int, int]:
    """Small components standing just over a letter, and just under one."""
    heights = stats[:, cv2.CC_STAT_HEIGHT]
    is_core = (heights >= letter * 0.7) & (heights <= letter * 1.6)
    is_core[0] = False  # the background
    reach = max(2, round(letter * 0.8))
    above = below = 0
    h = labels.shape[0]
    for i in range(1, len(stats)):
        x, y, w, hh = stats[i, :4]
        if hh >= letter * 0.6 or w > letter * 1.5 or stats[i, cv2.CC_STAT_AREA] < 2:
            continue
        cx = x + w // 2
        under = labels[y + hh: min(h, y + hh + reach), cx]
        over = labels[max(0, y - reach): y, cx]
        if under.size and is_core[under].any():
            above += 1
        elif over.size and is_core[over].any():
            below += 1
    return above, below


def _letters_rising_and_hanging(stats: np.ndarray, letter: float) -> tuple[int, int]:
    """Letters whose top stands clear above their neighbours' while their bottom is in line with
    them, and letters hanging below with their top in line."""
    h, w = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    keep = (h >= 0.7 * letter) & (h <= 2.2 * letter) & (w <= 2.5 * letter) & (w >= 0.3 * letter)
    s = stats[keep].astype(np.float64)
    top, bottom = s[:, 1], s[:, 1] + s[:, 3]
    cx, cy = s[:, 0] + s[:, 2] / 2, (top + bottom) / 2
    rise = hang = 0
    for start in range(0, len(s), 512):  # bounded memory on a dense page
        rows = slice(start, start + 512)
        near = (np.abs(cy[rows, None] - cy[None, :]) < letter) & (np.abs(cx[rows, None] - cx[None, :]) < 3 * letter)
        mine = np.arange(near.shape[0])
        near[mine, start + mine] = False
        band_top, band_bottom, counts = _row_medians(near, top), _row_medians(near, bottom), near.sum(axis=1)
        t, b = top[rows], bottom[rows]
        risen = (counts >= 3) & (t < band_top - 0.35 * letter) & (np.abs(b - band_bottom) < 0.2 * letter)
        hung = (counts >= 3) & ~risen & (b > band_bottom + 0.35 * letter) & (np.abs(t - band_top) < 0.2 * letter)
        rise += int(risen.sum())
        hang += int(hung.sum())
    return rise, hang


def _row_medians(near: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per row of the boolean matrix `near`, the median of `values` over its True columns (0 where none)."""
    r, c = np.nonzero(near)
    if not len(r):
        return np.zeros(near.shape[0])
    ordered = values[c][np.lexsort((values[c], r))]
    counts = np.bincount(r, minlength=near.shape[0])
    starts = np.cumsum(counts) - counts
    # A row without neighbours points at some other row's values: masked by `counts > 0`.
    low = np.clip(starts + (counts - 1) // 2, 0, len(ordered) - 1)
    high = np.clip(starts + counts // 2, 0, len(ordered) - 1)
    return np.where(counts > 0, (ordered[low] + ordered[high]) / 2, 0.0)


def prepare(page: Page, *, work_dpi: float = WORK_DPI, keep: float = 1.0) -> PreparedPage:
    """Upright, deskewed, light-flattened page at `work_dpi`; `keep`: the share of the page, from
    the top, to produce (the header never reaches the bottom quarter: no need to warp it)."""
    if page.is_colour:
        gray, red, _blue = separate_inks(page.image)
        del _blue  # nothing reads blue ink yet: let its 9 MB go now, not after the warps
    else:
        gray, red = page.image, None
    flat = flatten_light(gray, page.dpi)
    shape = gray.shape
    del gray  # only `flat` is warped
    small_scale = _ANALYSIS_DPI / page.dpi
    small = binarise(cv2.resize(flat, None, fx=small_scale, fy=small_scale, interpolation=cv2.INTER_AREA))
    skew = estimate_skew(text_like(small))
    h, w = small.shape
    straight_small = cv2.warpAffine(small, cv2.getRotationMatrix2D((w / 2, h / 2), -skew, 1.0), (w, h),
                                    flags=cv2.INTER_NEAREST)
    upside_down = is_upside_down(straight_small)

    scale = work_dpi / page.dpi
    matrix = _transform(shape, skew, upside_down, scale)
    out_size = (round(shape[1] * scale), round(shape[0] * scale * keep))

    def warp(img: np.ndarray, fill: int, interpolation: int) -> np.ndarray:
        return cv2.warpAffine(img, matrix, out_size, flags=interpolation, borderValue=fill)

    flat_out = warp(flat, 255, cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
    ink_out = binarise(flat_out)
    return PreparedPage(
        gray=flat_out,
        ink=ink_out,
        red=warp(red, 0, cv2.INTER_LINEAR) if red is not None and red.any() else None,
        blue=None,  # stamps are removed from `gray` already; nothing reads blue ink yet
        dpi=work_dpi,
        skew=skew,
        upside_down=upside_down,
    )


def _transform(shape: tuple[int, ...], skew: float, upside_down: bool, scale: float) -> np.ndarray:
    """One affine map: undo skew, turn 180° if needed, scale to the work resolution."""
    h, w = shape[:2]
    angle = -skew + (180.0 if upside_down else 0.0)
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    # Keep the page centred in the scaled output.
    matrix[0, 2] += (w * scale - w) / 2
    matrix[1, 2] += (h * scale - h) / 2
    return matrix


def prepare_thumbnail(page: Page, dpi: float = 75.0) -> np.ndarray:
    """A small binarised copy (255 = ink) for cheap classification of later pages."""
    gray = page.image if not page.is_colour else cv2.cvtColor(page.image, cv2.COLOR_RGB2GRAY)
    scale = dpi / page.dpi
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    return binarise(flatten_light(small, min(dpi, page.dpi)))
