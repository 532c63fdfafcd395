"""A unit's inbox: its letters, most urgent and newest first; receive (เลขรับ) or return.

Only the unit's own clerks act on it; admins may look. Anyone else gets 403, URL typed or not.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.models import RETURN_REASON_MISSING_ATTACHMENTS, RETURN_REASON_NOT_OURS
from review import queries
from review.auth import Forbidden, User, flash
from review.deps import CurrentUser, saraban
from review.render import render
from saraban import operations
from saraban.operations import OperationError
from storage.tables import UnitRow

router = APIRouter()
TABS = (("new", "ยังไม่รับ"), ("received", "รับแล้ว"), ("returned", "ส่งคืนแล้ว"))
RETURN_REASONS = (RETURN_REASON_NOT_OURS, RETURN_REASON_MISSING_ATTACHMENTS)


def may_view(user: User, unit_id: str) -> None:
    if not (user.clerk_of(unit_id) or user.is_admin):
        raise Forbidden("ท่านดูได้เฉพาะกล่องหนังสือของหน่วยงานของท่านเอง")


def may_act(user: User, unit_id: str) -> None:
    if not user.clerk_of(unit_id):
        raise Forbidden("เฉพาะเจ้าหน้าที่สารบรรณของหน่วยงานนี้เท่านั้นที่รับหรือส่งคืนหนังสือได้")


@router.get("/inbox/{unit_id}")
def inbox_page(request: Request, unit_id: str, user: CurrentUser, status: str = "new") -> Response:
    may_view(user, unit_id)
    if status not in dict(TABS):
        status = "new"
    with saraban(request).db.session() as session:
        unit = session.get(UnitRow, unit_id)
        if unit is None:
            raise HTTPException(404, f"ไม่พบหน่วยงาน {unit_id}")
        return render(request, "inbox.html", {
            "unit": unit, "status": status, "tabs": TABS, "counts": queries.inbox_counts(session, unit_id),
            "items": queries.inbox_page(session, unit_id, status),
            "returned_to_us": queries.decided_returns(session, sender_unit=unit_id, limit=20),
            "can_act": user.clerk_of(unit_id)})


@router.post("/inbox/{unit_id}/{letter_id}/receive")
def receive(request: Request, unit_id: str, letter_id: int, user: CurrentUser) -> Response:
    may_act(user, unit_id)
    try:
        with saraban(request).db.session() as session:
            item = operations.receive_letter(session, letter_id, unit_id, actor=user.username)
            flash(request, f"รับหนังสือแล้ว เลขรับ {item.receive_number}/{(item.receive_year or 0) + 543}")
    except OperationError as exc:
        flash(request, str(exc), "error")
    return RedirectResponse(f"/inbox/{unit_id}", status_code=303)


@router.post("/inbox/{unit_id}/{letter_id}/return")
def return_letter(request: Request, unit_id: str, letter_id: int, user: CurrentUser,
                  reason: Annotated[str, Form()] = "") -> Response:
    may_act(user, unit_id)
    try:
        with saraban(request).db.session() as session:
            operations.return_from_unit(session, letter_id, unit_id, reason, actor=user.username)
        flash(request, "ส่งคืนหนังสือแล้ว")
    except OperationError as exc:
        flash(request, str(exc), "error")
        return RedirectResponse(f"/letters/{letter_id}", status_code=303)
    return RedirectResponse(f"/inbox/{unit_id}", status_code=303)
