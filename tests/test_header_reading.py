"""Header layouts read from rendered pages by the real pipeline (Tesseract, the glyph model)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from pipeline.confidence import THRESHOLDS
from pipeline.models import DocumentKind
from pipeline.ocr.layout import find_lines
from pipeline.reader import read_letter
from samples.render import Page, debian_font, mm

BODY = ("ด้วยสำนักงานจังหวัดลำปางขอความร่วมมือหน่วยงานในสังกัดเข้าร่วมกิจกรรมจิตอาสาพัฒนาเพื่อบำเพ็ญประโยชน์"
        "ในวันที่กำหนด จึงขอให้แจ้งรายชื่อผู้เข้าร่วมภายในสิ้นเดือนนี้")


def _letter_with_day_by_hand(day: str, rest: str, font: str, indent_mm: float = 12) -> Page:
    """A letter whose day was left blank for the signer and filled in on a line of its own;
    month and year `indent_mm` right of where the date begins."""
    page = Page(debian_font(font))
    page.y = mm(48)
    page.text(page.left, "ที่ ลป 0017.2/6520")
    for line in ("ศาลากลางจังหวัดลำปาง", "ถนนวชิราวุธดำเนิน ลป 52000"):  # the sender's address
        page.text(page.right - page.width("ถนนวชิราวุธดำเนิน ลป 52000"), line)
        page.newline()
    page.newline(0.5)
    date_x = page.image.width // 2 - mm(3)
    page.text(date_x + mm(4), day)
    page.newline()
    page.text(date_x + mm(indent_mm), rest)
    _subject_addressee_and_body(page, "ขอความร่วมมือสนับสนุนกิจกรรมจิตอาสาพัฒนา",
                                "ผู้อำนวยการสำนักงานเขตพื้นที่การศึกษามัธยมศึกษาเขต 35")
    page.paragraph(BODY)
    return page


def _subject_addressee_and_body(page: Page, subject: str, addressee: str) -> None:
    page.newline(1.5)
    page.labelled("เรื่อง", subject)
    page.newline(0.5)
    page.labelled("เรียน", addressee)
    page.newline(0.5)
    page.paragraph(BODY)


@pytest.mark.parametrize(("day", "rest", "font", "indent_mm", "expected"), [
    ("4", "พฤศจิกายน 2567", "Loma", 12, dt.date(2024, 11, 4)),  # one narrow digit alone on its line
    ("๗", "มีนาคม ๒๕๖๖", "Garuda", 12, dt.date(2023, 3, 7)),  # a Thai digit Tesseract alone reads as ซ
    ("๗", "มีนาคม ๒๕๖๖", "Sawasdee", 12, dt.date(2023, 3, 7)),  # … or as ญ่
    ("๑๘", "พฤษภาคม ๒๕๖๗", "TlwgTypo", 30, dt.date(2024, 5, 18)),  # month and year where the address stands
])
def test_day_filled_in_by_hand_on_its_own_line(tmp_path: Path, day: str, rest: str, font: str, indent_mm: float,
                                               expected: dt.date) -> None:
    path = tmp_path / "letter.png"
    _letter_with_day_by_hand(day, rest, font, indent_mm).image.convert("L").save(path, dpi=(300, 300))
    letter = read_letter(path)
    assert letter.date.value == expected
    assert letter.number.value is not None and str(letter.number.value) == "ลป 0017.2/6520"


def test_a_speck_alone_is_no_line() -> None:
    page = Page(debian_font("Loma"))
    page.y = mm(48)
    page.text(page.left, "ที่ ลป 0017.2/6520")
    ink = 255 - np.asarray(page.image.convert("L"))
    ink = np.where(ink > 127, 255, 0).astype(np.uint8)
    ink[mm(70):mm(70) + 4, mm(100):mm(100) + 4] = 255  # dust between the lines
    ink[mm(80):mm(80) + 27, mm(100):mm(100) + 2] = 255  # a hair: as tall as a digit, not as wide
    lines = find_lines(ink).lines
    assert len(lines) == 1


def test_date_under_a_received_stamp_frame(tmp_path: Path) -> None:
    """A gray scan keeps no colour: the stamp's frame drawn through the year is black like the
    letters, and joins them into one big component with it."""
    page = Page(debian_font("Loma"))
    page.y = mm(48)
    page.text(page.left, "ที่ ลป ๐๔๒๑/ว ๕๖๔")
    mid = page.left + (page.right - page.left) * 0.5
    page.text(mid, "วันที่ ๔ พฤศจิกายน ๒๕๕๘")
    baseline = int(page.y + page.pitch * 0.7)
    box = (int(mid + page.width("วันที่ ๔ พฤศจิกายน ")), baseline - mm(30), page.right + mm(5),
           baseline + 3)
    page.draw.rectangle(box, outline=(0, 0, 0), width=5)  # its bottom edge runs along the year
    page.text(box[0] + mm(4), "เลขรับ ๓๒๙๒", y=box[1] + mm(10))
    _subject_addressee_and_body(page, "การเตรียมการรับเสด็จ", "นายอำเภอทุกอำเภอ")
    path = tmp_path / "memo.png"
    page.image.convert("L").save(path, dpi=(300, 300))
    letter = read_letter(path)
    assert letter.date.value == dt.date(2015, 11, 4)


@pytest.mark.parametrize(("font", "stroke", "height"), [
    ("Kinnari", 5, 0.5),  # through the middle of the digits
    ("Loma", 3, 0.5),
    ("Loma", 5, 0.5),
    ("Kinnari", 4, 0.7),  # near their tops
])
def test_year_cut_through_by_an_askew_stamp_frame(tmp_path: Path, font: str, stroke: int, height: float) -> None:
    """A stamp set askew: its left edge comes down just after the month and its bottom edge runs
    through the year, `height` consonant heights above the baseline. Taken out of the frame, each
    digit is a top and a bottom too small to be a letter; joined again, the year is read — unsure,
    as anything a frame ran into."""
    page = Page(debian_font(font))
    page.y = mm(48)
    page.text(page.left, "ที่ ลป ๐๐๓๓.๐๐๙/๒๖")
    mid = page.left + (page.right - page.left) * 0.5
    page.text(mid, "วันที่ ๒๔ ก.ย. ๒๕๖๗")
    edge = page.y + page.pitch * 0.7 - page.consonant * height  # where it crosses the year
    x0 = mid + page.width("วันที่ ๒๔ ก.ย.") + mm(0.8)
    x1 = page.right + mm(8)
    year = x0 + page.width(" ๒๕๖๗") / 2
    slope = 0.035  # about 2°: the edge climbs to the right
    y0, y1 = edge + (year - x0) * slope, edge - (x1 - year) * slope
    corners = [(x0, y0), (x1, y1), (x1, y1 - mm(30)), (x0, y0 - mm(30))]
    page.draw.line(corners + corners[:1], fill=(0, 0, 0), width=stroke)
    page.text(x0 + mm(4), "เลขรับ ๑๑๕๗", y=edge - mm(22))
    _subject_addressee_and_body(page, "การสำรวจข้อมูลความต้องการฝึกอบรม", "ผู้อำนวยการมหาวิทยาลัยราชภัฏลำปาง")
    path = tmp_path / "letter.png"
    page.image.convert("L").save(path, dpi=(300, 300))
    letter = read_letter(path)
    assert letter.date.value == dt.date(2024, 9, 24)
    assert letter.date.confidence < THRESHOLDS["date"]


def test_tall_vowel_beside_a_pile_of_marks_stays_in_its_line(tmp_path: Path) -> None:
    """A 200-dpi scan blurs the marks over the bold `เรื่อง` into one pile as tall as a small letter;
    the ใ of `ใน` further on rises as high. Lines are grown from the top, so the ใ joined the pile's
    row, and the subject lost it (`เนื่อง นวัน`)."""
    from PIL import ImageFilter

    from samples.generate import heldout_fonts

    subject = "การจัดกิจกรรมเฉลิมพระเกียรติเนื่องในวันเฉลิมพระชนมพรรษา"
    page = Page(next(f for f in heldout_fonts() if f.name == "anuphan"))
    page.y = mm(48)
    page.text(page.left, "ที่ ลป ๐๐๑๘.๓/ว ๒๕๖")
    page.newline(1.5)
    page.labelled("เรื่อง", subject, bold_label=True)
    page.newline(0.5)
    page.labelled("เรียน", "หัวหน้าส่วนราชการประจำจังหวัดลำปาง", bold_label=True)
    page.newline(0.5)
    page.paragraph(BODY)
    image = page.image.convert("L")
    image = image.resize((image.width * 2 // 3, image.height * 2 // 3)).filter(ImageFilter.GaussianBlur(1.0))
    path = tmp_path / "letter.png"
    image.save(path, dpi=(200, 200))
    assert read_letter(path).subject.value == subject


def test_memo_date_right_of_the_centre_is_read(tmp_path: Path) -> None:
    """A memo has no sender's address: its `วันที่ …` is read even where a letter's address would
    stand, and even when the `ที่` line does not start at the margin (the label set in, or merged
    into the line above on a dark scan)."""
    page = Page(debian_font("Garuda"))
    page.y = mm(40)
    title = "บันทึกข้อความ"
    page.text((page.left + page.right - page.width(title, True, 1.6)) / 2, title, bold=True, scale=1.6)
    page.newline(1.6)
    page.labelled("ส่วนราชการ", "สำนักงานจังหวัดลำปาง กลุ่มงานอำนวยการ โทร. ๐ ๕๔๒๖ ๕๓๐๙", bold_label=True)
    page.text(page.left + mm(4), "ที่ ลป ๐๐๑๗.๓/ว ๑๓๘๖")
    page.text(page.left + (page.right - page.left) * 0.62, "วันที่ ๗ สิงหาคม ๒๕๖๑")
    _subject_addressee_and_body(page, "มาตรการประหยัดพลังงานในหน่วยงานภาครัฐ", "หัวหน้าส่วนราชการประจำจังหวัดลำปาง")
    path = tmp_path / "memo.png"
    page.image.convert("L").save(path, dpi=(300, 300))
    letter = read_letter(path)
    assert letter.date.value == dt.date(2018, 8, 7)
    assert letter.number.value is not None and str(letter.number.value) == "ลป 0017.3/ว 1386"


def test_header_under_a_dark_corner_is_still_read(tmp_path: Path) -> None:
    """A bilevel scan whose top right went dark where the lamp light fell off: its grain groups
    into dozens of short "lines" in the sender's address column, above the labels at the margin."""
    import random

    from samples.scan import ScanSettings, degrade

    page = Page(debian_font("Loma"))
    page.y = mm(48)
    page.text(page.left, "ที่ ลป ๐๐๓๓.๐๐๙/ว ๒๗๐")
    for line in ("สำนักงานสาธารณสุขจังหวัดลำปาง", "ถนนพหลโยธิน ลป ๕๒๐๐๐"):
        page.text(page.right - page.width("สำนักงานสาธารณสุขจังหวัดลำปาง"), line)
        page.newline()
    page.newline(0.5)
    page.text(page.image.width // 2 - mm(3), "๒๒ พฤษภาคม ๒๕๕๘")
    _subject_addressee_and_body(page, "ขออนุญาตใช้สถานที่จัดประชุมเชิงปฏิบัติการ", "หัวหน้าส่วนราชการทุกส่วน")
    settings = ScanSettings(mode="bilevel", dpi=300, blur=1.0, noise=8.0, light=0.38, threshold=173)
    path = tmp_path / "letter.png"
    degrade(page.image, settings, random.Random(62)).save(path, dpi=(300, 300))  # 62: the top right darkens
    letter = read_letter(path)
    assert letter.kind is DocumentKind.LETTER  # not noise from top to bottom
    assert letter.number.value is not None and str(letter.number.value) == "ลป 0033.009/ว 270"
    assert letter.date.value == dt.date(2015, 5, 22)
    assert letter.addressee.value == "หัวหน้าส่วนราชการทุกส่วน"


def test_a_day_in_a_font_unlike_the_training_fonts_is_read_before_its_month(tmp_path: Path) -> None:
    """Noto Sans Thai's loopless ๓ alone on a bilevel 150-dpi scan: the glyph model calls it a letter
    (Tesseract reads ต), but before a month only a number can stand."""
    import random

    from samples.generate import heldout_fonts
    from samples.scan import ScanSettings, degrade

    noto = next(spec for spec in heldout_fonts() if spec.name == "noto-sans-thai")
    page = Page(noto)
    page.y = mm(48)
    page.text(page.left, "ที่ ลป ๐๐๑๗.๒/๖๕๒๐")
    page.newline(2)
    page.text(page.image.width // 2 - mm(3), "๓ มีนาคม ๒๕๖๖")
    _subject_addressee_and_body(page, "ขอความร่วมมือสนับสนุนกิจกรรมจิตอาสาพัฒนา", "นายอำเภอเถิน")
    settings = ScanSettings(mode="bilevel", dpi=150, blur=0.6, noise=3.0, light=0.1, threshold=160)
    path = tmp_path / "letter.png"
    degrade(page.image, settings, random.Random(1)).save(path, dpi=(150, 150))
    assert read_letter(path).date.value == dt.date(2023, 3, 3)


def test_a_number_read_without_its_slash_is_unsure(tmp_path: Path) -> None:
    """ว right after the agency's digits: the number is read around the lost slash, but never so
    surely that it is accepted without the register or a person."""
    page = Page(debian_font("Garuda"))
    page.y = mm(48)
    page.text(page.left, "ที่ ลป ๐๔๒๑ว ๑๒๓")
    page.newline(2)
    page.text(page.image.width // 2 - mm(3), "๔ พฤศจิกายน ๒๕๕๘")
    _subject_addressee_and_body(page, "การเตรียมการรับเสด็จ", "นายอำเภอทุกอำเภอ")
    path = tmp_path / "letter.png"
    page.image.convert("L").save(path, dpi=(300, 300))
    letter = read_letter(path)
    assert str(letter.number.value) == "ลป 0421/ว 123"
    assert letter.number.confidence <= 0.5
