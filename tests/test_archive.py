"""The PDF copy of an image scan: every page, at the scan's size, looking like the scan."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageSequence

from pipeline.document import open_document
from storage.archive import image_to_pdf

from .conftest import LETTERS


def _multipage_jpeg_tiff(path: Path) -> Path:
    """A 2-page JPEG-compressed colour TIFF, as colour scanners write them."""
    with Image.open(LETTERS / "05-memo.tif") as memo:
        page = memo.convert("RGB")
    page.save(path, save_all=True, append_images=[page.rotate(180)], compression="jpeg", quality=75,
              dpi=(200, 200))
    return path


@pytest.mark.parametrize("name", ["05-memo.tif", "12-bilevel-fax.tif", "06-arabic-digits.jpg", "jpeg-colour.tif"])
def test_image_scans_become_a_pdf_of_the_same_pages(name: str, tmp_path: Path) -> None:
    scan = _multipage_jpeg_tiff(tmp_path / name) if name == "jpeg-colour.tif" else LETTERS / name
    pdf = tmp_path / "scan.pdf"
    image_to_pdf(scan, pdf)

    with Image.open(scan) as img:
        frames = [(float(f.info.get("dpi", (200, 200))[0]), np.asarray(f.convert("L"), np.int16))
                  for f in ImageSequence.Iterator(img)]
    doc = open_document(pdf)
    assert doc.page_count == len(frames)
    for i, (dpi, pixels) in enumerate(frames):
        page = doc.page(i, colour=False)  # embedded image, or rendered by Poppler (G4) at 300 dpi
        inches = np.array(page.image.shape) / page.dpi
        assert np.allclose(inches, np.array(pixels.shape) / dpi, rtol=0.01)  # prints at the paper size
        seen = cv2.resize(page.image, pixels.shape[::-1], interpolation=cv2.INTER_AREA)
        assert np.abs(seen.astype(np.int16) - pixels).mean() < 6.0
    # JPEG pages stay JPEG: the copy is not several times the scan (deflated pixels were 4–7×).
    assert pdf.stat().st_size < 2 * scan.stat().st_size + 20_000
