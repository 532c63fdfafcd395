"""What a synthetic letter says: random but realistic contents, with the ground truth.

The vocabulary follows real Lampang correspondence (../shared/fixtures/real-texts/): the senders
are units of the province with their numbering codes, the addressees are positions, units and
groups of `samples/directory.yaml`, subjects and bodies are typical of งานสารบรรณ.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from pipeline.models import LetterNumber
from pipeline.thai import MONTHS, ce_year_to_be, to_arabic_digits, to_thai_digits


@dataclass(frozen=True)
class Sender:
    unit_name: str  # as in the directory (its id: sender_unit_id())
    code: str  # ลป
    agencies: tuple[str, ...]  # agency numbers this unit numbers from
    office: tuple[str, ...]  # the address block at the top right
    section: str  # the owning section at the bottom left
    signer_position: tuple[str, ...]


LAMPANG_HALL = ("ศาลากลางจังหวัดลำปาง", "ถนนวชิราวุธดำเนิน ลป ๕๒๐๐๐")

SENDERS: tuple[Sender, ...] = (
    Sender("สำนักงานจังหวัดลำปาง", "ลป", ("0017.1", "0017.2", "0017.3", "0017.5"), LAMPANG_HALL,
           "สำนักงานจังหวัด กลุ่มงานอำนวยการ", ("รองผู้ว่าราชการจังหวัด ปฏิบัติราชการแทน", "ผู้ว่าราชการจังหวัดลำปาง")),
    Sender("ที่ทำการปกครองจังหวัดลำปาง", "ลป", ("0018.1", "0018.3"), LAMPANG_HALL,
           "ที่ทำการปกครองจังหวัด ฝ่ายอำนวยการ", ("ปลัดจังหวัด ปฏิบัติราชการแทน", "ผู้ว่าราชการจังหวัดลำปาง")),
    Sender("สำนักงานท้องถิ่นจังหวัดลำปาง", "ลป", ("0023.1", "0023.3", "0023.5"), LAMPANG_HALL,
           "สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัด กลุ่มงานกฎหมาย", ("ท้องถิ่นจังหวัดลำปาง",)),
    Sender("สำนักงานคลังจังหวัดลำปาง", "กค", ("0417.34",), LAMPANG_HALL,
           "สำนักงานคลังจังหวัด กลุ่มงานบริหารการคลัง", ("คลังจังหวัดลำปาง",)),
    Sender("สำนักงานสาธารณสุขจังหวัด", "ลป", ("0033.001", "0033.009"),
           ("สำนักงานสาธารณสุขจังหวัดลำปาง", "ถนนพหลโยธิน ลป ๕๒๐๐๐"),
           "กลุ่มงานบริหารทั่วไป", ("นายแพทย์สาธารณสุขจังหวัดลำปาง",)),
    Sender("สำนักงานเขตพื้นที่การศึกษาระถมศึกษาลำปาง เขต ๑", "ศธ", ("04099", "04099.1"),
           ("สำนักงานเขตพื้นที่การศึกษาประถมศึกษาลำปาง เขต ๑", "ถนนวชิราวุธดำเนิน ลป ๕๒๐๐๐"),
           "กลุ่มอำนวยการ", ("ผู้อำนวยการสำนักงานเขตพื้นที่การศึกษาประถมศึกษาลำปาง เขต ๑",)),
    Sender("ที่ว่าการอำเภอเกาะคา", "ลป", ("0418", "0418.1"),
           ("ที่ว่าการอำเภอเกาะคา", "ถนนลำปาง-เกาะคา ลป ๕๒๑๓๐"), "ที่ทำการปกครองอำเภอ", ("นายอำเภอเกาะคา",)),
    Sender("ที่ว่าการอำเภอเถิน", "ลป", ("0421",), ("ที่ว่าการอำเภอเถิน", "ถนนพหลโยธิน ลป ๕๒๑๖๐"),
           "ที่ทำการปกครองอำเภอ", ("นายอำเภอเถิน",)),
    Sender("สำนักงานวัฒนธรรมจังหวัดลำปาง", "ลป", ("0029.1",),
           ("สำนักงานวัฒนธรรมจังหวัดลำปาง", "ถนนวชิราวุธดำเนิน ลป ๕๒๐๐๐"),
           "กลุ่มส่งเสริมศาสนา ศิลปะ และวัฒนธรรม", ("วัฒนธรรมจังหวัดลำปาง",)),
    Sender("สำนักงานพัฒนาชุมชนจังหวัดลำปาง", "ลป", ("0019.1", "0019.3"), LAMPANG_HALL,
           "กลุ่มงานยุทธศาสตร์การพัฒนาชุมชน", ("พัฒนาการจังหวัดลำปาง",)),
)

# Letters from outside the province: their numbers are in no register of ours.
OUTSIDE_SENDERS: tuple[Sender, ...] = (
    Sender("กรมส่งเสริมการปกครองท้องถิ่น", "มท", ("0810.7", "0810.4", "0816.3"),
           ("กรมส่งเสริมการปกครองท้องถิ่น", "ถนนนครราชสีมา เขตดุสิต กทม. ๑๐๓๐๐"), "กองพัฒนาและส่งเสริมการบริหารงานท้องถิ่น",
           ("รองอธิบดี ปฏิบัติราชการแทน", "อธิบดีกรมส่งเสริมการปกครองท้องถิ่น")),
    Sender("สำนักงานปลัดสำนักนายกรัฐมนตรี", "นร", ("0105.04", "0105"),
           ("สำนักงานปลัดสำนักนายกรัฐมนตรี", "ทำเนียบรัฐบาล กทม. ๑๐๓๐๐"), "กองการเจ้าหน้าที่",
           ("ปลัดสำนักนายกรัฐมนตรี",)),
    Sender("จังหวัดแพร่", "พร", ("0023.1", "0017.2"), ("ศาลากลางจังหวัดแพร่", "ถนนไชยบูรณ์ พร ๕๔๐๐๐"),
           "สำนักงานจังหวัด", ("ผู้ว่าราชการจังหวัดแพร่",)),
)

SUBJECTS: tuple[str, ...] = (
    "การกำหนดมาตรฐานและความเป็นธรรมในการปฏิบัติงานและการให้บริการ",
    "แจ้งวิธีการ/ขั้นตอนการใช้งานระบบสารบรรณอิเล็กทรอนิกส์ (e-Document)",
    "ขอเชิญประชุมหัวหน้าส่วนราชการ ครั้งที่ {n}/{y}",
    "การประเมินคุณธรรมและความโปร่งใสในการดำเนินงานของหน่วยงานภาครัฐ ประจำปีงบประมาณ พ.ศ. {y}",
    "ขอความร่วมมือรายงานผลการดำเนินงานตามแผนปฏิบัติราชการ ประจำปีงบประมาณ {y}",
    "การจัดงานวันเด็กแห่งชาติ ประจำปี {y}",
    "ขอเชิญร่วมพิธีถวายพระพรชัยมงคล",
    "การเตรียมความพร้อมรับมือสถานการณ์ภัยแล้ง",
    "การป้องกันและแก้ไขปัญหาหมอกควันและไฟป่า",
    "ขอความอนุเคราะห์ประชาสัมพันธ์โครงการตลาดนัดแรงงาน",
    "ซักซ้อมแนวทางการปฏิบัติงานสารบรรณ",
    "การรายงานข้อมูลผู้ได้รับผลกระทบจากอุทกภัย",
    "ขอเชิญเข้าร่วมอบรมเชิงปฏิบัติการการใช้งานระบบบัญชีภาครัฐ",
    "การตรวจติดตามการเบิกจ่ายงบประมาณรายจ่ายประจำปี",
    "ขอส่งสำเนาคำสั่งแต่งตั้งคณะกรรมการ",
    "การรณรงค์แต่งกายด้วยชุดพื้นเมืองทุกวันศุกร์",
    "มาตรการประหยัดพลังงานในหน่วยงานภาครัฐ",
    "การคัดเลือกหมู่บ้านเศรษฐกิจพอเพียงต้นแบบ",
    "ขอให้จัดส่งข้อมูลบุคลากรเพื่อจัดทำทะเบียนประวัติ",
    "แจ้งกำหนดการตรวจราชการของผู้ตรวจราชการกระทรวง",
    "การเฝ้าระวังและป้องกันโรคไข้เลือดออก",
    "ขอความร่วมมือประชาสัมพันธ์การรับสมัครเข้ารับการคัดเลือก",
    "การจัดเก็บภาษีที่ดินและสิ่งปลูกสร้าง ประจำปี {y}",
    "แนวทางการจัดทำแผนพัฒนาท้องถิ่น",
    "ขอเชิญร่วมงานประเพณีสงกรานต์ ประจำปี {y}",
    "การรายงานผลการดำเนินงานศูนย์ดำรงธรรม",
    "ขอให้ตรวจสอบข้อมูลผู้มีสิทธิเลือกตั้ง",
    "การป้องกันและปราบปรามยาเสพติด",
    "การสำรวจข้อมูลความต้องการฝึกอบรม",
    "ขออนุญาตใช้สถานที่จัดประชุมเชิงปฏิบัติการ",
    "การจัดกิจกรรมเฉลิมพระเกียรติเนื่องในวันเฉลิมพระชนมพรรษา",
    "แจ้งผลการพิจารณาจัดสรรงบประมาณ",
    "การเตรียมการรับเสด็จ",
    "ขอความอนุเคราะห์ข้อมูลเพื่อประกอบการจัดทำรายงานประจำปี",
    "การยืนยันรายชื่อผู้เข้ารับการอบรมหลักสูตรนักบริหารระดับกลาง รุ่นที่ {n}",
    "ขอความร่วมมือตอบแบบสำรวจความพึงพอใจของผู้รับบริการ",
    "การขับเคลื่อนวาระลำปางเมืองแห่งการเรียนรู้ เมืองน่าอยู่สำหรับเด็กและเยาวชน",
    "ประชาสัมพันธ์การใช้งานแอปพลิเคชันทางรัฐ",
    "การบันทึกข้อมูลในระบบติดตามและประเมินผลแห่งชาติ (eMENSCR)",
    "ขอให้จัดส่งผู้แทนเข้าร่วมเป็นคณะทำงาน",
    "การจัดทำบัญชีถือจ่ายเงินเดือนข้าราชการ ปีงบประมาณ พ.ศ. {y}",
    "ขอเชิญประชุมคณะกรรมการบริหารงานจังหวัดแบบบูรณาการ (ก.บ.จ.) ครั้งที่ {n}/{y}",
    "การดำเนินการตามพระราชบัญญัติการอำนวยความสะดวกในการพิจารณาอนุญาตของทางราชการ พ.ศ. ๒๕๕๘",
    "การเผยแพร่ข้อมูลข่าวสารของราชการตามพระราชบัญญัติข้อมูลข่าวสารของราชการ",
    "แจ้งเปลี่ยนแปลงหมายเลขโทรศัพท์ของหน่วยงาน",
    "ขอความร่วมมือสนับสนุนกิจกรรมจิตอาสาพัฒนา",
    "การติดตามผลการดำเนินงานโครงการไทยนิยม ยั่งยืน",
    "การจัดงานมหกรรมของดีเมืองลำปาง ครั้งที่ {n}",
    "รายงานผลการตรวจสอบภายใน ประจำไตรมาสที่ {n}",
    "การรับฟังความคิดเห็นต่อร่างแผนพัฒนาจังหวัดลำปาง (พ.ศ. ๒๕๖๖ - ๒๕๗๐)",
)

ADDRESSEE_GROUPS = (
    # (printed addressee, directory group ids)
    ("นายอำเภอทุกอำเภอ", ["amphoe-all"]),
    ("หัวหน้าส่วนราชการประจำจังหวัดลำปาง", ["provincial-heads"]),
    ("หัวหน้าส่วนราชการทุกส่วน", ["provincial-heads"]),
    ("นายอำเภอทุกอำเภอ และหัวหน้าส่วนราชการประจำจังหวัดลำปาง", ["amphoe-all", "provincial-heads"]),
    ("หัวหน้าส่วนราชการส่วนภูมิภาค", ["regional"]),
    ("หัวหน้าส่วนราชการส่วนกลาง", ["central"]),
    ("ผู้บริหารองค์กรปกครองส่วนท้องถิ่น", ["local"]),
    ("หัวหน้าส่วนราชการประจำจังหวัดลำปาง นายอำเภอทุกอำเภอ และผู้บริหารองค์กรปกครองส่วนท้องถิ่น",
     ["provincial-heads", "amphoe-all", "local"]),
    ("หัวหน้าส่วนราชการส่วนภูมิภาค หัวหน้าส่วนราชการส่วนกลาง และนายอำเภอทุกอำเภอ",
     ["regional", "central", "amphoe-all"]),
)

BODY_SENTENCES: tuple[str, ...] = (
    "ตามที่จังหวัดลำปางได้จัดประชุมเพื่อซักซ้อมการดำเนินการประเมินคุณธรรมและความโปร่งใสในการดำเนินงานของหน่วยงานภาครัฐ",
    "เพื่อให้การดำเนินงานเป็นไปด้วยความเรียบร้อยอย่างมีประสิทธิภาพ สอดคล้องตามระเบียบสำนักนายกรัฐมนตรีว่าด้วยงานสารบรรณ",
    "จึงขอให้ส่วนราชการกำหนดมาตรการ กลไก หรือระบบในการตรวจสอบการปฏิบัติงานของเจ้าหน้าที่ตามคู่มือการปฏิบัติงาน",
    "ในการนี้ จังหวัดลำปางพิจารณาแล้วเห็นว่า เพื่อให้การบริหารราชการเป็นไปอย่างต่อเนื่อง จึงขอให้หน่วยงานดำเนินการในส่วนที่เกี่ยวข้อง",
    "รายละเอียดปรากฏตามสิ่งที่ส่งมาด้วย ทั้งนี้ ขอให้รายงานผลการดำเนินงานให้จังหวัดทราบภายในกำหนด",
    "หากมีข้อสงสัยประการใด สามารถสอบถามรายละเอียดเพิ่มเติมได้ที่ผู้ประสานงานตามหมายเลขโทรศัพท์ข้างท้าย",
    "อนึ่ง ขอให้แจ้งเจ้าหน้าที่ผู้ปฏิบัติงานทราบและถือปฏิบัติโดยเคร่งครัด เพื่อมิให้เกิดความเสียหายแก่ทางราชการ",
    "โดยมีวัตถุประสงค์เพื่อส่งเสริมการมีส่วนร่วมของประชาชนและภาคีเครือข่ายในการพัฒนาจังหวัดอย่างยั่งยืน",
    "ทั้งนี้ ได้ประชาสัมพันธ์ผ่านทางเว็บไซต์ของจังหวัดลำปางแล้ว สามารถดาวน์โหลดแบบฟอร์มได้จากเว็บไซต์ดังกล่าว",
    "จังหวัดลำปางจึงขอความร่วมมือจากหน่วยงานของท่านในการประชาสัมพันธ์ให้บุคลากรในสังกัดทราบโดยทั่วกัน",
)

CLOSINGS = ("จึงเรียนมาเพื่อโปรดทราบและพิจารณาดำเนินการในส่วนที่เกี่ยวข้อง", "จึงเรียนมาเพื่อโปรดทราบ",
            "จึงเรียนมาเพื่อโปรดพิจารณา", "จึงเรียนมาเพื่อโปรดทราบและแจ้งผู้เกี่ยวข้องทราบด้วย")

ATTACHMENT_ITEMS = (
    "แบบรายงานการกำหนดมาตรการ", "แบบรายงานการติดตามผลการดำเนินงาน", "สำเนาคำสั่งจังหวัดลำปาง",
    "กำหนดการประชุม", "แบบตอบรับการเข้าร่วมประชุม", "รายชื่อผู้เข้ารับการอบรม", "คู่มือการปฏิบัติงาน",
    "สำเนาหนังสือกระทรวงมหาดไทย", "แผนที่การเดินทาง", "แบบสำรวจข้อมูล", "ประกาศรับสมัคร",
    "ตารางสรุปผลการเบิกจ่ายงบประมาณ", "วิธีการ/ขั้นตอนการใช้งานระบบสารบรรณอิเล็กทรอนิกส์ (e-Document)",
)
UNITS_OF_COUNT = ("ชุด", "ฉบับ", "แผ่น")

FIRST_NAMES = ("สมชาย", "ศรีโรจน์", "วิชัย", "สุนทร", "ประเสริฐ", "อำนาจ", "ธนพล", "จิราพร", "วรรณา", "สุรชัย", "นิพนธ์")
LAST_NAMES = ("นิยมานพัชรินทร์", "ใจดี", "แสงทอง", "บุญมา", "ศรีสุข", "วงศ์ใหญ่", "คำแสน", "ทองคำ", "ปัญญาดี")

ORDER_SUBJECTS = ("แต่งตั้งคณะกรรมการจัดงานประเพณีประจำปี", "แต่งตั้งคณะทำงานขับเคลื่อนยุทธศาสตร์จังหวัด",
                  "มอบหมายหน้าที่ความรับผิดชอบ", "แต่งตั้งเจ้าหน้าที่ผู้รับผิดชอบงานสารบรรณ")
ANNOUNCEMENT_SUBJECTS = ("รับสมัครบุคคลเพื่อเลือกสรรเป็นพนักงานราชการทั่วไป", "ผลการคัดเลือกหมู่บ้านต้นแบบ",
                         "กำหนดวันหยุดราชการเพิ่มเติม", "รายชื่อผู้มีสิทธิเข้ารับการประเมิน")


@dataclass
class LetterSpec:
    """Everything needed to draw one document, and what a perfect reader would extract."""

    kind: str  # letter | memo | not_letter
    not_letter_style: str = ""  # order | announcement | meeting | report
    sender: Sender | None = None
    number: LetterNumber | None = None
    thai_digits: bool = True
    date: dt.date | None = None
    date_style: str = "full"  # full | abbr | abbr2 (two-digit BE year) | ce
    date_split: bool = False  # day on its own line above month and year (added by hand)
    subject: str = ""
    addressee: str = ""
    recipients: list[str] = field(default_factory=list)  # expected directory unit ids
    references: list[str] = field(default_factory=list)  # as printed
    attachments: list[str] = field(default_factory=list)  # as printed, without their numbering
    urgency: str | None = None
    secrecy: str | None = None
    body: list[str] = field(default_factory=list)
    closing: str = ""
    signer: str = ""
    continuation_pages: int = 0
    distribution: list[tuple[str, list[str]]] = field(default_factory=list)  # (group heading, unit names)
    attachment_pages: int = 0
    attachment_marker: bool = True
    received_stamp: bool = False
    stamp_over_text: bool = True
    in_register: bool = True

    def printed(self, text: str) -> str:
        """Digits as this document prints them."""
        return to_thai_digits(text) if self.thai_digits else to_arabic_digits(text)

    @property
    def number_text(self) -> str:
        assert self.number is not None
        agency = self.printed(self.number.agency)
        tail = "ว" if self.number.circular else ""
        serial = self.printed(str(self.number.serial)) if self.number.serial is not None else ""
        sep = " " if serial and tail else ""
        return f"{self.number.code} {agency}/{tail}{sep}{serial}"

    @property
    def date_text(self) -> str:
        assert self.date is not None
        full, abbr = MONTHS[self.date.month - 1]
        be = ce_year_to_be(self.date.year)
        if self.date_style == "abbr":
            text = f"{self.date.day} {abbr} {be}"
        elif self.date_style == "abbr2":
            text = f"{self.date.day} {abbr} {be % 100:02d}"
        elif self.date_style == "ce":
            text = f"{self.date.day} {full} {self.date.year}"
        else:
            text = f"{self.date.day} {full} {be}"
        return self.printed(text)

    def truth(self, file: str, pages: int) -> dict:
        """The contract shape of `saraban extract --json` that a perfect reader would print."""
        from pipeline.thai import normalize_text

        letter = self.kind != "not_letter"
        number = self.number.canonical if (letter and self.number) else None
        return {
            "file": file,
            "kind": self.kind,
            "pages": pages,
            "number": {"value": number},
            "date": {"value": self.date.isoformat() if (letter and self.date) else None},
            "subject": {"value": normalize_text(self.subject) if letter else None},
            "addressee": {"value": normalize_text(self.addressee) if letter else None},
            "references": [normalize_text(to_arabic_digits(r)) for r in self.references] if letter else [],
            "attachments": [normalize_text(a) for a in self.attachments] if letter else [],
            "urgency": self.urgency if letter else None,
            "secrecy": self.secrecy if letter else None,
            "attachment_pages": self.attachment_pages if letter else 0,
            "missing_attachments": bool(letter and self.attachments and self.attachment_pages == 0),
            "recipients": sorted(self.recipients) if letter else [],
            "in_register": self.in_register,
        }


def _fill(rng: random.Random, template: str, year_be: int) -> str:
    return template.format(n=rng.randint(1, 12), y=year_be)


def random_letter(rng: random.Random, directory: dict, *, kind: str | None = None) -> LetterSpec:
    """A random document. `directory` is the parsed directory YAML (units and groups)."""
    kind = kind or rng.choices(["letter", "memo", "not_letter"], weights=[70, 18, 12])[0]
    if kind == "not_letter":
        return _not_letter(rng)
    outside = rng.random() < 0.03
    sender = rng.choice(OUTSIDE_SENDERS if outside else SENDERS)
    date = dt.date(rng.choice([2015, 2018, 2022, 2023, 2024, 2025]), rng.randint(1, 12), rng.randint(1, 28))
    circular = rng.random() < 0.45
    serial: int | None = rng.choice([rng.randint(1, 999), rng.randint(1000, 19999)])
    if rng.random() < 0.03:
        serial = None  # reserved, never filled in
    number = LetterNumber(sender.code, rng.choice(sender.agencies), circular, serial)
    spec = LetterSpec(kind=kind, sender=sender, number=number, date=date, in_register=not outside)
    spec.thai_digits = rng.random() < 0.8
    spec.date_style = "full" if kind == "letter" else rng.choice(["full", "abbr", "abbr", "abbr2"])
    if kind == "letter" and rng.random() < 0.08:
        spec.date_style = rng.choice(["abbr", "ce"])
    spec.date_split = kind == "letter" and rng.random() < 0.06
    spec.subject = spec.printed(_fill(rng, rng.choice(SUBJECTS), ce_year_to_be(date.year)))
    _choose_addressee(rng, spec, directory, circular)
    if rng.random() < 0.3:
        spec.references = [_reference(rng, spec) for _ in range(rng.choice([1, 1, 1, 2]))]
    count = rng.choices([0, 1, 2, 3], weights=[40, 30, 18, 12])[0]
    items = rng.sample(ATTACHMENT_ITEMS, count)
    spec.attachments = [spec.printed(f"{item} จำนวน {rng.choice([1, 1, 1, 2, 3])} {rng.choice(UNITS_OF_COUNT)}")
                        for item in items]
    spec.urgency = rng.choices([None, "ด่วน", "ด่วนมาก", "ด่วนที่สุด"], weights=[70, 10, 10, 10])[0]
    spec.secrecy = rng.choices([None, "ลับ", "ลับมาก", "ลับที่สุด"], weights=[95, 3, 1, 1])[0]
    spec.body = [rng.choice(BODY_SENTENCES) + " " + rng.choice(BODY_SENTENCES) for _ in range(rng.randint(1, 3))]
    spec.closing = rng.choice(CLOSINGS)
    spec.signer = f"({rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)})"
    spec.continuation_pages = rng.choices([0, 1, 2], weights=[65, 28, 7])[0]
    if spec.attachments:
        present = rng.random() < 0.7
        spec.attachment_pages = rng.randint(1, 2) if present else 0
        spec.attachment_marker = rng.random() < 0.6
    spec.received_stamp = rng.random() < 0.3
    return spec


def sender_unit_id(directory: dict, sender: Sender | None) -> str | None:
    """The directory id of a sending unit, found by its name (outside senders have none)."""
    if sender is None:
        return None
    return next((u["id"] for u in directory["units"] if u["name"] == sender.unit_name), None)


def _choose_addressee(rng: random.Random, spec: LetterSpec, directory: dict, circular: bool) -> None:
    own = sender_unit_id(directory, spec.sender)
    units = [u for u in directory["units"] if u["id"] != own]
    members = _group_members(directory)
    roll = rng.random()
    if circular and roll < 0.45:
        printed, groups = rng.choice(ADDRESSEE_GROUPS)
        spec.addressee = printed
        spec.recipients = sorted({u for g in groups for u in members[g]} - {own})
    elif circular and roll < 0.6:
        # "ตามบัญชีแจ้งท้าย": the recipients are the units listed on the distribution page.
        chosen = rng.sample(units, rng.randint(4, 12))
        spec.addressee = rng.choice(["หัวหน้าส่วนราชการ ตามบัญชีแจ้งท้าย", "ส่วนราชการ ตามบัญชีแจ้งท้าย"])
        spec.distribution = [("หน่วยงานผู้รับ", [u["name"] for u in chosen])]
        spec.recipients = sorted(u["id"] for u in chosen)
    elif roll < 0.85:
        unit = rng.choice(units)
        spec.addressee = unit["head"]
        spec.recipients = [unit["id"]]
    else:
        pair = rng.sample(units, 2)
        spec.addressee = f"{pair[0]['head']} และ{pair[1]['head']}"
        spec.recipients = sorted(u["id"] for u in pair)


def _group_members(directory: dict) -> dict[str, list[str]]:
    members: dict[str, list[str]] = {g["id"]: [] for g in directory["groups"]}
    for unit in directory["units"]:
        for gid in unit.get("groups", []):
            members.setdefault(gid, []).append(unit["id"])
    return members


def _reference(rng: random.Random, spec: LetterSpec) -> str:
    assert spec.date is not None and spec.sender is not None
    earlier = spec.date - dt.timedelta(days=rng.randint(5, 200))
    ref_sender = rng.choice([spec.sender, *SENDERS[:3], *OUTSIDE_SENDERS[:1]])
    ref_number = LetterNumber(ref_sender.code, rng.choice(ref_sender.agencies), rng.random() < 0.5,
                              rng.randint(1, 19999))
    name = "จังหวัดลำปาง" if ref_sender.code == "ลป" else ref_sender.unit_name
    tail = "ว " if ref_number.circular else ""
    full, _abbr = MONTHS[earlier.month - 1]
    text = (f"หนังสือ{name} ที่ {ref_number.code} {ref_number.agency}/{tail}{ref_number.serial} "
            f"ลงวันที่ {earlier.day} {full} {ce_year_to_be(earlier.year)}")
    return spec.printed(text)


def _not_letter(rng: random.Random) -> LetterSpec:
    style = rng.choice(["order", "announcement", "meeting", "report"])
    spec = LetterSpec(kind="not_letter", not_letter_style=style, in_register=False)
    spec.date = dt.date(rng.choice([2017, 2022, 2024]), rng.randint(1, 12), rng.randint(1, 28))
    if style == "order":
        spec.subject = rng.choice(ORDER_SUBJECTS)
    elif style == "announcement":
        spec.subject = rng.choice(ANNOUNCEMENT_SUBJECTS)
    spec.body = [rng.choice(BODY_SENTENCES) + " " + rng.choice(BODY_SENTENCES) for _ in range(3)]
    spec.signer = f"({rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)})"
    return spec
