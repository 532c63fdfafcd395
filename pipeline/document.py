"""A file in, page images out (PDF, TIFF, JPEG, PNG), with typed errors.

Scanned PDFs hold one image per page: that image is decoded directly (fast, and exactly what
the scanner produced); any other PDF page is rendered by Poppler. Pages after the first are
only ever needed small, so they are decoded at reduced size (JPEG draft mode) where possible.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

from pipeline.errors import (
    CorruptFileError,
    EmptyFileError,
    EncryptedFileError,
    FileTooLargeError,
    TooManyPagesError,
    UnsupportedFormatError,
)

A4_WIDTH_INCHES = 8.27
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_PAGES = 200

# Decompression-bomb guard: a 600-dpi A3 page is ~70 Mpx; anything far above is not a scan.
Image.MAX_IMAGE_PIXELS = 200_000_000

_MAGIC = {
    b"%PDF": "pdf",
    b"II*\x00": "tiff",
    b"MM\x00*": "tiff",
    b"\xff\xd8\xff": "jpeg",
    b"\x89PNG": "png",
}
SUPPORTED_SUFFIXES = {".pdf", ".tif", ".tiff", ".jpg", ".jpeg", ".png"}


@dataclass(frozen=True)
class Page:
    """One page image. `image` is RGB (H×W×3) or grayscale (H×W) uint8; `dpi` its resolution."""

    index: int
    image: np.ndarray
    dpi: float

    @property
    def is_colour(self) -> bool:
        return self.image.ndim == 3


def sniff_format(head: bytes) -> str | None:
    """The file format from its first bytes: pdf, tiff, jpeg, png, or None."""
    # A PDF may have a few bytes of junk before its header; readers accept that, so do we.
    if b"%PDF" in head[:1024]:
        return "pdf"
    for magic, name in _MAGIC.items():
        if head.startswith(magic):
            return name
    return None


def _estimated_dpi(width_px: int, declared: float | None) -> float:
    """Declared dpi when it agrees with an A4-ish page width, otherwise estimated from the width."""
    estimated = width_px / A4_WIDTH_INCHES
    if declared and 0.6 < declared / estimated < 1.6:
        return float(declared)
    return estimated


def _as_array(img: Image.Image, colour: bool) -> np.ndarray:
    mode = "RGB" if colour and img.mode not in ("1", "L", "LA", "I", "I;16", "F") else "L"
    return _pixels(img if img.mode == mode else img.convert(mode))


_BAND_ROWS = 256


def _pixels(img: Image.Image) -> np.ndarray:
    """An RGB or L image's pixels, copied a band of rows at a time.

    `np.asarray(img)` goes through one `tobytes()`, which holds the pixels twice more while it
    joins its chunks: a 300-dpi colour page (26 MB) peaked at ~100 MB, with letters read side by side.
    """
    width, height = img.size
    shape: tuple[int, ...] = (height, width, 3) if img.mode == "RGB" else (height, width)
    out = np.empty(shape, np.uint8)
    for top in range(0, height, _BAND_ROWS):
        bottom = min(height, top + _BAND_ROWS)
        band = img.crop((0, top, width, bottom)).tobytes()
        out[top:bottom] = np.frombuffer(band, np.uint8).reshape((bottom - top, *shape[1:]))
    return out


class Document:
    """An opened scan. Construct with `open_document`; pages are decoded on demand."""

    def __init__(self, path: Path, fmt: str, page_count: int) -> None:
        self.path = path
        self.format = fmt
        self.page_count = page_count
        self._pdf_reader: Any = None

    # -- opening ---------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, max_bytes: int = MAX_FILE_BYTES, max_pages: int = MAX_PAGES) -> Document:
        path = Path(path)
        if not path.is_file():
            raise CorruptFileError(f"not a file: {path}", reason="ไม่พบแฟ้ม หรือไม่ใช่แฟ้มข้อมูล")
        size = path.stat().st_size
        if size == 0:
            raise EmptyFileError(str(path))
        if size > max_bytes:
            raise FileTooLargeError(f"{size} bytes > {max_bytes}")
        with path.open("rb") as fh:
            head = fh.read(1024)
        fmt = sniff_format(head)
        if fmt is None:
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                raise CorruptFileError(f"{path.name}: content is not {path.suffix}")
            raise UnsupportedFormatError(path.suffix or "no extension")
        doc = cls(path, fmt, 0)
        doc.page_count = doc._count_pages()
        if doc.page_count == 0:
            raise CorruptFileError("no pages", reason="แฟ้มไม่มีหน้าเอกสาร กรุณาสแกนใหม่")
        if doc.page_count > max_pages:
            raise TooManyPagesError(f"{doc.page_count} pages > {max_pages}")
        return doc

    def _count_pages(self) -> int:
        if self.format == "pdf":
            return len(self._reader().pages)
        try:
            with Image.open(self.path) as img:
                img.verify() if self.format in ("jpeg", "png") else None
            with Image.open(self.path) as img:
                return getattr(img, "n_frames", 1)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise CorruptFileError(f"{type(exc).__name__}: {exc}") from exc
        except Image.DecompressionBombError as exc:
            raise FileTooLargeError(str(exc), reason="ภาพสแกนมีขนาดใหญ่ผิดปกติ กรุณาสแกนที่ 300 dpi") from exc

    def _reader(self) -> Any:
        if self._pdf_reader is None:
            from pypdf import PdfReader
            from pypdf.errors import PdfReadError

            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    reader = PdfReader(str(self.path), strict=False)
                    if reader.is_encrypted and not reader.decrypt(""):
                        raise EncryptedFileError(self.path.name)
                    _ = len(reader.pages)
            except EncryptedFileError:
                raise
            except (PdfReadError, OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                if "password" in str(exc).lower() or "encrypt" in str(exc).lower():
                    raise EncryptedFileError(str(exc)) from exc
                raise CorruptFileError(f"{type(exc).__name__}: {exc}") from exc
            self._pdf_reader = reader
        return self._pdf_reader

    # -- pages -----------------------------------------------------------------------------------

    def page(self, index: int, *, colour: bool = True, max_dpi: float | None = None) -> Page:
        """Page `index` (0-based). `max_dpi` lets callers that need only a small image ask for less."""
        if not 0 <= index < self.page_count:
            raise IndexError(index)
        try:
            if self.format == "pdf":
                return self._pdf_page(index, colour, max_dpi)
            return self._image_page(index, colour, max_dpi)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise CorruptFileError(f"page {index + 1}: {type(exc).__name__}: {exc}") from exc

    def pages(self, start: int = 0, *, colour: bool = False, max_dpi: float | None = None) -> list[Page]:
        return [self.page(i, colour=colour, max_dpi=max_dpi) for i in range(start, self.page_count)]

    def _image_page(self, index: int, colour: bool, max_dpi: float | None) -> Page:
        with Image.open(self.path) as img:
            frame = ImageSequence.Iterator(img)[index] if index else img
            declared = frame.info.get("dpi", (None,))[0]
            original_width = frame.size[0]
            dpi = _estimated_dpi(original_width, float(declared) if declared else None)
            if max_dpi and dpi > max_dpi * 1.2 and self.format == "jpeg":
                _draft(frame, colour, max_dpi / dpi)
            frame.load()
            return _fit(Page(index, _as_array(frame, colour), dpi * frame.size[0] / original_width), max_dpi)

    def _pdf_page(self, index: int, colour: bool, max_dpi: float | None) -> Page:
        page = self._reader().pages[index]
        data = _single_page_image(page)
        if data is not None:
            img = Image.open(io.BytesIO(data))
            width_in = float(page.mediabox.width) / 72.0
            original_width = img.size[0]
            dpi = original_width / width_in if width_in > 0 else _estimated_dpi(original_width, None)
            if max_dpi and dpi > max_dpi * 1.2:
                _draft(img, colour, max_dpi / dpi)
            img.load()
            return _fit(Page(index, _as_array(img, colour), dpi * img.size[0] / original_width), max_dpi)
        return self._render(index, colour, max_dpi or 300)

    def _render(self, index: int, colour: bool, dpi: float) -> Page:
        from pdf2image import convert_from_path
        from pdf2image.exceptions import PDFPageCountError, PDFSyntaxError

        try:
            images = convert_from_path(
                str(self.path), dpi=int(dpi), first_page=index + 1, last_page=index + 1, grayscale=not colour
            )
        except (PDFPageCountError, PDFSyntaxError) as exc:
            raise CorruptFileError(f"pdftoppm: {exc}") from exc
        if not images:
            raise CorruptFileError(f"pdftoppm rendered nothing for page {index + 1}")
        return Page(index, _as_array(images[0], colour), float(int(dpi)))


def open_document(path: str | Path, max_bytes: int = MAX_FILE_BYTES, max_pages: int = MAX_PAGES) -> Document:
    """Open a scan, checking that it is a readable PDF/TIFF/JPEG/PNG; raises an `IntakeError`."""
    return Document.open(path, max_bytes=max_bytes, max_pages=max_pages)


def _draft(img: Image.Image, colour: bool, scale: float) -> None:
    """Let the JPEG decoder skip detail we do not need (decodes at 1/2, 1/4 or 1/8 size)."""
    img.draft("RGB" if colour else "L", (int(img.size[0] * scale), int(img.size[1] * scale)))


def _fit(page: Page, max_dpi: float | None) -> Page:
    """Downscale a page that is sharper than the caller needs."""
    if not max_dpi or page.dpi <= max_dpi * 1.05:
        return page
    import cv2

    scale = max_dpi / page.dpi
    h, w = page.image.shape[:2]
    small = cv2.resize(page.image, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    return Page(page.index, small, page.dpi * small.shape[1] / w)


def _single_page_image(page: Any) -> bytes | None:
    """The bytes of the one JPEG/PNG-compatible image that makes up a scanned page, else None.

    Only DCT (JPEG) images are taken directly; other encodings are left to Poppler, which knows
    every filter, colour space and mask.
    """
    try:
        resources = page.get("/Resources")
        if resources is None:
            return None
        xobjects = resources.get_object().get("/XObject")
        if xobjects is None:
            return None
        xobjects = xobjects.get_object()
        images = [xobjects[name].get_object() for name in xobjects]
        images = [x for x in images if x.get("/Subtype") == "/Image"]
        if len(images) != 1 or len(xobjects) != 1:
            return None
        image = images[0]
        filters = image.get("/Filter")
        if filters is None:
            return None
        names = [str(f) for f in (filters if isinstance(filters, list) else [filters])]
        if names != ["/DCTDecode"]:
            return None
        if str(image.get("/ColorSpace", "")) not in ("/DeviceRGB", "/DeviceGray"):
            return None
        return image.get_data()
    except Exception:  # any oddity: let Poppler render the page instead
        return None
