"""Header fields from read lines: labels, wrapped lines, lists, marks, memo layout, document kind.

Lines are given as the OCR stage delivers them (text + geometry in consonant heights), built here
from the real texts in ../shared/fixtures/real-texts and from domain.md's examples.
"""

from pipeline.extract.header import parse_header
from pipeline.extract.kind import document_kind
from pipeline.extract.number import parse_number
from pipeline.models import Box, DocumentKind
from pipeline.ocr.header import HeaderText

from .conftest import REAL_TEXTS

WIDTH = 60.0  # text column in consonant heights


def line(text: str, indent: float = 0.0, *, index: int = 0, fill: float | None = None, large: bool = False,
         x: int | None = None, tokens: tuple[float, ...] | None = None) -> HeaderText:
    words = text.split(" ")
    if tokens is None:  # token starts: each word roughly its length in consonant widths
        starts, pos = [], indent
        for word in words:
            starts.append(pos)
            pos += len(word) * 0.55 + 0.8
        tokens = tuple(starts)
    fill = fill if fill is not None else min(1.0, (tokens[-1] + len(words[-1]) * 0.55) / WIDTH)
    box = Box(x if x is not None else int(100 + indent * 27), 100 * index, int(fill * 1600), 60)
    return HeaderText(text, box, index, indent, fill, 0.95, large, "", 1.0, tokens, WIDTH)


def lines(*rows: HeaderText) -> list[list[HeaderText]]:
    return [[row] for row in rows]


def test_real_letter_header() -> None:
    text = (REAL_TEXTS / "letter-lampang-2561-ita.txt").read_text("utf-8")
    rows = [r.strip() for r in text.splitlines() if r.strip()][:9]
    # As laid out on the page: number left, office right, date centred, then the labelled fields.
    read = [
        [line(rows[0], 0, index=0), line(rows[1], 40, index=0)],
        [line(rows[2], 40, index=1)],
        [line(rows[3], 28, index=2)],
        [line(rows[4], 0, index=3)],
        [line(rows[5], 0, index=4)],
        [line(rows[6], 0, index=5)],
        [line(rows[7], 0, index=6, tokens=(0.0, 8.6, 10.0, 13.5, 22.0, 25.0, 26.0))],
        [line(rows[8], 8.6, index=7, tokens=(8.6, 10.0, 14.0, 23.0, 26.0, 27.0))],
    ]
    fields = parse_header(read, [])
    assert fields.number_text is not None and "๔๓๘๖" in fields.number_text
    assert fields.date_text == "๑๔ กุมภาพันธ์ ๒๕๖๑"
    assert fields.subject == "การกำหนดมาตรฐานและความเป็นธรรมในการปฏิบัติงานและการให้บริการ"
    assert fields.addressee == "หัวหน้าส่วนราชการประจำจังหวัดลำปาง"
    assert fields.references == ["หนังสือจังหวัดลำปาง ที่ ลป ๐๐๑๗.๕/ว ๓๐๘๙ ลงวันที่ ๑ กุมภาพันธ์ ๒๕๖๑"]
    assert fields.attachments == ["แบบรายงานการกำหนดมาตรการ จำนวน ๑ ชุด", "แบบรายงานการติดตามผลการดำเนินงาน จำนวน ๑ ชุด"]
    assert document_kind(fields) is DocumentKind.LETTER


def test_wrapped_subject_and_addressee_join_at_the_right_place() -> None:
    read = lines(
        line("ที่ ลป ๐๐๑๗.๑/ว ๑๔๑๕๕"),
        line("๑๕ มิถุนายน ๒๕๕๘", 28, index=1),
        # wrapped at a space: the last token is short
        line("เรื่อง ขอเชิญประชุมคณะกรรมการบริหารงานจังหวัดแบบบูรณาการ (ก.บ.จ.)", 0, index=2,
             tokens=(0.0, 4.0, 45.0), fill=0.95),
        line("ครั้งที่ ๒/๒๕๕๘", 4.0, index=3),
        # wrapped inside a phrase: the last token runs over most of the line, so no space
        line("เรียน นายอำเภอทุกอำเภอ และหัวหน้าส่วนราชการประจำจังหวัดลำปางและผู้บริหารองค์กรปกครอง", 0, index=4,
             tokens=(0.0, 3.5, 14.0), fill=1.0),
        line("ส่วนท้องถิ่น", 3.5, index=5),
    )
    fields = parse_header(read, [])
    assert fields.subject == "ขอเชิญประชุมคณะกรรมการบริหารงานจังหวัดแบบบูรณาการ (ก.บ.จ.) ครั้งที่ ๒/๒๕๕๘"
    assert fields.addressee == ("นายอำเภอทุกอำเภอ และหัวหน้าส่วนราชการประจำจังหวัดลำปาง"
                                "และผู้บริหารองค์กรปกครองส่วนท้องถิ่น")


