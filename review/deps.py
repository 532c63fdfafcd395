"""Request dependencies: the App, the logged-in user and their role, and the CSRF check."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from review.auth import CsrfRejected, Forbidden, LoginRequired, User, as_user, csrf_valid
from saraban.app import App
from storage.tables import UserRow

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def saraban(request: Request) -> App:
    app: App = request.app.state.saraban
    return app


def current_user(request: Request) -> User:
    """Every page but the login needs a session with a user that still exists."""
    uid = request.session.get("uid")
    if not isinstance(uid, int):
        raise LoginRequired()
    with saraban(request).db.session() as session:
        row = session.get(UserRow, uid)
        if row is None:
            request.session.clear()
            raise LoginRequired()
        user = as_user(row)
    request.state.user = user
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def operator(user: CurrentUser) -> User:
    if not user.is_operator:
        raise Forbidden("หน้านี้สำหรับเจ้าหน้าที่ตรวจทานเท่านั้น")
    return user


def admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise Forbidden("หน้านี้สำหรับผู้ดูแลระบบเท่านั้น")
    return user


OperatorUser = Annotated[User, Depends(operator)]
AdminUser = Annotated[User, Depends(admin)]


async def csrf_protect(request: Request) -> None:
    """Every state-changing request carries the session's token: a form field or X-CSRF-Token."""
    if request.method in SAFE_METHODS:
        return
    token: object = request.headers.get("x-csrf-token")
    if token is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        token = (await request.form()).get("csrf_token")
    if not csrf_valid(request, token if isinstance(token, str) else None):
        raise CsrfRejected()
