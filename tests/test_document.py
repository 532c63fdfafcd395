"""Loading every format a station produces, and the clear error for each kind of bad file."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.document import open_document
from pipeline.errors import (
    CorruptFileError,
    EmptyFileError,
    EncryptedFileError,
    FileTooLargeError,
    IntakeError,
    UnsupportedFormatError,
)

from .conftest import LETTERS, truth


@pytest.mark.parametrize("name", ["01-circular-groups.pdf", "05-memo.tif", "06-arabic-digits.jpg",
                                  "12-bilevel-fax.tif", "11-meeting-summary.tif"])
def test_loads_each_format_with_its_pages(name: str) -> None:
    doc = open_document(LETTERS / name)
    assert doc.page_count == truth(name)["pages"]
    page = doc.page(0)
    assert page.image.dtype == np.uint8 and page.image.shape[0] > 1000
    assert 140 <= page.dpi <= 310
    small = doc.page(doc.page_count - 1, colour=False, max_dpi=100)
    assert small.image.ndim == 2 and small.dpi <= 105


def test_png_and_a_pdf_poppler_must_render(tmp_path: Path) -> None:
    img = Image.new("L", (1654, 2339), 255)
    png = tmp_path / "scan.png"
    img.save(png, dpi=(200, 200))
    assert open_document(png).page(0).dpi == pytest.approx(200, abs=1)
    # A PDF whose page is not a single JPEG is rendered by Poppler.
    pdf = tmp_path / "drawn.pdf"
    img.save(pdf, "PDF", resolution=200)
    page = open_document(pdf).page(0, max_dpi=100)
    assert page.image.shape[1] == pytest.approx(827, abs=3)


def _error_for(path: Path) -> IntakeError:
    with pytest.raises(IntakeError) as info:
        doc = open_document(path)
        doc.page(0)
    return info.value


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    error = _error_for(path)
    assert isinstance(error, EmptyFileError) and "ว่างเปล่า" in error.reason


def test_corrupt_pdf_and_truncated_jpeg(tmp_path: Path) -> None:
    pdf = tmp_path / "broken.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer <<>>\n%%EOF")
    assert isinstance(_error_for(pdf), CorruptFileError)
    jpeg = tmp_path / "cut.jpg"
    jpeg.write_bytes((LETTERS / "06-arabic-digits.jpg").read_bytes()[:5000])
    error = _error_for(jpeg)
    assert isinstance(error, CorruptFileError) and "เสียหาย" in error.reason
    renamed = tmp_path / "notes.pdf"
    renamed.write_text("this is not a pdf")
    assert isinstance(_error_for(renamed), CorruptFileError)


def test_encrypted_pdf(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(LETTERS / "02-single-addressee.pdf").pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner")
    path = tmp_path / "locked.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    error = _error_for(path)
    assert isinstance(error, EncryptedFileError) and "รหัสผ่าน" in error.reason


def test_unsupported_and_too_large(tmp_path: Path) -> None:
    doc = tmp_path / "letter.docx"
    doc.write_bytes(b"PK\x03\x04 not a scan")
    assert isinstance(_error_for(doc), UnsupportedFormatError)
    big = tmp_path / "big.pdf"
    big.write_bytes((LETTERS / "02-single-addressee.pdf").read_bytes())
    with pytest.raises(FileTooLargeError):
        open_document(big, max_bytes=1000)
