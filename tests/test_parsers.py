"""The number and date grammars on real header lines and on their failure cases."""

import datetime as dt

import pytest

from pipeline.extract.date import parse_date, read_date
from pipeline.extract.number import parse_number

from .conftest import REAL_TEXTS


@pytest.mark.parametrize(("text", "canonical"), [
    ("ที่ ลป ๐๐๑๗.๕/ว ๔๓๘๖", "ลป 0017.5/ว 4386"),  # letter-lampang-2561-ita.txt
    ("ที่ ลป ๐๐๑๗.๑/ว ๑๔๑๕๕", "ลป 0017.1/ว 14155"),
    ("มท ๐๘๑๐.๗/ว ๕๘๒๗", "มท 0810.7/ว 5827"),
    ("ลป ๐๐๑๗.๕/๔๓๘๖", "ลป 0017.5/4386"),
    ("ที่ พร ๐๐๒๓.๑/ว", "พร 0023.1/ว"),  # blank serial
    ("ศธ 04002/123", "ศธ 04002/123"),  # five-digit agency, Arabic digits
    ("ลป ๐๕๐๑.๑.๑๓/๑๒", "ลป 0501.1.13/12"),  # sub-levels
    ("ที่ลป๐๐๑๗.๑/ว๑๔๑๕๕", "ลป 0017.1/ว 14155"),  # no spaces at all
    ("ที่ ลป ๐๐๑๗ . ๕ / ว ๔๓๘๖", "ลป 0017.5/ว 4386"),  # spaces everywhere
    ("ลป ๐๐๒๓.๕/ว) ๑๕๕๘๖", "ลป 0023.5/ว 15586"),  # a bold ว read as ว) ...
    ("ลป ๐๐๒๓.๕/) ๑๓๘๓๗", "ลป 0023.5/ว 13837"),  # ... or as )
])
def test_number_grammar(text: str, canonical: str) -> None:
    number = parse_number(text)
    assert number is not None and number.canonical == canonical


def test_blank_serial_is_incomplete() -> None:
    number = parse_number("พร ๐๐๒๓.๑/ว")
    assert number is not None and not number.complete and number.circular


@pytest.mark.parametrize("text", ["ที่ ลป", "ลป ๑๒/๓", "เรื่อง ขอเชิญประชุม", "", "ที่ ๐๐๑๗.๕/ว ๔๓๘๖"])
def test_number_grammar_rejects(text: str) -> None:
    assert parse_number(text) is None


def test_real_letter_header_number_and_date() -> None:
    lines = [line.strip() for line in (REAL_TEXTS / "letter-lampang-2561-ita.txt").read_text("utf-8").splitlines()]
    number_line = next(line for line in lines if line.startswith("ที่ "))
    assert parse_number(number_line).canonical == "ลป 0017.5/ว 4386"  # type: ignore[union-attr]
    date_line = next(line for line in lines if line.endswith("๒๕๖๑") and "กุมภาพันธ์" in line and len(line) < 25)
    assert parse_date(date_line) == dt.date(2018, 2, 14)


