"""What operators and unit clerks do to letters, as plain functions over the database and the store.

The web app (review/) calls these and nothing else to change a letter; tests call them directly.
Every action goes to the append-only event log with who, what, when and why. A correction of a
field is also kept as a training example (field, OCR value, corrected value, header crop key) for
the OCR models.

Operator actions on a letter in review: `correct_fields`, `approve_and_route`, `return_to_sender`,
`mark_not_letter`. Returns queue: `confirm_return`, `override_return`. Unit clerks:
`receive_letter`, `return_from_unit`. Errors are `OperationError` with a Thai message for the
person who acted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.disposition import REVIEW_FLAGS, Status
from pipeline.extract.number import parse_number
from pipeline.models import (
    FLAG_REASONS,
    SECRECIES,
    URGENCIES,
    DocumentKind,
    Field,
    Flag,
    Letter,
    LetterNumber,
)
from pipeline.route import Resolution, resolve
from pipeline.thai import normalize_text
from pipeline.validate import Validation, validate
from saraban.app import App
from storage import events, inbox
from storage.archive import CONTENT_TYPES
from storage.directory import load_directory
from storage.letters import close_review, open_review, sender_unit
from storage.objects import sha256_of
from storage.register import SqlRegister, parse_register_date
from storage.tables import (
    InboxItemRow,
    LetterRow,
    ReturnRow,
    ReviewItemRow,
    TrainingExampleRow,
    UnitRow,
    utcnow,
)

# Fields an operator can correct on the review page, in the order the page shows them.
EDITABLE_FIELDS = ("number", "date", "subject", "addressee", "urgency", "secrecy")
FIELD_LABELS = {"number": "เลขที่หนังสือ", "date": "ลงวันที่", "subject": "เรื่อง", "addressee": "เรียน",
                "urgency": "ความเร่งด่วน", "secrecy": "ชั้นความลับ", "kind": "ชนิดเอกสาร"}
# Letter statuses beyond pipeline.disposition.Status: the operator decided it is not a letter.
NOT_LETTER_STATUS = "not_letter"
# Register problems an operator must confirm before a letter is routed anyway.
CONFIRM_FLAGS = (Flag.NUMBER_NOT_IN_REGISTER, Flag.REGISTER_MISMATCH, Flag.NUMBER_INCOMPLETE,
                 Flag.NUMBER_SUGGESTION, Flag.DUPLICATE)


class OperationError(Exception):
    """The action was not done; the message (Thai) says why, for the person who acted."""


class NeedsConfirmation(OperationError):
    """The corrected letter still disagrees with the register: routing needs the operator's confirmation."""

    def __init__(self, problems: list[str], flags: list[str]) -> None:
        self.problems = problems
        self.flags = flags
        super().__init__("ตรวจกับทะเบียนหนังสือส่งแล้วพบปัญหา: " + "; ".join(problems))


@dataclass(frozen=True)
class Correction:
    field: str
    ocr_value: str | None  # what the machine read (the OCR text where there is one)
    old_value: str | None  # the stored value before this correction
    new_value: str | None


@dataclass
class Approval:
    letter_id: int
    units: list[str]
    corrections: list[Correction] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)  # register flags the operator confirmed


@dataclass
class Override:
    return_id: int
    letter_id: int
    attachment_key: str
    routed_to: list[str] = field(default_factory=list)  # empty: the letter went to review instead
    review_reasons: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Fields


def field_text(letter: LetterRow, name: str) -> str | None:
    """The stored value of an editable field as text (number canonical, date ISO)."""
    if name == "date":
        return letter.date.isoformat() if letter.date else None
    value = getattr(letter, name)
    return str(value) if value else None


