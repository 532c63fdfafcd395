"""The returns queue: letters to go back to their senders (missing attachments, or an operator's
decision). Confirm the return, or, when the attachments came later as a separate file, attach it
and route the letter."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from review import queries
from review.auth import flash
from review.deps import OperatorUser, saraban
from review.render import render
from saraban import operations
from saraban.operations import OperationError
from storage.archive import CONTENT_TYPES

router = APIRouter()
CHUNK = 1024 * 1024


@router.get("/returns")
def returns_page(request: Request, user: OperatorUser) -> Response:
    with saraban(request).db.session() as session:
        return render(request, "returns.html", {
            "pending": queries.returns_queue(session), "decided": queries.decided_returns(session),
            "names": queries.unit_names(session)})


@router.post("/returns/{return_id}/confirm")
def confirm(request: Request, return_id: int, user: OperatorUser) -> Response:
    try:
        with saraban(request).db.session() as session:
            row = operations.confirm_return(session, return_id, user.username)
            flash(request, f"ยืนยันส่งคืนผู้ส่งแล้ว (รายการส่งคืนที่ {row.id})")
    except OperationError as exc:
        flash(request, str(exc), "error")
    return RedirectResponse("/returns", status_code=303)


@router.post("/returns/{return_id}/override")
def override(request: Request, return_id: int, attachment: Annotated[UploadFile, File()],
             user: OperatorUser) -> Response:
    app = saraban(request)
    suffix = Path(attachment.filename or "").suffix.lower()
    limit = app.settings.max_file_mb * 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="saraban-attachment-") as tmp:
        path = Path(tmp) / f"attachment{suffix if suffix in CONTENT_TYPES else '.bin'}"
        size = 0
        with path.open("wb") as out:
            while chunk := attachment.file.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    flash(request, f"แฟ้มเอกสารแนบใหญ่เกิน {app.settings.max_file_mb} MB", "error")
                    return RedirectResponse("/returns", status_code=303)
                out.write(chunk)
        try:
            result = operations.override_return(app, return_id, path, user.username)
        except OperationError as exc:
            flash(request, str(exc), "error")
            return RedirectResponse("/returns", status_code=303)
    if result.routed_to:
        flash(request, f"แนบเอกสารแล้ว และส่งหนังสือถึง {len(result.routed_to)} หน่วยงานแล้ว")
    else:
        flash(request, "แนบเอกสารแล้ว หนังสือเข้าคิวตรวจทานเพื่อตรวจข้อมูลก่อนส่งต่อ")
    return RedirectResponse("/returns", status_code=303)
