"""What `pipeline.reconcile` needs from the database: the register, the letters, the repeated files.

Everything is loaded (a province's register is tens of thousands of rows, a few MB): the
comparison itself stays pure, and a letter dated before `--since` can still match a number.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.reconcile import Reconciliation, RegisteredNumber, RepeatedFile, ScannedLetter, reconcile
from storage.tables import IntakeFileRow, LetterRow, RegisterEntryRow


def register_numbers(session: Session) -> list[RegisteredNumber]:
    r = RegisterEntryRow
    query = select(r.number, r.year, r.date, r.subject, r.sender)
    return [RegisteredNumber(n, y, d, s, sender or "") for n, y, d, s, sender in session.execute(query)]


def scanned_letters(session: Session) -> list[ScannedLetter]:
    """Every stored letter with a number; a pending register suggestion comes along."""
    r = LetterRow
    query = select(r.id, r.number, r.number_year, r.date, r.created_at, r.file_name, r.sender_code,
                   r.suggestion, r.duplicate_of).where(r.number.is_not(None))
    letters = []
    for id_, number, year, date, created, file, code, suggestion, duplicate_of in session.execute(query):
        pending = None
        if suggestion and not suggestion.get("auto_accepted") and suggestion.get("number") != number:
            pending = suggestion.get("number")
        letters.append(ScannedLetter(id_, number, year, date, created.date(), file, code, pending,
                                     duplicate_of))
    return letters


def repeated_files(session: Session) -> list[RepeatedFile]:
    """Files whose bytes had been taken in before (intake's `known_bytes`)."""
    query = select(IntakeFileRow.letter_id, IntakeFileRow.path, IntakeFileRow.created_at).where(
        IntakeFileRow.outcome == "duplicate", IntakeFileRow.reason_code == "duplicate_file",
        IntakeFileRow.letter_id.is_not(None))
    return [RepeatedFile(letter_id, path, created.date())
            for letter_id, path, created in session.execute(query) if letter_id is not None]


def reconcile_database(session: Session, *, as_of: dt.date, grace_days: int = 7,
                       since: dt.date | None = None) -> Reconciliation:
    return reconcile(register_numbers(session), scanned_letters(session), repeated_files(session),
                     as_of=as_of, grace_days=grace_days, since=since)