def parse_field(name: str, text: str | None) -> LetterNumber | dt.date | str | None:
    """An operator's input for a field, checked; raises OperationError with what is wrong.

    >>> parse_field("number", "ที่ ลป ๐๐๑๗.๑/ว ๑๔๑๕๕")
    LetterNumber(code='ลป', agency='0017.1', circular=True, serial=14155)
    >>> parse_field("date", "๑๕ มิ.ย. ๒๕๕๘")
    datetime.date(2015, 6, 15)
    """
    text = normalize_text(text or "")
    if not text:
        return None
    if name == "number":
        number = parse_number(text)
        if number is None:
            raise OperationError(f"เลขที่หนังสือ '{text}' ไม่ถูกต้อง (เช่น ลป 0017.1/ว 14155)")
        return number
    if name == "date":
        date = parse_register_date(text)
        if date is None:
            raise OperationError(f"ลงวันที่ '{text}' ไม่ถูกต้อง (เช่น 15 มิ.ย. 2558 หรือ 2015-06-15)")
        return date
    if name == "urgency" and text not in URGENCIES:
        raise OperationError(f"ความเร่งด่วน '{text}' ไม่ถูกต้อง ใช้ {' / '.join(URGENCIES)}")
    if name == "secrecy" and text not in SECRECIES:
        raise OperationError(f"ชั้นความลับ '{text}' ไม่ถูกต้อง ใช้ {' / '.join(SECRECIES)}")
    if name not in EDITABLE_FIELDS:
        raise OperationError(f"แก้ไขช่อง '{name}' ไม่ได้")
    return text


def _as_text(value: LetterNumber | dt.date | str | None) -> str | None:
    if isinstance(value, LetterNumber):
        return value.canonical
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _ocr_text(letter: LetterRow, name: str) -> str | None:
    source = str((letter.sources or {}).get(name) or "")
    source = source.split(" → ทะเบียน: ")[0]  # intake notes a register correction after the OCR text
    return source or field_text(letter, name)


def _letter(session: Session, letter_id: int) -> LetterRow:
    letter = session.scalar(select(LetterRow).where(LetterRow.id == letter_id).with_for_update())
    if letter is None:
        raise OperationError(f"ไม่พบหนังสือรายการที่ {letter_id}")
    return letter


def _in_review(session: Session, letter_id: int) -> LetterRow:
    letter = _letter(session, letter_id)
    if letter.status != Status.NEEDS_REVIEW.value:
        raise OperationError(f"หนังสือรายการที่ {letter_id} ไม่ได้รอตรวจทานแล้ว (อาจมีผู้ดำเนินการไปแล้ว)")
    return letter


def _keep_correction(session: Session, letter: LetterRow, correction: Correction, actor: str) -> None:
    """The event, and the training example: one per (letter, field), holding the latest truth."""
    events.record(session, "field_corrected", actor=actor, letter_id=letter.id, field=correction.field,
                  ocr_value=correction.ocr_value, old_value=correction.old_value,
                  new_value=correction.new_value, crop_key=letter.header_key)
    example = session.scalar(select(TrainingExampleRow).where(TrainingExampleRow.letter_id == letter.id,
                                                              TrainingExampleRow.field == correction.field))
    if example is None:
        session.add(TrainingExampleRow(letter_id=letter.id, field=correction.field,
                                       ocr_value=correction.ocr_value, corrected_value=correction.new_value,
                                       crop_key=letter.header_key, created_by=actor))
    else:
        example.corrected_value = correction.new_value
        example.created_by, example.created_at = actor, utcnow()


def correct_fields(session: Session, letter_id: int, values: Mapping[str, str | None], *,
                   actor: str) -> list[Correction]:
    """Apply the fields that differ from what is stored; each one logged and kept for training.

    Every value is checked before any is applied, so a bad value changes nothing.
    """
    letter = _letter(session, letter_id)
    parsed = {name: parse_field(name, text) for name, text in values.items()}
    corrections = []
    for name, value in parsed.items():
        old = field_text(letter, name)
        new = _as_text(value)
        if new == old:
            continue
        corrections.append(Correction(name, _ocr_text(letter, name), old, new))
        if name == "number":
            number = value if isinstance(value, LetterNumber) else None
            letter.number = number.canonical if number else None
            letter.sender_code = number.sender_code if number else None
        else:
            setattr(letter, name, value)
        if name == "date":
            letter.number_year = letter.date.year if letter.date else None  # serials restart yearly
        letter.confidences = {**(letter.confidences or {}), name: 1.0}  # a person checked it
    for correction in corrections:
        _keep_correction(session, letter, correction, actor)
    session.flush()
    return corrections


def _correct_kind(session: Session, letter: LetterRow, kind: DocumentKind, actor: str) -> None:
    if letter.kind == kind.value:
        return
    correction = Correction("kind", letter.kind, letter.kind, kind.value)
    letter.kind = kind.value
    _keep_correction(session, letter, correction, actor)


