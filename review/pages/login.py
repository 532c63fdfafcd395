"""Login and logout. The login is rate-limited per username and per client address."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from review.auth import LoginLimiter, User, as_user, authenticate, flash, start_session
from review.deps import CurrentUser, saraban
from review.render import render
from storage import events

router = APIRouter()


def home_for(user: User) -> str:
    if user.role == "clerk":
        return f"/inbox/{user.unit_id}"
    return "/dashboard" if user.is_admin else "/review"


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never `//host` or `https://…` (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": _safe_next(next) or "", "username": "", "error": None})


@router.post("/login")
def login(request: Request, username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "") -> Response:
    app = saraban(request)
    limiter: LoginLimiter = request.app.state.login_limiter
    address = request.client.host if request.client else "-"
    wait = limiter.retry_after(username, address)
    if wait:
        with app.db.session() as session:
            events.record(session, "login_refused", actor=username[:100] or "-", reason="rate_limited",
                          address=address)
        response = render(request, "login.html", {
            "next": _safe_next(next) or "", "username": username,
            "error": f"เข้าสู่ระบบผิดหลายครั้งเกินไป กรุณารอประมาณ {-(-wait // 60)} นาทีแล้วลองใหม่"},
            status_code=429)
        response.headers["Retry-After"] = str(wait)
        return response
    user: User | None = None
    with app.db.session() as session:
        row = authenticate(session, username, password)
        if row is None:
            events.record(session, "login_failed", actor=username[:100] or "-", address=address)
        else:
            events.record(session, "login", actor=row.username, address=address)
            user = as_user(row)
    if row is None or user is None:
        limiter.failed(username, address)
        return render(request, "login.html", {"next": _safe_next(next) or "", "username": username,
                                              "error": "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง"}, status_code=401)
    limiter.succeeded(username)
    start_session(request, row)
    return RedirectResponse(_safe_next(next) or home_for(user), status_code=303)


@router.post("/logout")
def logout(request: Request, user: CurrentUser) -> Response:
    request.session.clear()
    flash(request, "ออกจากระบบแล้ว")
    return RedirectResponse("/login", status_code=303)


@router.get("/")
def home(user: CurrentUser) -> Response:
    return RedirectResponse(home_for(user), status_code=303)