def test_lists_single_items_and_labels_that_lost_their_marks() -> None:
    read = lines(
        line("ที่ มท ๐๘๑๐.๗/ว ๕๘๒๗"),
        line("๑๙ พ.ย. ๖๗", 28, index=1),
        line("เรือง ขอส่งสำเนาคำสั่ง", 0, index=2),  # OCR lost the mark on the label
        line("เรยน ผู้ว่าราชการจังหวัดลำปาง", 0, index=3),
        line("อางถึง หนังสือกระทรวงมหาดไทย ที่ มท ๐๘๑๐.๗/ว ๑๒๓ ลงวันที่ ๑ ตุลาคม ๒๕๖๗", 0, index=4),
        line("สิงที่ส่งมาด้วย สำเนาคำสั่ง จำนวน ๑ ฉบับ", 0, index=5),
        line("ตามที่กระทรวงมหาดไทยได้แจ้ง", 10.5, index=6),  # the body: not aligned with the item's text
    )
    fields = parse_header(read, [])
    assert fields.subject == "ขอส่งสำเนาคำสั่ง"
    assert fields.addressee == "ผู้ว่าราชการจังหวัดลำปาง"
    assert fields.references == ["หนังสือกระทรวงมหาดไทย ที่ มท ๐๘๑๐.๗/ว ๑๒๓ ลงวันที่ ๑ ตุลาคม ๒๕๖๗"]
    assert fields.attachments == ["สำเนาคำสั่ง จำนวน ๑ ฉบับ"]


def test_memo_layout_date_on_the_number_line_and_received_stamp_ignored() -> None:
    read = [
        [line("ส่วนราชการ สำนักงานจังหวัด กลุ่มงานอำนวยการ โทร. ๐ ๕๔๒๖ ๕๐๕๐", 0, index=0)],
        [line("เลขรับ ๔๗๗๘", 44, index=1)],
        [line("วันที่ ๑๙ พ.ย. ๖๗", 44, index=2)],  # the receiver's stamp, not the letter's date
        [line("ที่ ลป ๐๐๑๗.๒/๑๒๓", 0, index=3), line("วันที่ ๒ พฤศจิกายน ๒๕๖๗", 30, index=3)],
        [line("เรื่อง ขออนุมัติเดินทางไปราชการ", 0, index=4)],
        [line("เรียน ผู้ว่าราชการจังหวัดลำปาง", 0, index=5)],
    ]
    title = line("บันทึกข้อความ", 20, large=True)
    fields = parse_header(read, [title])
    assert fields.memo_title
    assert fields.date_text == "๒ พฤศจิกายน ๒๕๖๗"
    assert document_kind(fields) is DocumentKind.MEMO


def test_memo_number_and_date_whose_labels_a_stamp_garbled() -> None:
    """A stamp's edge made a letter of its own before `ที่`, and took `วันที่` away entirely."""
    read = [
        [line("ส่วนราชการ ที่ทำการปกครองอำเภอ โทร. ๐ ๕๔๒๖ ๕๑๓๒", 0, index=0)],
        [line("ฑที่ ลป ๐๔๒๑/ว ๑๐๕๐", 0, index=1), line("๘ พ.ค. ๒๕๖๗", 30, index=1)],
        [line("เรื่อง การจัดงานวันเด็กแห่งชาติ ประจำปี ๒๕๖๗", 0, index=2)],
        [line("เรียน หัวหน้าส่วนราชการ ตามบัญชีแจ้งท้าย", 0, index=3)],
    ]
    fields = parse_header(read, [line("บันทึกข้อความ", 20, large=True)])
    assert fields.number_text is not None and fields.number_text.strip() == "ลป ๐๔๒๑/ว ๑๐๕๐"
    assert fields.date_text == "๘ พ.ค. ๒๕๖๗"


