"""Turn clean 300-dpi pages into what a scanning station produces, and write the file.

Colour, grayscale or bilevel; 150–300 dpi; skew; blur; noise; uneven light; JPEG artefacts;
now and then a page fed upside down. Written as PDF (the JPEG/PNG streams embedded as they are,
like a scanner's PDF), multi-page TIFF, or JPEG.
"""

from __future__ import annotations

import io
import random
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import img2pdf
import numpy as np
from PIL import Image


@dataclass
class ScanSettings:
    mode: str = "gray"  # colour | gray | bilevel
    dpi: int = 200
    skew: float = 0.0  # degrees, positive = counter-clockwise
    upside_down: bool = False
    blur: float = 0.5  # gaussian sigma in output pixels
    noise: float = 4.0  # gaussian noise sigma, grey levels
    light: float = 0.1  # depth of the uneven-light gradient, 0..1
    jpeg_quality: int = 75
    threshold: int = 160  # bilevel only

    def as_dict(self) -> dict:
        return asdict(self)


def random_settings(rng: random.Random, *, hard: bool = False) -> ScanSettings:
    """Settings typical of a station. `hard` draws from the difficult end (fax-like, 150 dpi, skewed)."""
    mode = rng.choices(["colour", "gray", "bilevel"], weights=[30, 50, 20] if not hard else [25, 35, 40])[0]
    dpi = rng.choice([150, 200, 200, 240, 300] if not hard else [150, 150, 200, 300])
    max_skew = 3.0
    return ScanSettings(
        mode=mode,
        dpi=dpi,
        skew=rng.uniform(-max_skew, max_skew) if rng.random() < (0.7 if not hard else 0.95) else 0.0,
        upside_down=rng.random() < (0.04 if not hard else 0.08),
        blur=rng.uniform(0.2, 0.9 if not hard else 1.2),
        noise=rng.uniform(1, 8 if not hard else 14),
        light=rng.uniform(0, 0.25 if not hard else 0.4),
        jpeg_quality=rng.randint(55, 90) if not hard else rng.randint(35, 80),
        threshold=rng.randint(135, 185),
    )


def degrade(page: Image.Image, settings: ScanSettings, rng: random.Random, *, first: bool = True) -> Image.Image:
    """One clean 300-dpi RGB page → one scanned page image (RGB, L or 1)."""
    arr = np.asarray(page.convert("RGB")).astype(np.float32)
    h, w = arr.shape[:2]
    angle = settings.skew + (rng.uniform(-0.3, 0.3) if not first else 0.0)
    if angle:
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        arr = cv2.warpAffine(arr, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))
    if settings.upside_down and first:
        arr = arr[::-1, ::-1]
    scale = settings.dpi / 300
    if scale != 1:
        arr = cv2.resize(arr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    if settings.blur > 0:
        arr = cv2.GaussianBlur(arr, (0, 0), settings.blur)
    # Paper is not white and the lamp is not even.
    oh, ow = arr.shape[:2]
    yy, xx = np.mgrid[0:oh, 0:ow].astype(np.float32)
    gx, gy = rng.uniform(-1, 1), rng.uniform(-1, 1)
    gradient = 1 - settings.light * (0.5 + 0.5 * np.tanh((gx * xx / ow + gy * yy / oh) * 2 - rng.uniform(-0.5, 0.5)))
    paper = np.array([rng.uniform(236, 252), rng.uniform(234, 250), rng.uniform(226, 246)], np.float32)
    arr = arr / 255.0 * paper * gradient[..., None]
    arr += np.random.default_rng(rng.randrange(2**32)).normal(0, settings.noise, arr.shape).astype(np.float32)
    arr = np.clip(arr, 0, 255).astype(np.uint8)
    if settings.mode == "colour":
        return Image.fromarray(arr, "RGB")
    gray = cv2.cvtColor(arr, cv2.COLOR_RGB2GRAY)
    if settings.mode == "gray":
        return Image.fromarray(gray, "L")
    return Image.fromarray(np.where(gray < settings.threshold, 0, 255).astype(np.uint8), "L").convert("1")


def _encoded(image: Image.Image, settings: ScanSettings) -> bytes:
    """The page as a scanner would store it: JPEG for colour and gray, CCITT-like PNG for bilevel."""
    out = io.BytesIO()
    if image.mode == "1":
        image.save(out, "PNG", dpi=(settings.dpi, settings.dpi), optimize=True)
    else:
        image.save(out, "JPEG", quality=settings.jpeg_quality, dpi=(settings.dpi, settings.dpi))
    return out.getvalue()


def write_scan(images: list[Image.Image], path: Path, settings: ScanSettings) -> None:
    """Write the scanned pages as `path` (format from its suffix: .pdf, .tif, .jpg)."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        layout = img2pdf.get_fixed_dpi_layout_fun((settings.dpi, settings.dpi))
        # No dates in the PDF: the same seed always gives the same bytes.
        path.write_bytes(img2pdf.convert([_encoded(img, settings) for img in images], layout_fun=layout, nodate=True))
    elif suffix in (".tif", ".tiff"):
        compression = "group4" if images[0].mode == "1" else "jpeg"
        extra = {} if compression == "group4" else {"quality": settings.jpeg_quality}
        images[0].save(path, save_all=True, append_images=images[1:], compression=compression,
                       dpi=(settings.dpi, settings.dpi), **extra)
    elif suffix in (".jpg", ".jpeg"):
        if len(images) != 1:
            raise ValueError("a JPEG holds one page")
        img = images[0].convert("L") if images[0].mode == "1" else images[0]
        img.save(path, "JPEG", quality=settings.jpeg_quality, dpi=(settings.dpi, settings.dpi))
    elif suffix == ".png":
        images[0].save(path, "PNG", dpi=(settings.dpi, settings.dpi))
    else:
        raise ValueError(f"unknown scan format {suffix}")