# ---------------------------------------------------------------------------------------------
# Approve and route


def as_read_letter(letter: LetterRow) -> Letter:
    """The stored (corrected) letter in the pipeline's vocabulary, for the register rules."""
    number = parse_number(letter.number) if letter.number else None
    return Letter(file=letter.file_name, kind=DocumentKind(letter.kind), pages=letter.pages,
                  number=Field(number, 1.0), date=Field(letter.date, 1.0), subject=Field(letter.subject, 1.0),
                  addressee=Field(letter.addressee, 1.0), references=list(letter.references or []),
                  attachments=list(letter.attachments or []), urgency=letter.urgency, secrecy=letter.secrecy,
                  distribution=list(letter.distribution or []))


def recheck(session: Session, letter: LetterRow) -> Validation:
    """The register rules on the letter as it stands now (itself excluded from the duplicate check)."""
    return validate(as_read_letter(letter), SqlRegister(session, exclude_letter=letter.id))


def register_problems(letter: LetterRow, validation: Validation) -> list[str]:
    """What the operator must confirm, in Thai, most specific first."""
    problems = []
    if not letter.number:
        problems.append("ไม่มีเลขที่หนังสือ")
    for flag in validation.flags:
        if flag not in CONFIRM_FLAGS:
            continue
        text = FLAG_REASONS[flag]
        if flag is Flag.NUMBER_NOT_IN_REGISTER:
            text = f"ไม่พบเลขที่ {letter.number} ปี {letter.number_year or '-'} ในทะเบียนหนังสือส่ง"
        elif flag is Flag.NUMBER_SUGGESTION and validation.suggestion is not None:
            text = f"{text}: {validation.suggestion.entry.number.canonical}"
        elif flag is Flag.DUPLICATE:
            text = f"{text} (รายการที่ {validation.duplicate_of})"
        elif flag is Flag.REGISTER_MISMATCH:
            mismatch = validation.details.get("mismatch") or {}
            parts = []
            if isinstance(mismatch, dict) and "date" in mismatch:
                parts.append(f"ทะเบียนลงวันที่ {mismatch['date']['register']}")
            if isinstance(mismatch, dict) and "subject" in mismatch:
                parts.append(f"ทะเบียนเรื่อง \"{mismatch['subject']['register']}\"")
            if parts:
                text = f"{text}: {', '.join(parts)}"
        problems.append(text)
    return problems


def _resolved_units(session: Session, letter: LetterRow) -> list[str]:
    """Recipients from the (corrected) addressee; raises when a part names nothing or two things."""
    resolution: Resolution = resolve(letter.addressee, load_directory(session),
                                     distribution=list(letter.distribution or []))
    letter.routing = {"matched": resolution.matched, "unresolved": resolution.unresolved,
                      "ambiguous": resolution.ambiguous}
    if resolution.unresolved or resolution.ambiguous or not resolution.units:
        parts = resolution.unresolved + [part for part, _ids in resolution.ambiguous]
        detail = f": {', '.join(parts)}" if parts else ""
        raise OperationError(f"ระบุหน่วยงานผู้รับจากคำว่า 'เรียน' ไม่ได้ทั้งหมด{detail} กรุณาเลือกหน่วยงานผู้รับเอง")
    if letter.secrecy and any(kind == "group" for _text, kind, _id in resolution.matched):
        raise OperationError("หนังสือชั้นความลับไม่ส่งถึงกลุ่มหน่วยงานโดยอัตโนมัติ กรุณาเลือกหน่วยงานผู้รับเอง")
    return sorted(resolution.units)


def _known_units(session: Session, units: list[str]) -> list[str]:
    wanted = sorted(set(units))
    known = set(session.scalars(select(UnitRow.id).where(UnitRow.id.in_(wanted), UnitRow.active.is_(True))))
    unknown = [u for u in wanted if u not in known]
    if unknown:
        raise OperationError(f"ไม่พบหน่วยงาน {', '.join(unknown)} ในทำเนียบ")
    return wanted


def _route(session: Session, letter: LetterRow, units: list[str], actor: str) -> None:
    # storage.inbox.route unions with letter.recipients: start from the units that really hold it,
    # so a unit the operator removed from the proposal is not listed as a recipient.
    holding = session.scalars(select(InboxItemRow.unit_id).where(InboxItemRow.letter_id == letter.id,
                                                                 InboxItemRow.status != "returned"))
    letter.recipients = sorted(set(holding))
    inbox.route(session, letter, units, actor=actor)