@pytest.mark.parametrize(("text", "expected"), [
    ("๑๕ มิถุนายน ๒๕๕๘", dt.date(2015, 6, 15)),
    ("๑๙ พ.ย. ๒๕๖๗", dt.date(2024, 11, 19)),
    ("๑๙ พ.ย. ๖๗", dt.date(2024, 11, 19)),  # two-digit BE year
    ("19 พ.ย. 2567", dt.date(2024, 11, 19)),
    ("1 มกราคม 2024", dt.date(2024, 1, 1)),  # CE year
    ("วันที่ ๑ ก.พ. ๒๕๖๗", dt.date(2024, 2, 1)),
    ("๗ กุมภาพนธ ๒๕๖๑", dt.date(2018, 2, 7)),  # a month missing its marks, as OCR gives it
    ("ลงวันที่ ๑ กุมภาพันธ์ พ.ศ. ๒๕๖๑", dt.date(2018, 2, 1)),
    ("๒๔ กรกฎาคม ๒๕ ๖๕", dt.date(2022, 7, 24)),  # a year OCR split in two
    ("วันที่ 21 ส.ค. 2 558", dt.date(2015, 8, 21)),
    ("๓ พ.ย. ๒๕๖ ๗", dt.date(2024, 11, 3)),
])
def test_date_grammar(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


def test_a_year_out_of_range_is_the_one_in_range_a_look_alike_digit_away_and_unsure() -> None:
    repaired = read_date("วันที่ ๑๓ ก.พ. ๒๔๖๘")  # ๕ read as ๔ on a bilevel scan: 1925
    assert repaired is not None and repaired.date == dt.date(2025, 2, 13)
    assert repaired.score < read_date("วันที่ ๑๓ ก.พ. ๒๕๖๘").score  # type: ignore[union-attr]
    # a year that several look-alike digits would bring into range stays unread
    assert read_date("๑๓ ก.พ. ๒๘๖๘") is None


@pytest.mark.parametrize("text", ["๓๑ กุมภาพันธ์ ๒๕๖๗", "๑๔ ๒๕๖๑", "เลขรับ ๔๗๗๘", "๑๔ กุมภาพันธ์", ""])
def test_date_grammar_rejects(text: str) -> None:
    assert parse_date(text) is None


@pytest.mark.parametrize(("text", "canonical"), [
    ("ที่ ศถ5 ๐๔๐๙๙.๑/๒๖๓", "ศธ 04099.1/263"),  # ธ read as ถ and a digit
    ("ที่ ศ5 ๐๔๐๙๙.๑/๒๖๓", "ศธ 04099.1/263"),  # ธ read as a digit
    ("ที่ ศั5 ๐๔๐๙๙/๕๙๗", "ศธ 04099/597"),  # … with a stray mark
    ("ที่ ลป5 ๐๐๑๗.๒/๖", "ลป 0017.2/6"),  # a stray digit after the code
])
def test_code_letters_misread_as_digits_with_the_registers_codes(text: str, canonical: str) -> None:
    number = parse_number(text, known_codes=frozenset({"ศธ", "ลป", "ลพ"}))
    assert number is not None and number.canonical == canonical


def test_a_circulars_slash_lost_into_the_digit_before_it() -> None:
    """`๐๔๒๑/ว` in bold on a fax: the slash fused into ๑ and the pair read as ๘. ว right after the
    agency's digits shows where the slash stood; the register's agencies tell the digit."""
    known = frozenset({("ลป", "0421"), ("ลป", "0017.2")})
    assert str(parse_number("ที่ ลูป ๐๔๒๘ว", known_codes=frozenset({"ลป"}), known_agencies=known)) == "ลป 0421/ว"
    assert str(parse_number("ที่ ลป ๐๔๒๑ว ๑๒๓")) == "ลป 0421/ว 123"  # only the slash dropped
    # two agencies it could be: as read (unsure, for a person)
    assert str(parse_number("ที่ ลป ๐๔๒๘ว", known_agencies=known | {("ลป", "0422")})) == "ลป 0428/ว"
    assert parse_number("ที่ ลป ๐๔๒๘๑๒๓") is None  # without ว nothing shows where the slash was


@pytest.mark.parametrize(("text", "known", "canonical"), [
    ("ที่ ศจ ๐๔๐๙๙.๑/ว ๒๓๐๙", {"ศธ", "ลป"}, "ศธ 04099.1/ว 2309"),  # ธ read as จ: no code begins ศจ
    ("ที่ ศจ ๐๔๐๙๙.๑/ว ๒๓๐๙", {"ศธ", "ศก", "ลป"}, "ศจ 04099.1/ว 2309"),  # two codes could be meant: as read
    ("ที่ ศก ๐๔๐๙๙.๑/ว ๒๓๐๙", {"ศธ", "ลป"}, "ศก 04099.1/ว 2309"),  # a real code (Sisaket) stays
])
def test_a_code_that_is_none_is_the_registers_only_code_with_its_first_letter(
        text: str, known: set[str], canonical: str) -> None:
    number = parse_number(text, known_codes=frozenset(known))
    assert number is not None and number.canonical == canonical
