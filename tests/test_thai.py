"""Thai text helpers and the parsers' documented examples."""

import doctest
import importlib

import pytest

from pipeline.thai import be_year_to_ce, month_number, normalize_text, strip_marks, to_arabic_digits

DOCTESTED = ["pipeline.thai", "pipeline.extract.number", "pipeline.extract.date", "pipeline.validate",
             "pipeline.ocr.digits", "pipeline.ocr.spelling"]


@pytest.mark.parametrize("module", DOCTESTED)
def test_documented_examples_hold(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(("raw", "expected"), [
    ("ประจํา", "ประจำ"),  # nikhahit + sara aa from OCR
    ("นํ้า", "น้ำ"),  # tone mark between them
    ("น\u0e49\u0e4d\u0e32", "น้ำ"),  # tone mark written before the nikhahit
    ("ที่่", "ที่"),  # a doubled tone mark
    ("กิิน", "กิน"),  # a doubled vowel
    ("  เรื่อง \t ขอเชิญ\n ประชุม ", "เรื่อง ขอเชิญ ประชุม"),
    ("\u200bลำปาง", "ลำปาง"),
    ("(ก.ุบ.จ.)", "(ก.บ.จ.)"),  # a dot read as sara u: a mark with no consonant under it
    ("๒่ ุ", "๒"),  # marks on a digit, on a space
])
def test_normalize_repairs_what_ocr_and_keyboards_produce(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_digits_years_months() -> None:
    assert to_arabic_digits("๐๑๒๓๔๕๖๗๘๙") == "0123456789"
    assert be_year_to_ce(2567) == 2024 and be_year_to_ce(67) == 2024 and be_year_to_ce(2024) == 2024
    assert month_number("ธันวาคม") == 12 and month_number("ธ.ค.") == 12 and month_number("มกรา") is None
    assert strip_marks("ที่") == "ท"


def test_normalising_leaves_real_texts_as_written() -> None:
    """Real letters and documents are already normal: only their spacing changes."""
    import unicodedata

    from pipeline.thai import fold_spaces

    from .conftest import REAL_TEXTS

    texts = sorted(REAL_TEXTS.glob("*.txt"))
    assert len(texts) >= 4
    for path in texts:
        text = unicodedata.normalize("NFC", path.read_text("utf-8"))
        assert normalize_text(text) == fold_spaces(text), path.name


def test_mark_restoration_leaves_a_real_letter_as_printed() -> None:
    """Every word of a real letter, read perfectly, must come out of the OCR repair unchanged
    (ชั้น, นั้น once lost their marks: their letters spell the agency codes ชน, นน)."""
    from pipeline.ocr.spelling import correct

    from .conftest import REAL_TEXTS

    words = normalize_text((REAL_TEXTS / "letter-lampang-2561-ita.txt").read_text("utf-8")).split()
    changed = [(w, correct(w)) for w in words if correct(w) != w]
    assert len(words) > 250 and changed == []