def approve_and_route(session: Session, letter_id: int, *, actor: str,
                      corrections: Mapping[str, str | None] | None = None, units: list[str] | None = None,
                      confirm: bool = False) -> Approval:
    """Apply corrections, re-check against the register, and put the letter in its units' inboxes.

    `units` None: recipients are resolved from the (corrected) addressee. Register problems raise
    `NeedsConfirmation` (nothing is saved by the caller's rollback) unless `confirm` is given.
    """
    letter = _in_review(session, letter_id)
    done = correct_fields(session, letter_id, corrections or {}, actor=actor)
    validation = recheck(session, letter)
    problems = register_problems(letter, validation)
    acknowledged = [f.value for f in validation.flags if f in CONFIRM_FLAGS]
    if problems and not confirm:
        raise NeedsConfirmation(problems, acknowledged)
    chosen = _known_units(session, units) if units is not None else _resolved_units(session, letter)
    if not chosen:
        raise OperationError("ยังไม่ได้เลือกหน่วยงานผู้รับ")
    if letter.kind == DocumentKind.NOT_LETTER.value:
        _correct_kind(session, letter, DocumentKind.LETTER, actor)
    if validation.duplicate_of is not None:
        letter.duplicate_of = validation.duplicate_of
    _route(session, letter, chosen, actor)
    close_review(session, letter.id, actor=actor, resolution="approved")
    events.record(session, "review_approved", actor=actor, letter_id=letter.id, units=chosen,
                  corrected=[c.field for c in done], acknowledged=acknowledged or None,
                  reason="; ".join(problems) if problems else None)
    session.flush()
    return Approval(letter.id, chosen, done, acknowledged)


# ---------------------------------------------------------------------------------------------
# Return to sender, not a letter


def _sender_unit(session: Session, letter: LetterRow) -> str | None:
    number = parse_number(letter.number) if letter.number else None
    if number is None:
        return None
    entry = SqlRegister(session).find(number, letter.number_year)
    return sender_unit(session, letter.sender_code, entry.sender if entry else None)


def return_to_sender(session: Session, letter_id: int, reason: str, *, actor: str,
                     corrections: Mapping[str, str | None] | None = None) -> ReturnRow:
    """From review to the returns queue, where the return is confirmed (or overridden)."""
    reason = normalize_text(reason)
    if not reason:
        raise OperationError("กรุณาระบุเหตุผลที่ส่งคืนผู้ส่ง")
    letter = _in_review(session, letter_id)
    correct_fields(session, letter_id, corrections or {}, actor=actor)
    row = ReturnRow(letter_id=letter.id, reason=reason, sender_code=letter.sender_code,
                    sender_unit=_sender_unit(session, letter))
    session.add(row)
    letter.status = Status.HELD.value
    close_review(session, letter.id, actor=actor, resolution="returned")
    session.flush()
    events.record(session, "return_requested", actor=actor, letter_id=letter.id, unit_id=row.sender_unit,
                  reason=reason, return_id=row.id, sender_code=row.sender_code)
    return row


def mark_not_letter(session: Session, letter_id: int, *, actor: str, reason: str | None = None) -> None:
    """An order, announcement, report…: never routed; kept, and the decision kept for training."""
    letter = _in_review(session, letter_id)
    _correct_kind(session, letter, DocumentKind.NOT_LETTER, actor)
    letter.status = NOT_LETTER_STATUS
    close_review(session, letter.id, actor=actor, resolution="not_letter")
    events.record(session, "marked_not_letter", actor=actor, letter_id=letter.id,
                  reason=normalize_text(reason or "") or FLAG_REASONS[Flag.NOT_LETTER])
    session.flush()


# ---------------------------------------------------------------------------------------------
# The returns queue


def _pending_return(session: Session, return_id: int) -> ReturnRow:
    row = session.scalar(select(ReturnRow).where(ReturnRow.id == return_id).with_for_update())
    if row is None:
        raise OperationError(f"ไม่พบรายการส่งคืนที่ {return_id}")
    if row.status != "pending":
        raise OperationError(f"รายการส่งคืนที่ {return_id} ดำเนินการแล้วโดย {row.decided_by or '-'}")
    return row


