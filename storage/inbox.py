"""Unit inboxes: items per (letter, unit), receive numbers (เลขรับ) and returns.

A receive number is a yearly counter per unit. It is taken with one atomic
`UPDATE … SET last_number = last_number + 1 … RETURNING` on a counter row, so concurrent
receivers (threads, processes, machines on PostgreSQL) never get the same number, and a number
once given is never given again.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipeline.disposition import Status
from pipeline.models import RETURN_REASON_NOT_OURS, Flag
from storage import events
from storage.letters import open_review
from storage.tables import InboxItemRow, LetterRow, ReceiveCounterRow, utcnow

URGENCY_ORDER = {"ด่วนที่สุด": 0, "ด่วนมาก": 1, "ด่วน": 2}


class InboxError(Exception):
    """An inbox action that cannot be done; the message is Thai, for the clerk."""


def route(session: Session, letter: LetterRow, units: list[str], *, actor: str = "system") -> list[InboxItemRow]:
    """Put the letter in each unit's inbox (idempotent) and mark it routed."""
    existing = set(session.scalars(select(InboxItemRow.unit_id).where(InboxItemRow.letter_id == letter.id)))
    items = []
    for unit_id in units:
        if unit_id in existing:
            continue
        item = InboxItemRow(letter_id=letter.id, unit_id=unit_id)
        session.add(item)
        items.append(item)
    letter.status = Status.ROUTED.value
    letter.recipients = sorted(set(letter.recipients or []) | set(units))
    session.flush()
    events.record(session, "routed", actor=actor, letter_id=letter.id, units=sorted(units))
    return items


def next_receive_number(session: Session, unit_id: str, year: int) -> int:
    """The unit's next เลขรับ for the year, taken atomically."""
    try:
        with session.begin_nested():
            session.execute(insert(ReceiveCounterRow).values(unit_id=unit_id, year=year, last_number=0))
    except IntegrityError:
        pass  # the counter row exists already
    number = session.execute(
        update(ReceiveCounterRow)
        .where(ReceiveCounterRow.unit_id == unit_id, ReceiveCounterRow.year == year)
        .values(last_number=ReceiveCounterRow.last_number + 1)
        .returning(ReceiveCounterRow.last_number)
    ).scalar_one()
    return int(number)


def _item(session: Session, letter_id: int, unit_id: str) -> InboxItemRow:
    item = session.scalar(select(InboxItemRow).where(InboxItemRow.letter_id == letter_id,
                                                     InboxItemRow.unit_id == unit_id))
    if item is None:
        raise InboxError(f"ไม่พบหนังสือเลขที่รายการ {letter_id} ในกล่องหนังสือของหน่วยงาน {unit_id}")
    return item


def receive(session: Session, letter_id: int, unit_id: str, *, actor: str = "system",
            today: dt.date | None = None) -> InboxItemRow:
    """Receive a letter into a unit's register: it gets the unit's next receive number."""
    item = _item(session, letter_id, unit_id)
    if item.status == "received":
        return item  # receiving twice gives the same number, never a second one
    if item.status == "returned":
        raise InboxError("หนังสือนี้ถูกส่งคืนแล้ว รับไม่ได้")
    year = (today or dt.date.today()).year
    item.receive_number = next_receive_number(session, unit_id, year)
    item.receive_year = year
    item.status, item.received_at, item.received_by = "received", utcnow(), actor
    session.flush()
    events.record(session, "received", actor=actor, letter_id=letter_id, unit_id=unit_id,
                  receive_number=item.receive_number, receive_year=year)
    return item


def return_letter(session: Session, letter_id: int, unit_id: str, reason: str, *,
                  actor: str = "system") -> InboxItemRow:
    """A unit sends a letter back. Not addressed to it → the letter returns to review."""
    if not reason.strip():
        raise InboxError("กรุณาระบุเหตุผลที่ส่งคืน")
    item = _item(session, letter_id, unit_id)
    item.status, item.returned_at, item.return_reason = "returned", utcnow(), reason.strip()
    events.record(session, "returned_by_unit", actor=actor, letter_id=letter_id, unit_id=unit_id, reason=reason)
    if RETURN_REASON_NOT_OURS in reason:
        letter = session.get(LetterRow, letter_id)
        assert letter is not None
        open_review(session, letter, [Flag.RETURNED_BY_UNIT.value])
    session.flush()
    return item


def inbox(session: Session, unit_id: str, *, status: str | None = None, limit: int = 200) -> list[InboxItemRow]:
    """A unit's letters, most urgent first, then newest."""
    query = select(InboxItemRow).join(LetterRow).where(InboxItemRow.unit_id == unit_id)
    if status:
        query = query.where(InboxItemRow.status == status)
    items = list(session.scalars(query.order_by(InboxItemRow.created_at.desc()).limit(limit)))
    items.sort(key=lambda i: (URGENCY_ORDER.get(i.letter.urgency or "", 3), -(i.created_at.timestamp())))
    return items


def item_json(item: InboxItemRow) -> dict:
    letter = item.letter
    return {
        "letter_id": letter.id, "unit": item.unit_id, "status": item.status, "number": letter.number,
        "date": letter.date.isoformat() if letter.date else None, "subject": letter.subject,
        "urgency": letter.urgency, "secrecy": letter.secrecy, "receive_number": item.receive_number,
        "receive_year": item.receive_year, "received_at": item.received_at.isoformat() if item.received_at else None,
        "return_reason": item.return_reason, "object_key": letter.object_key,
        "created_at": item.created_at.isoformat(),
    }
