"""Render a short token as a scanner would deliver it, with the owner of every ink pixel.

    token = scan_token("๐๐๑๗.๕/ว ๔๓๘๖", font, consonant_height=13, rng=random.Random(1))
    token.ink       # uint8, 255 = ink: what `GlyphReader.read` gets
    token.owner     # int16, which glyph cluster each ink pixel came from (-1: noise)
    token.labels    # the class of each cluster ("๐", ".", "ว", "other", …)

Text is drawn cluster by cluster (a base character and its marks), Thai with the font's Thai file
and everything else with its Latin file (fontsource fonts split the two), at 64 px per consonant
height; then slanted, rotated, shrunk to the target size, blurred, noised, JPEG'd and binarised.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pipeline.thai import ARABIC_DIGITS, THAI_DIGITS
from training.fonts import FontFile

OVERSAMPLED = 64  # px per consonant height of the clean drawing
PUNCTUATION = "./-:,()"
CIRCULAR = "ว"
LABELS: tuple[str, ...] = (*THAI_DIGITS, *ARABIC_DIGITS, *PUNCTUATION, CIRCULAR, "other", "frag")

_COMBINING = set(
    "\u0e31\u0e34\u0e35\u0e36\u0e37\u0e38\u0e39\u0e3a\u0e47\u0e48\u0e49\u0e4a\u0e4b\u0e4c\u0e4d\u0e4e"
)


def clusters(text: str) -> list[str]:
    """Grapheme clusters as drawn: a base and the marks on it; ำ stays with its consonant (its
    nikhahit sits over it). Spaces are clusters too (they draw nothing).

    >>> clusters("กำหนด ๑๙")
    ['กำ', 'ห', 'น', 'ด', ' ', '๑', '๙']
    """
    out: list[str] = []
    for char in text:
        if out and (char in _COMBINING or char == "\u0e33") and out[-1] != " ":
            out[-1] += char
        else:
            out.append(char)
    return out


def label_of(cluster: str) -> str:
    return cluster if cluster in LABELS else "other"


def _is_thai(char: str) -> bool:
    return "\u0e00" <= char <= "\u0e7f"


@cache
def _pil_fonts(font: FontFile, consonant_px: int) -> tuple[ImageFont.FreeTypeFont, ImageFont.FreeTypeFont]:
    """(Thai, Latin) faces of `font`, both at the size that makes "ก" `consonant_px` tall."""
    box = ImageFont.truetype(str(font.path), 200).getbbox("ก")
    size = max(6, round(200 * consonant_px / max(1, box[3] - box[1])))
    return ImageFont.truetype(str(font.path), size), ImageFont.truetype(str(font.latin_path), size)


@dataclass
class Clean:
    coverage: np.ndarray  # float32 0..1
    owner: np.ndarray  # int16, cluster index or -1
    baseline: float
    labels: list[str]  # per cluster index
    chars: list[str]  # the cluster texts


def draw(text: str, font: FontFile, tracking: float = 0.0, width_scale: float = 1.0) -> Clean:
    """`text` at OVERSAMPLED px per consonant height; `tracking` adds space between clusters, in
    consonant heights (negative: glyphs come closer and may touch)."""
    thai, latin = _pil_fonts(font, OVERSAMPLED)
    parts = [c for c in clusters(text)]
    height = round(OVERSAMPLED * 3.4)
    baseline = round(OVERSAMPLED * 2.2)
    pad = OVERSAMPLED
    advances = []
    for part in parts:
        f = thai if _is_thai(part[0]) or part == " " else latin
        advances.append(f.getlength(part))
    width = int(sum(advances) + len(parts) * max(0.0, tracking) * OVERSAMPLED + 2 * pad)
    coverage: np.ndarray = np.zeros((height, width), np.float32)
    owner: np.ndarray = np.full((height, width), -1, np.int16)
    labels: list[str] = []
    chars: list[str] = []
    x = float(pad)
    for part, advance in zip(parts, advances, strict=True):
        if part != " ":
            f = thai if _is_thai(part[0]) else latin
            left, top, right, bottom = f.getbbox(part, anchor="ls")
            left, top, right, bottom = int(left), int(top), int(right), int(bottom)
            w, h = right - left + 2, bottom - top + 2
            layer = Image.new("L", (w, h), 0)
            ImageDraw.Draw(layer).text((1 - left, 1 - top), part, font=f, fill=255, anchor="ls")
            glyph = np.asarray(layer, np.float32) / 255.0
            gx, gy = round(x) + left - 1, baseline + top - 1
            y0, x0 = max(0, gy), max(0, gx)
            y1, x1 = min(height, gy + h), min(width, gx + w)
            if y1 > y0 and x1 > x0:
                piece = glyph[y0 - gy : y1 - gy, x0 - gx : x1 - gx]
                region = coverage[y0:y1, x0:x1]
                owner[y0:y1, x0:x1] = np.where(
                    piece > np.maximum(region, 0.35), len(labels), owner[y0:y1, x0:x1]
                )
                np.maximum(region, piece, out=region)
            labels.append(label_of(part))
            chars.append(part)
        x += advance + tracking * OVERSAMPLED
    if width_scale != 1.0:
        size = (max(1, round(width * width_scale)), height)
        coverage = cv2.resize(coverage, size, interpolation=cv2.INTER_AREA)
        owner = cv2.resize(owner, size, interpolation=cv2.INTER_NEAREST)
    return Clean(coverage, owner, float(baseline), labels, chars)


@dataclass
class Token:
    ink: np.ndarray  # uint8, 255 = ink
    gray: np.ndarray  # uint8 scan before binarisation, paper light
    owner: np.ndarray  # int16 per pixel, -1 where no cluster
    labels: list[str]
    chars: list[str]
    consonant_height: float
    baseline: float
    text: str


@dataclass(frozen=True)
class ScanStyle:
    """How one token is scanned. `random_style` draws one; tests build fixed ones."""

    slant: float = 0.0  # horizontal shear
    rotation: float = 0.0  # degrees
    blur: float = 0.5  # gaussian sigma, target px
    noise: float = 4.0  # grey levels
    ink_level: int = 30
    paper_level: int = 240
    jpeg: int = 0  # quality, 0 = none
    fax: float = 0.0  # 0 = none; else the scale the image was sampled at before upsampling
    binarise: str = "otsu"  # otsu | fixed | adaptive
    threshold_shift: int = 0  # added to Otsu's or the fixed threshold (128)
    morph: int = 0  # -1 erode, +1 dilate
    breaks: int = 0  # thin paper-white lines across the token
    specks: int = 0  # salt noise: small ink specks


def random_style(rng: random.Random, consonant_height: float) -> ScanStyle:
    small = consonant_height < 16
    return ScanStyle(
        slant=rng.uniform(-0.12, 0.12) if rng.random() < 0.3 else 0.0,
        rotation=rng.uniform(-1.5, 1.5) if rng.random() < 0.5 else 0.0,
        blur=rng.uniform(0.0, 1.3),
        noise=rng.uniform(0, 16),
        ink_level=rng.randint(0, 70) if rng.random() < 0.85 else rng.randint(70, 130),
        paper_level=rng.randint(200, 252),
        jpeg=rng.randint(30, 90) if rng.random() < 0.4 else 0,
        fax=rng.uniform(0.5, 0.8) if rng.random() < 0.15 else 0.0,
        binarise=rng.choices(["otsu", "fixed", "adaptive"], weights=[50, 25, 25])[0],
        threshold_shift=rng.randint(-35, 35),
        morph=rng.choices([0, -1, 1], weights=[80, 0 if small else 10, 10])[0],
        breaks=rng.choices([0, 1, 2], weights=[88, 9, 3])[0],
        specks=rng.choices([0, 3, 10], weights=[80, 12, 8])[0],
    )


def scan(clean: Clean, consonant_height: float, style: ScanStyle, rng: random.Random) -> Token:
    """The clean drawing as a binarised scan with `consonant_height` px per consonant."""
    h, w = clean.coverage.shape
    cx, cy = w / 2, clean.baseline
    matrix = cv2.getRotationMatrix2D((cx, cy), style.rotation, 1.0)
    matrix[0, 1] += -style.slant  # shear about the baseline: tops lean right for a positive slant
    matrix[0, 2] += style.slant * cy
    coverage = cv2.warpAffine(clean.coverage, matrix, (w, h), flags=cv2.INTER_LINEAR)
    owner = cv2.warpAffine(clean.owner, matrix, (w, h), flags=cv2.INTER_NEAREST, borderValue=-1)
    scale = consonant_height / OVERSAMPLED
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    coverage = cv2.resize(coverage, size, interpolation=cv2.INTER_AREA)
    owner = cv2.resize(owner, size, interpolation=cv2.INTER_NEAREST)
    baseline = clean.baseline * scale

    gray: np.ndarray = style.paper_level - coverage * (style.paper_level - style.ink_level)
    for _ in range(style.breaks):
        x = rng.uniform(0.1, 0.9) * size[0]
        tilt = rng.uniform(-0.3, 0.3)
        cv2.line(
            gray,
            (round(x - tilt * size[1] / 2), 0),
            (round(x + tilt * size[1] / 2), size[1]),
            float(style.paper_level),
            1,
        )
    if style.blur > 0.05:
        gray = cv2.GaussianBlur(gray, (0, 0), style.blur)
    np_rng = np.random.default_rng(rng.randrange(2**32))
    gray = gray + np_rng.normal(0, style.noise, gray.shape).astype(np.float32)
    gray8 = np.clip(gray, 0, 255).astype(np.uint8)
    if style.jpeg:
        buffer = io.BytesIO()
        Image.fromarray(gray8).save(buffer, "JPEG", quality=style.jpeg)
        gray8 = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("L"))
    if style.fax:
        low = (max(4, round(size[0] * style.fax)), max(4, round(size[1] * style.fax)))
        small = cv2.resize(gray8, low, interpolation=cv2.INTER_AREA)
        small = np.where(small < 128 + style.threshold_shift // 2, 0, 255).astype(np.uint8)
        gray8 = cv2.resize(small, size, interpolation=cv2.INTER_NEAREST)
    ink = binarise(gray8, style, consonant_height)
    if style.morph:
        kernel = np.ones((2, 2), np.uint8)
        ink = cv2.erode(ink, kernel) if style.morph < 0 else cv2.dilate(ink, kernel)
    for _ in range(style.specks):
        y, x = rng.randrange(size[1]), rng.randrange(size[0])
        r = rng.choice([0, 0, 1])
        ink[max(0, y - r) : y + r + 1, max(0, x - r) : x + r + 1] = 255
    owner = _grow(owner, ink, consonant_height)
    return _crop(
        Token(ink, gray8, owner, clean.labels, clean.chars, consonant_height, baseline, ""),
        rng.uniform(0.1, 0.6) * consonant_height,
    )


def binarise(gray: np.ndarray, style: ScanStyle, consonant_height: float) -> np.ndarray:
    if style.binarise == "adaptive":
        block = int(2 * round(consonant_height) + 1)
        return cv2.adaptiveThreshold(
            gray,
            255,
            cv2.ADAPTIVE_THRESH_GAUSSIAN_C,
            cv2.THRESH_BINARY_INV,
            block,
            10 + style.threshold_shift // 4,
        )
    level: float
    if style.binarise == "fixed":
        level = 128 + style.threshold_shift
    else:
        level, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        level += style.threshold_shift
    return np.where(gray < level, 255, 0).astype(np.uint8)


def _grow(owner: np.ndarray, ink: np.ndarray, consonant_height: float) -> np.ndarray:
    """Give every ink pixel the cluster of the nearest drawn pixel (blur and thresholds move edges)."""
    labelled = (owner.astype(np.int32) + 1).astype(np.uint16)
    kernel = np.ones((3, 3), np.uint8)
    for _ in range(max(2, math.ceil(0.12 * consonant_height))):
        grown = cv2.dilate(labelled, kernel)
        labelled = np.where(labelled == 0, grown, labelled)
    return np.where(ink > 0, labelled.astype(np.int32) - 1, -1).astype(np.int16)


def _crop(token: Token, margin: float) -> Token:
    rows = np.flatnonzero(token.ink.any(axis=1))
    cols = np.flatnonzero(token.ink.any(axis=0))
    if rows.size == 0:
        return token
    m = round(margin)
    y0, y1 = max(0, rows[0] - m), min(token.ink.shape[0], rows[-1] + m + 1)
    x0, x1 = max(0, cols[0] - m), min(token.ink.shape[1], cols[-1] + m + 1)
    return Token(
        token.ink[y0:y1, x0:x1],
        token.gray[y0:y1, x0:x1],
        token.owner[y0:y1, x0:x1],
        token.labels,
        token.chars,
        token.consonant_height,
        token.baseline - y0,
        token.text,
    )


def scan_token(
    text: str,
    font: FontFile,
    consonant_height: float,
    rng: random.Random,
    style: ScanStyle | None = None,
    tracking: float | None = None,
) -> Token:
    """Draw and scan `text`; a random style and tracking unless given."""
    if tracking is None:
        tracking = rng.uniform(-0.07, 0.12) if rng.random() < 0.5 else 0.0
    width_scale = rng.uniform(0.85, 1.12) if rng.random() < 0.3 else 1.0
    clean = draw(text, font, tracking, width_scale)
    token = scan(clean, consonant_height, style or random_style(rng, consonant_height), rng)
    token.text = text
    return token
