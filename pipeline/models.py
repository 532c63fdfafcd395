"""The vocabulary of the pipeline: what a letter is once it has been read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")


class DocumentKind(StrEnum):
    LETTER = "letter"  # หนังสือภายนอก
    MEMO = "memo"  # บันทึกข้อความ
    NOT_LETTER = "not_letter"


URGENCIES = ("ด่วน", "ด่วนมาก", "ด่วนที่สุด")  # ascending
SECRECIES = ("ลับ", "ลับมาก", "ลับที่สุด")  # ascending


class Flag(StrEnum):
    """Why a letter cannot simply be routed. The codes are part of the CLI contract."""

    MISSING_ATTACHMENTS = "missing_attachments"
    NUMBER_NOT_IN_REGISTER = "number_not_in_register"
    REGISTER_MISMATCH = "register_mismatch"
    NUMBER_INCOMPLETE = "number_incomplete"
    NUMBER_SUGGESTION = "number_suggestion"
    NOT_LETTER = "not_letter"
    LOW_CONFIDENCE = "low_confidence"
    DUPLICATE = "duplicate"
    UNRESOLVED_ADDRESSEE = "unresolved_addressee"
    SECRET = "secret"
    RETURNED_BY_UNIT = "returned_by_unit"


# What a clerk or operator reads: specific, in Thai.
FLAG_REASONS: Mapping[Flag, str] = {
    Flag.MISSING_ATTACHMENTS: "ไม่มีเอกสารแนบมาด้วย",
    Flag.NUMBER_NOT_IN_REGISTER: "ไม่พบเลขที่หนังสือนี้ในทะเบียนหนังสือส่ง",
    Flag.REGISTER_MISMATCH: "วันที่หรือเรื่องไม่ตรงกับทะเบียนหนังสือส่ง",
    Flag.NUMBER_INCOMPLETE: "เลขที่หนังสือไม่ครบ (ไม่มีเลขลำดับ)",
    Flag.NUMBER_SUGGESTION: "เลขที่หนังสืออาจอ่านผิด พบเลขที่ใกล้เคียงในทะเบียน",
    Flag.NOT_LETTER: "ไม่ใช่หนังสือราชการ (เช่น คำสั่ง ประกาศ รายงาน)",
    Flag.LOW_CONFIDENCE: "อ่านข้อความได้ไม่ชัดเจน ต้องตรวจทาน",
    Flag.DUPLICATE: "หนังสือซ้ำ ได้รับไว้แล้ว",
    Flag.UNRESOLVED_ADDRESSEE: "ระบุหน่วยงานผู้รับไม่ได้",
    Flag.SECRET: "หนังสือชั้นความลับ ไม่ส่งต่อให้กลุ่มหน่วยงานโดยอัตโนมัติ",
    Flag.RETURNED_BY_UNIT: "หน่วยงานส่งคืน: ไม่ใช่หนังสือของหน่วยงาน",
}

RETURN_REASON_MISSING_ATTACHMENTS = "ไม่มีเอกสารแนบมาด้วย"
RETURN_REASON_NOT_OURS = "ไม่ใช่หนังสือของหน่วยงาน"


@dataclass(frozen=True)
class Field(Generic[T]):
    """One value read from a scan, how sure we are of it, and the OCR text it came from."""

    value: T | None
    confidence: float = 0.0
    source: str = ""

    @property
    def present(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class LetterNumber:
    """`ที่ ลป ๐๐๑๗.๑/ว ๑๔๑๕๕` → code ลป, agency 0017.1, circular, serial 14155."""

    code: str
    agency: str
    circular: bool = False
    serial: int | None = None

    @property
    def sender_code(self) -> str:
        """The sending agency, e.g. ``ลป 0017.1``."""
        return f"{self.code} {self.agency}"

    @property
    def canonical(self) -> str:
        """Arabic digits, single spaces: ``ลป 0017.1/ว 14155``, ``พร 0023.1/ว`` when blank."""
        tail = "ว" if self.circular else ""
        if self.serial is None:
            return f"{self.sender_code}/{tail}" if tail else f"{self.sender_code}/"
        return f"{self.sender_code}/{tail} {self.serial}" if tail else f"{self.sender_code}/{self.serial}"

    @property
    def complete(self) -> bool:
        return self.serial is not None

    def __str__(self) -> str:
        return self.canonical


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h


@dataclass(frozen=True)
class TextLine:
    """One header line as read: its text (normalised), where it is, and the OCR confidence."""

    text: str
    box: Box
    confidence: float


@dataclass
class Letter:
    """What was read from one scan. `saraban extract` prints this; intake stores it."""

    file: str
    kind: DocumentKind
    pages: int
    number: Field[LetterNumber] = field(default_factory=lambda: Field(None))
    date: Field[dt.date] = field(default_factory=lambda: Field(None))
    subject: Field[str] = field(default_factory=lambda: Field(None))
    addressee: Field[str] = field(default_factory=lambda: Field(None))
    references: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    urgency: str | None = None
    secrecy: str | None = None
    attachment_pages: int = 0
    missing_attachments: bool = False
    distribution: list[str] = field(default_factory=list)  # แจ้งท้าย: unit names listed on a later page
    distribution_complete: bool = True  # every unit the list declares was read
    review_reasons: list[Flag] = field(default_factory=list)
    seconds: float = 0.0
    lines: list[TextLine] = field(default_factory=list)
    header_image: bytes | None = None  # header crop of page 1 (JPEG), for the review page

    @property
    def needs_review(self) -> bool:
        return bool(self.review_reasons)

    def add_reason(self, flag: Flag) -> None:
        if flag not in self.review_reasons:
            self.review_reasons.append(flag)

    @property
    def year(self) -> int | None:
        """The Gregorian year the number belongs to (serials restart every calendar year)."""
        return self.date.value.year if self.date.value else None

    def to_dict(self) -> dict:
        """The `saraban extract --json` shape (../shared/contracts.md)."""
        def field_json(f: Field, value: object) -> dict | None:
            if self.kind is DocumentKind.NOT_LETTER and f.value is None:
                return None
            return {"value": value, "confidence": round(f.confidence, 3)}

        return {
            "file": self.file,
            "kind": self.kind.value,
            "pages": self.pages,
            "number": field_json(self.number, self.number.value.canonical if self.number.value else None),
            "date": field_json(self.date, self.date.value.isoformat() if self.date.value else None),
            "subject": field_json(self.subject, self.subject.value),
            "addressee": field_json(self.addressee, self.addressee.value),
            "references": list(self.references),
            "attachments": list(self.attachments),
            "urgency": self.urgency,
            "secrecy": self.secrecy,
            "attachment_pages": self.attachment_pages,
            "missing_attachments": self.missing_attachments,
            "distribution": list(self.distribution),
            "distribution_complete": self.distribution_complete,
            "needs_review": self.needs_review,
            "review_reasons": [r.value for r in self.review_reasons],
            "seconds": self.seconds,
        }
