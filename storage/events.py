"""The append-only event log: every routing decision and action, with who, when and why."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from storage.tables import EventRow


def record(session: Session, action: str, *, actor: str = "system", letter_id: int | None = None,
           unit_id: str | None = None, reason: str | None = None, **detail: Any) -> EventRow:
    event = EventRow(action=action, actor=actor, letter_id=letter_id, unit_id=unit_id, reason=reason,
                     detail={k: v for k, v in detail.items() if v is not None})
    session.add(event)
    return event