def test_memo_number_without_its_label_and_a_code_letter_read_as_a_digit() -> None:
    """`ที่` lost to the title's line, ธ of ศธ read as 5 between two marks: still the number line."""
    read = lines(line("ส่วนราชการ กลุ่มอำนวยการ โทร. ๐ ๕๔๒๖ ๕๐๘๔"), line("ศี5ิ ๐๔๐๙๙.๑/๕๒๓", 0, index=1),
                 line("เรื่อง ขอเชิญร่วมพิธีถวายพระพรชัยมงคล", 0, index=2))
    fields = parse_header(read, [line("บันทึกข้อความ", 20, large=True)])
    assert fields.number_text is not None
    assert str(parse_number(fields.number_text, known_codes=frozenset({"ศธ", "ลป"}))) == "ศธ 04099.1/523"


def test_number_label_read_twice_around_a_speck() -> None:
    read = lines(line("ที่ฑที่ ลป ๐๐๑๗.๒/๖"), line("๑๘ พฤษภาคม ๒๕๖๗", 30, index=1), line("เรื่อง ทดสอบ", 0, index=2))
    fields = parse_header(read, [])
    assert fields.number_text is not None and fields.number_text.strip() == "ลป ๐๐๑๗.๒/๖"


def test_split_date_day_on_its_own_line() -> None:
    read = lines(line("ที่ ลป ๐๐๑๗.๕/๔๓๘๖"), line("๑๔", 30, index=1), line("กุมภาพันธ์ ๒๕๖๑", 31, index=2),
                 line("เรื่อง ทดสอบ", 0, index=3), line("เรียน นายอำเภอเถิน", 0, index=4))
    assert parse_header(read, []).date_text == "๑๔ กุมภาพันธ์ ๒๕๖๑"


def test_urgency_and_secrecy_by_position_and_word() -> None:
    marks = [line("ด่วนที่สุด", large=True, x=300), line("ลับมาก", large=True, x=1150), line("ดวนมาก", large=True, x=2000)]
    fields = parse_header(lines(line("ที่ ลป ๐๐๑๗.๕/๔๓๘๖"), line("เรื่อง ก", index=1), line("เรียน ข", index=2)),
                          marks, page_width=2480)
    assert fields.urgency == "ด่วนที่สุด" and fields.secrecy == "ลับมาก"


def test_not_letters() -> None:
    order = lines(line("คำสั่งจังหวัดลำปาง", 20), line("ที่ ๑๒๓๔/๒๕๖๗", 24, index=1),
                  line("เรื่อง แต่งตั้งคณะกรรมการ", 18, index=2))
    assert document_kind(parse_header(order, [])) is DocumentKind.NOT_LETTER
    summary_text = (REAL_TEXTS / "not-letter-meeting-summary.txt").read_text("utf-8")
    rows = [r.strip() for r in summary_text.splitlines() if r.strip()][:4]
    summary = lines(*(line(r, 10, index=i) for i, r in enumerate(rows)))
    assert document_kind(parse_header(summary, [])) is DocumentKind.NOT_LETTER
    report_rows = [r.strip() for r in (REAL_TEXTS / "not-letter-pso-report.txt").read_text("utf-8").splitlines()
                   if r.strip()][:6]
    report = lines(*(line(r, 10, index=i) for i, r in enumerate(report_rows)))
    assert document_kind(parse_header(report, [])) is DocumentKind.NOT_LETTER


def test_typewriter_list_marks_set_apart_by_a_tab() -> None:
    """`สิ่งที่ส่งมาด้วย ๑.` then the item at the next tab stop: two segments, the dot lost by OCR."""
    read = [
        [line("ที่ ลป ๐๐๑๘.๑/ว ๘๐๗๕", 0, index=0), line("วันที่ ๖ ก.พ. ๕๘", 33.8, index=0)],
        [line("เรื่อง การรายงานข้อมูลผู้ได้รับผลกระทบจากอุทกภัย", 0, index=1)],
        [line("เรียน ผู้อำนวยการศูนย์โรคเรื้อนที่ ๑๐ ลำปาง", 0, index=2)],
        [line("สิ่งที่ส่งมาด้วย ๑", 0, index=3, tokens=(0.0, 15.1)), line("กำหนดการประชุม จำนวน ๑ แผ่น", 20.3, index=3)],
        [line("๒", 15.1, index=4), line("แบบตอบรับการเข้าร่วมประชุม จำนวน ๑ แผ่น", 20.3, index=4)],
        [line("๓.", 15.2, index=5), line("สำเนาหนังสือกระทรวงมหาดไทย จำนวน ๑ แผ่น", 20.3, index=5)],
    ]
    fields = parse_header(read, [])
    assert fields.attachments == ["กำหนดการประชุม จำนวน ๑ แผ่น", "แบบตอบรับการเข้าร่วมประชุม จำนวน ๑ แผ่น",
                                  "สำเนาหนังสือกระทรวงมหาดไทย จำนวน ๑ แผ่น"]
    assert fields.number_text == "ลป ๐๐๑๘.๑/ว ๘๐๗๕"  # the memo's date beside the number stays apart
    assert fields.date_text == "๖ ก.พ. ๕๘"