def confirm_return(session: Session, return_id: int, actor: str) -> ReturnRow:
    """The letter goes back to its sender: recorded, and shown to the sender unit's clerks."""
    row = _pending_return(session, return_id)
    row.status, row.decided_at, row.decided_by = "confirmed", utcnow(), actor
    letter = _letter(session, row.letter_id)
    letter.status = Status.RETURNED.value
    events.record(session, "return_confirmed", actor=actor, letter_id=row.letter_id, unit_id=row.sender_unit,
                  reason=row.reason, return_id=row.id, sender_code=row.sender_code)
    session.flush()
    return row


def attachment_key(letter: LetterRow, attachment_sha256: str, suffix: str) -> str:
    """Beside the letter's PDF: `<letter prefix>/<letter sha256>.attachments-<sha[:16]><suffix>`."""
    prefix = letter.object_key.rsplit("/", 1)[0] if letter.object_key else "letters/unknown"
    return f"{prefix}/{letter.sha256}.attachments-{attachment_sha256[:16]}{suffix}"


def override_return(app: App, return_id: int, attachment_path: Path, actor: str) -> Override:
    """The attachments came as a separate file: keep it beside the letter, then route the letter.

    A letter held at intake that also had other review reasons goes to review instead: nobody has
    looked at it yet. One the operator already reviewed (returned from review) is routed to the
    recipients resolved before.
    """
    suffix = attachment_path.suffix.lower()
    if suffix not in CONTENT_TYPES:
        raise OperationError("แฟ้มเอกสารแนบต้องเป็น PDF, TIFF, JPEG หรือ PNG")
    sha, size = sha256_of(attachment_path)
    if size == 0:
        raise OperationError("แฟ้มเอกสารแนบว่างเปล่า")
    with app.db.session() as session:
        row = _pending_return(session, return_id)
        key = attachment_key(_letter(session, row.letter_id), sha, suffix)
    # The object first, outside the transaction (idempotent): a row never points at a missing object.
    app.store.put_file(key, attachment_path, content_type=CONTENT_TYPES[suffix], sha256=sha,
                       metadata={"letter_id": str(row.letter_id), "role": "attachments"})
    with app.db.session() as session:
        row = _pending_return(session, return_id)
        letter = _letter(session, row.letter_id)
        row.status, row.decided_at, row.decided_by = "overridden", utcnow(), actor
        letter.missing_attachments = False
        events.record(session, "return_overridden", actor=actor, letter_id=letter.id, reason=row.reason,
                      return_id=row.id, attachment_key=key, attachment_sha256=sha, attachment_bytes=size)
        result = Override(row.id, letter.id, key)
        reviewed = session.scalar(select(ReviewItemRow.id).where(ReviewItemRow.letter_id == letter.id,
                                                                 ReviewItemRow.status == "closed").limit(1))
        pending_reasons = [] if reviewed else [
            f for f in (letter.flags or []) if f in {r.value for r in REVIEW_FLAGS}]
        units = list(letter.recipients or [])
        if not pending_reasons and not units:
            pending_reasons = [Flag.UNRESOLVED_ADDRESSEE.value]
        if pending_reasons:
            open_review(session, letter, pending_reasons)
            events.record(session, "sent_to_review", actor=actor, letter_id=letter.id,
                          reason=", ".join(pending_reasons))
            result.review_reasons = pending_reasons
        else:
            _route(session, letter, _known_units(session, units), actor)
            result.routed_to = sorted(units)
        session.flush()
    return result


# ---------------------------------------------------------------------------------------------
# Unit clerks


def receive_letter(session: Session, letter_id: int, unit_id: str, *, actor: str) -> InboxItemRow:
    """Into the unit's incoming register: the unit's next receive number (เลขรับ)."""
    try:
        return inbox.receive(session, letter_id, unit_id, actor=actor)
    except inbox.InboxError as exc:
        raise OperationError(str(exc)) from exc


def return_from_unit(session: Session, letter_id: int, unit_id: str, reason: str, *,
                     actor: str) -> InboxItemRow:
    """A unit sends a letter back; `ไม่ใช่หนังสือของหน่วยงาน` puts it in the review queue again."""
    try:
        return inbox.return_letter(session, letter_id, unit_id, normalize_text(reason), actor=actor)
    except inbox.InboxError as exc:
        raise OperationError(str(exc)) from exc
