"""What is stored for a letter, and under which keys.

    letters/<BE year>/<sender code>/<sha256>.pdf          the PDF as received, or the scan as PDF
    letters/<BE year>/<sender code>/<sha256>.<tif|jpg|png> the original image scan, beside it
    letters/<BE year>/<sender code>/<sha256>.header.jpg   the header crop of page 1 (review page)
    letters/<BE year>/<sender code>/<sha256>.ocr.json     the OCR lines

`sha256` is that of the file as received, so the same bytes always land on the same keys.
Image scans become PDF without re-encoding (img2pdf embeds the JPEG/PNG/G4 streams as they are),
but for JPEG-compressed TIFF pages, which are encoded as JPEG once more (`image_to_pdf`).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.models import Letter
from pipeline.thai import ce_year_to_be
from storage.objects import ObjectStore

JPEG_QUALITY = 92  # for JPEG pages encoded again: no visible loss on text scans

CONTENT_TYPES = {".pdf": "application/pdf", ".tif": "image/tiff", ".tiff": "image/tiff", ".jpg": "image/jpeg",
                 ".jpeg": "image/jpeg", ".png": "image/png"}


@dataclass(frozen=True)
class ArchivedKeys:
    pdf: str
    original: str | None
    header: str | None
    ocr: str | None


def key_prefix(letter: Letter, today: dt.date | None = None) -> str:
    """`letters/2561/ลป0017.5` — readable: the year and the sending agency."""
    date = letter.date.value or today or dt.date.today()
    number = letter.number.value
    sender = number.sender_code.replace(" ", "") if number else "unknown"
    return f"letters/{ce_year_to_be(date.year)}/{sender}"


def object_metadata(letter: Letter, sha256: str, station: str) -> dict[str, str]:
    """Plain text (Thai as is): each store encodes what its backend needs (S3: percent-encoding)."""
    meta = {
        "sha256": sha256,
        "station": station,
        "pages": str(letter.pages),
        "kind": letter.kind.value,
    }
    if letter.number.value:
        meta["number"] = letter.number.value.canonical
    if letter.date.value:
        meta["date"] = letter.date.value.isoformat()
    return meta


def image_to_pdf(path: Path, target: Path) -> None:
    """An image scan as PDF, the copy people open; the scan itself is stored beside it unchanged.

    img2pdf embeds the image data as it is. Pages it cannot embed are encoded once more: a
    JPEG-compressed TIFF page as JPEG at high quality (img2pdf would decode it and deflate the
    pixels: 1–3 s of CPU and 4–7× the size of the scan), any other page losslessly as PNG.
    """
    import img2pdf
    from PIL import Image, ImageSequence

    if not _has_jpeg_tiff_pages(path):
        try:
            target.write_bytes(img2pdf.convert(str(path), rotation=img2pdf.Rotation.ifvalid))
            return
        except (img2pdf.ImageOpenError, img2pdf.AlphaChannelError, ValueError, OSError, TypeError):
            pass
    pages = []
    with Image.open(path) as img:
        dpi = img.info.get("dpi", (200, 200))
        for frame in ImageSequence.Iterator(img):
            buf = io.BytesIO()
            mode = frame.mode if frame.mode in ("1", "L") else "RGB"
            converted = frame.convert(mode)
            if frame.info.get("compression") == "jpeg" and mode != "1":
                converted.save(buf, "JPEG", quality=JPEG_QUALITY, dpi=dpi)
            else:
                converted.save(buf, "PNG", dpi=dpi)
            pages.append(buf.getvalue())
    target.write_bytes(img2pdf.convert(pages))


def _has_jpeg_tiff_pages(path: Path) -> bool:
    """A TIFF of JPEG-compressed pages (judged by its first; a mixed one is still converted right)."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            return img.format == "TIFF" and img.info.get("compression") == "jpeg"
    except OSError:
        return False


def archive_scan(store: ObjectStore, path: Path, sha256: str, letter: Letter, station: str) -> ArchivedKeys:
    """Store the scan and what was read from it. Raises on failure; the source is never touched."""
    prefix = key_prefix(letter)
    metadata = object_metadata(letter, sha256, station)
    suffix = path.suffix.lower()
    original_key = None
    if suffix == ".pdf":
        pdf_key = f"{prefix}/{sha256}.pdf"
        store.put_file(pdf_key, path, content_type="application/pdf", metadata=metadata, sha256=sha256)
    else:
        original_key = f"{prefix}/{sha256}{suffix if suffix in CONTENT_TYPES else '.bin'}"
        store.put_file(original_key, path, content_type=CONTENT_TYPES.get(suffix, "application/octet-stream"),
                       metadata=metadata, sha256=sha256)
        pdf_key = f"{prefix}/{sha256}.pdf"
        if store.stat(pdf_key) is None:
            with tempfile.TemporaryDirectory(prefix="saraban-pdf-") as tmp:
                pdf = Path(tmp) / "scan.pdf"
                image_to_pdf(path, pdf)
                store.put_file(pdf_key, pdf, content_type="application/pdf", metadata=metadata)
    header_key = ocr_key = None
    if letter.header_image:
        header_key = f"{prefix}/{sha256}.header.jpg"
        store.put_bytes(header_key, letter.header_image, content_type="image/jpeg")
    if letter.lines:
        ocr_key = f"{prefix}/{sha256}.ocr.json"
        lines = [{"text": line.text, "box": [line.box.x, line.box.y, line.box.w, line.box.h],
                  "confidence": round(line.confidence, 3)} for line in letter.lines]
        store.put_bytes(ocr_key, json.dumps(lines, ensure_ascii=False).encode("utf-8"), content_type="application/json")
    return ArchivedKeys(pdf_key, original_key, header_key, ocr_key)
