"""One letter: its page, its PDF, its header crop, and the local store's signed file paths.

The PDF link is the store's own: a presigned URL (S3) or a signed `/files/<key>?exp=…&sig=…`
path, which this app serves from the local store after checking the signature and the session.
"""

from __future__ import annotations

import datetime as dt
import mimetypes

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import select

from review import queries
from review.auth import Forbidden, User
from review.deps import CurrentUser, saraban
from review.pages.inbox import RETURN_REASONS
from review.render import render
from saraban.app import secret_key
from storage import events
from storage.objects import LocalStore, verify_path_signature
from storage.tables import InboxItemRow, LetterRow

router = APIRouter()
LINK_LIFETIME = dt.timedelta(minutes=15)


def _visible_letter(request: Request, user: User, letter_id: int) -> LetterRow:
    with saraban(request).db.session() as session:
        letter = session.get(LetterRow, letter_id)
        if letter is None:
            # Same answer as "not yours" for clerks: ids are not a way to learn what exists.
            if not user.is_operator:
                raise Forbidden("ท่านไม่มีสิทธิ์เปิดหนังสือฉบับนี้")
            raise HTTPException(404, f"ไม่พบหนังสือรายการที่ {letter_id}")
        if not queries.can_see_letter(session, user, letter_id):
            raise Forbidden("หนังสือฉบับนี้ไม่ได้ส่งถึงหน่วยงานของท่าน")
        return letter


@router.get("/letters/{letter_id}")
def letter_page(request: Request, letter_id: int, user: CurrentUser) -> Response:
    letter = _visible_letter(request, user, letter_id)
    with saraban(request).db.session() as session:
        item = None
        if user.role == "clerk":
            item = session.scalar(select(InboxItemRow).where(InboxItemRow.letter_id == letter_id,
                                                             InboxItemRow.unit_id == user.unit_id))
        return render(request, "letter.html", {
            "letter": letter, "item": item, "names": queries.unit_names(session),
            "attachment_keys": queries.attachment_keys(session, letter_id), "return_reasons": RETURN_REASONS,
            "events": queries.letter_events(session, letter_id) if user.is_operator else []})


@router.get("/letters/{letter_id}/pdf")
def letter_pdf(request: Request, letter_id: int, user: CurrentUser) -> Response:
    letter = _visible_letter(request, user, letter_id)
    if not letter.object_key:
        raise HTTPException(404, "ไม่มีแฟ้ม PDF ของหนังสือนี้")
    if letter.secrecy:  # who opened a secret letter is part of its record
        with saraban(request).db.session() as session:
            events.record(session, "pdf_opened", actor=user.username, letter_id=letter_id,
                          unit_id=user.unit_id)
    return RedirectResponse(saraban(request).store.url(letter.object_key, LINK_LIFETIME), status_code=303)


@router.get("/letters/{letter_id}/attachments/{index}")
def letter_attachment(request: Request, letter_id: int, index: int, user: CurrentUser) -> Response:
    _visible_letter(request, user, letter_id)
    with saraban(request).db.session() as session:
        keys = queries.attachment_keys(session, letter_id)
    if not 0 <= index < len(keys):
        raise HTTPException(404, "ไม่พบเอกสารแนบ")
    return RedirectResponse(saraban(request).store.url(keys[index], LINK_LIFETIME), status_code=303)


@router.get("/letters/{letter_id}/header")
def letter_header(request: Request, letter_id: int, user: CurrentUser) -> Response:
    letter = _visible_letter(request, user, letter_id)
    if not letter.header_key:
        raise HTTPException(404, "ไม่มีภาพส่วนหัวของหนังสือนี้")
    data = saraban(request).store.get(letter.header_key)
    media_type = mimetypes.guess_type(letter.header_key)[0] or "application/octet-stream"
    # Content-addressed: the same key always holds the same bytes.
    return Response(data, media_type=media_type, headers={"Cache-Control": "private, max-age=86400"})


@router.get("/files/{key:path}")
def stored_file(request: Request, key: str, user: CurrentUser, exp: int = 0, sig: str = "") -> Response:
    """A signed link from `LocalStore.url()`; the signature names the key and the expiry."""
    store = saraban(request).store
    if not isinstance(store, LocalStore):
        raise HTTPException(404, "ไม่พบแฟ้ม")
    if not verify_path_signature(secret_key(saraban(request).settings), key, exp, sig):
        raise Forbidden("ลิงก์แฟ้มไม่ถูกต้องหรือหมดอายุแล้ว กรุณาเปิดจากหน้าหนังสืออีกครั้ง")
    stat = store.stat(key)
    if stat is None:
        raise HTTPException(404, "ไม่พบแฟ้มในที่เก็บ")
    return FileResponse(store.local_path(key), media_type=stat.content_type or "application/octet-stream",
                        content_disposition_type="inline", filename=key.rsplit("/", 1)[-1],
                        headers={"Cache-Control": "private, max-age=900"})