def test_wrap_before_a_long_word_that_did_not_fit_has_no_space() -> None:
    """`…และผู้บริหาร` ends short of the margin because `องค์กรปกครองส่วนท้องถิ่น` (one dictionary
    word) did not fit after it, and no space stood in the line's last third: no space between."""
    read = lines(
        line("ที่ ลป ๐๐๑๗.๑/ว ๑๔๑๕๕"),
        line("๑๕ มิถุนายน ๒๕๕๘", 28, index=1),
        line("เรื่อง ขอความร่วมมือประชาสัมพันธ์", 0, index=2),
        line("เรียน หัวหน้าส่วนราชการประจำจังหวัดลำปาง นายอำเภอทุกอำเภอ และผู้บริหาร", 0, index=3,
             tokens=(0.0, 4.4, 30.0, 40.5), fill=0.795),
        line("องค์กรปกครองส่วนท้องถิ่น", 4.4, index=4, fill=0.35),
        line("อ้างถึง หนังสือจังหวัดลำปาง ที่ ลป ๐๐๑๗.๑/ว ๙๙ ลงวันที่ ๑ มิถุนายน ๒๕๕๘ ที่", 0, index=5,
             tokens=(0.0, 5.5, 19.0, 21.0, 23.0, 33.0, 35.0, 40.0, 41.0, 47.0, 52.0), fill=0.9),
        line("๑๐ ลำปาง", 5.5, index=6),
    )
    fields = parse_header(read, [])
    assert fields.addressee == "หัวหน้าส่วนราชการประจำจังหวัดลำปาง นายอำเภอทุกอำเภอ และผู้บริหารองค์กรปกครองส่วนท้องถิ่น"
    assert fields.references == ["หนังสือจังหวัดลำปาง ที่ ลป ๐๐๑๗.๑/ว ๙๙ ลงวันที่ ๑ มิถุนายน ๒๕๕๘ ที่ ๑๐ ลำปาง"]


def test_sender_address_with_a_code_like_a_month_is_not_the_date() -> None:
    """`สป` reads like `ส.ค.` one letter off; the line with a postcode is the sender's address."""
    read = [
        [line("ที่ ศธ ๐๔๐๙๙.๑/๑๒๘", 0, index=0), line("สำนักงานเขตพื้นที่การศึกษาประถมศึกษาลำปาง เขต ๑", 32.9, index=0)],
        [line("ถนนวชิราวุธดำเนิน สป ๕๒๐๐๐", 32.9, index=1)],
        [line("๑๕ สิงหาคม ๒๕๕๘", 31.8, index=2)],
        [line("เรื่อง รายงานผลการตรวจสอบภายใน", 0, index=3)],
        [line("เรียน ผู้อำนวยการด่านกักสัตว์ลำปาง", 0, index=4)],
    ]
    assert parse_header(read, []).date_text == "๑๕ สิงหาคม ๒๕๕๘"


def test_label_one_letter_off_both_subject_and_addressee_goes_by_order() -> None:
    """`เรียง` is one letter from `เรื่อง` and from `เรียน`: first the subject, then the addressee."""
    read = lines(
        line("ที่ ลป ๐๔๒๑/๘๙๕๕"),
        line("๑๙ มีนาคม ๒๕๖๕", 31.2, index=1),
        line("เรียง การรายงานข้อมูลผู้ได้รับผลกระทบจากอุทกภัย", 0, index=2),
        line("เรียง ผู้อำนวยการท่าอากาศยานลำปาง", 0, index=3),
    )
    fields = parse_header(read, [])
    assert fields.subject == "การรายงานข้อมูลผู้ได้รับผลกระทบจากอุทกภัย"
    assert fields.addressee == "ผู้อำนวยการท่าอากาศยานลำปาง"
