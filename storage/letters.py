"""Letters in the database: recording an intake, the review queue, the returns queue, intake files."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.disposition import Disposition, Status
from pipeline.models import RETURN_REASON_MISSING_ATTACHMENTS, Letter
from pipeline.validate import Validation
from storage import events
from storage.archive import ArchivedKeys
from storage.tables import IntakeFileRow, LetterRow, ReturnRow, ReviewItemRow, UnitRow, utcnow


def by_sha256(session: Session, sha256: str) -> LetterRow | None:
    return session.scalar(select(LetterRow).where(LetterRow.sha256 == sha256))


def sender_unit(session: Session, sender_code: str | None, register_sender: str | None) -> str | None:
    """The directory unit that sent a letter, from the register's sender name when known."""
    if not register_sender:
        return None
    return session.scalar(select(UnitRow.id).where(UnitRow.name == register_sender, UnitRow.active.is_(True)).limit(1))


def record_letter(session: Session, letter: Letter, *, sha256: str, size: int, station: str,
                  keys: ArchivedKeys | None, validation: Validation, disposition: Disposition,
                  routing: dict[str, Any]) -> LetterRow:
    """The letter row, its review item or return, and events. Inbox items come from storage.inbox."""
    number = letter.number.value
    suggestion = None
    if validation.suggestion is not None:
        s = validation.suggestion
        suggestion = {"number": s.entry.number.canonical, "read": s.read, "auto_accepted": s.auto_accept,
                      "evidence": s.evidence}
    row = LetterRow(
        sha256=sha256, file_name=letter.file, station=station, size_bytes=size, kind=letter.kind.value,
        pages=letter.pages, number=number.canonical if number else None, number_year=letter.year,
        sender_code=number.sender_code if number else None, date=letter.date.value,
        subject=letter.subject.value, addressee=letter.addressee.value, references=list(letter.references),
        attachments=list(letter.attachments), distribution=list(letter.distribution), urgency=letter.urgency,
        secrecy=letter.secrecy, attachment_pages=letter.attachment_pages,
        missing_attachments=letter.missing_attachments,
        confidences={name: getattr(letter, name).confidence for name in ("number", "date", "subject", "addressee")},
        sources={name: getattr(letter, name).source for name in ("number", "date", "subject", "addressee")},
        status=disposition.status.value, flags=[f.value for f in disposition.flags],
        recipients=list(disposition.recipients), routing=routing, suggestion=suggestion,
        duplicate_of=validation.duplicate_of,
        object_key=keys.pdf if keys else None, original_key=keys.original if keys else None,
        header_key=keys.header if keys else None, ocr_key=keys.ocr if keys else None,
        read_seconds=letter.seconds,
    )
    session.add(row)
    session.flush()
    events.record(session, "letter_received", letter_id=row.id, file=letter.file, station=station, sha256=sha256,
                  number=row.number, status=row.status, flags=row.flags)
    if validation.suggestion is not None:
        events.record(session, "number_corrected" if validation.suggestion.auto_accept else "number_suggested",
                      letter_id=row.id, suggestion=suggestion)
    if disposition.status is Status.NEEDS_REVIEW:
        session.add(ReviewItemRow(letter_id=row.id, reasons=row.flags))
        events.record(session, "sent_to_review", letter_id=row.id, reason=", ".join(row.flags))
    elif disposition.status is Status.HELD:
        register_sender = validation.entry.sender if validation.entry else None
        session.add(ReturnRow(letter_id=row.id, reason=RETURN_REASON_MISSING_ATTACHMENTS,
                              sender_code=row.sender_code, sender_unit=sender_unit(session, row.sender_code,
                                                                                   register_sender)))
        events.record(session, "held_for_return", letter_id=row.id, reason=RETURN_REASON_MISSING_ATTACHMENTS)
    return row


def record_file(session: Session, *, path: str, station: str, sha256: str | None, size: int, outcome: str,
                letter_id: int | None = None, reason_code: str | None = None, reason: str | None = None,
                detail: str | None = None, batch: str | None = None) -> IntakeFileRow:
    row = IntakeFileRow(path=path, station=station, sha256=sha256, size_bytes=size, outcome=outcome,
                        letter_id=letter_id, reason_code=reason_code, reason=reason, detail=detail, batch=batch)
    session.add(row)
    session.flush()
    return row


def close_review(session: Session, letter_id: int, *, actor: str, resolution: str) -> None:
    for item in session.scalars(select(ReviewItemRow).where(ReviewItemRow.letter_id == letter_id,
                                                             ReviewItemRow.status == "open")):
        item.status, item.closed_at, item.closed_by, item.resolution = "closed", utcnow(), actor, resolution


def open_review(session: Session, letter: LetterRow, reasons: list[str]) -> None:
    """Back to the review queue (e.g. a unit returned it as not theirs)."""
    letter.status = Status.NEEDS_REVIEW.value
    letter.flags = sorted(set(letter.flags or []) | set(reasons))
    session.add(ReviewItemRow(letter_id=letter.id, reasons=list(reasons)))
