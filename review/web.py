"""The web app: `create_app(App)` → FastAPI. `saraban serve` runs it with uvicorn.

Pages are server-rendered (Jinja2, plain forms, a little plain JS for keyboard and zoom); nothing
is fetched from outside the app. Every page but the login needs a session; every form carries a
CSRF token; every state change goes through saraban.operations.
"""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from review.auth import CsrfRejected, Forbidden, LoginLimiter, LoginRequired
from review.deps import csrf_protect
from review.render import make_environment, render
from saraban.app import App, secret_key

STATIC = Path(__file__).resolve().parent / "static"
SESSION_COOKIE = "saraban_session"
SESSION_HOURS = 12  # a working day; log in again the next morning
# Pages only load what the app serves itself: no inline script or style, no framing.
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
       "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


class SecurityHeaders:
    """Headers every response gets; HTML pages also get the content security policy."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _value in headers}
                extra = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
                         (b"x-frame-options", b"DENY")]
                content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html"):
                    extra.append((b"content-security-policy", CSP.encode()))
                headers += [(n, v) for n, v in extra if n not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(app: App, *, login_limiter: LoginLimiter | None = None) -> FastAPI:
    from review.pages import admin, dashboard, inbox, letters, login, returns
    from review.pages import review as review_pages

    web = FastAPI(title="saraban", docs_url=None, redoc_url=None, openapi_url=None)
    web.state.saraban = app
    web.state.templates = make_environment()
    web.state.login_limiter = login_limiter or LoginLimiter()
    for module in (login, dashboard, review_pages, returns, inbox, letters, admin):
        web.include_router(module.router, dependencies=[Depends(csrf_protect)])
    web.mount("/static", StaticFiles(directory=STATIC), name="static")
    web.add_middleware(SessionMiddleware, secret_key=secret_key(app.settings), session_cookie=SESSION_COOKIE,
                       max_age=SESSION_HOURS * 3600, same_site="lax", https_only=app.settings.cookie_secure)
    web.add_middleware(SecurityHeaders)
    _error_pages(web)
    return web


def _error_pages(web: FastAPI) -> None:
    def page(request: Request, status: int, title: str, message: str) -> Response:
        return render(request, "error.html", {"title": title, "message": message}, status_code=status)

    @web.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: Any) -> Response:
        if request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={_quote(target)}", status_code=303)
        return page(request, 401, "ต้องเข้าสู่ระบบ", "กรุณาเข้าสู่ระบบก่อน")

    @web.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return page(request, 403, "ไม่มีสิทธิ์เข้าถึง", exc.message)

    @web.exception_handler(CsrfRejected)
    async def csrf_rejected(request: Request, _exc: Any) -> Response:
        return page(request, 403, "คำขอถูกปฏิเสธ",
                    "แบบฟอร์มหมดอายุหรือไม่ได้ส่งมาจากหน้านี้ (ไม่มีรหัสยืนยัน CSRF) กรุณาโหลดหน้าใหม่แล้วลองอีกครั้ง")

    @web.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, _exc: Any) -> Response:
        return page(request, 400, "ข้อมูลไม่ครบหรือไม่ถูกต้อง",
                    "ข้อมูลที่ส่งมาไม่ครบหรือไม่ถูกต้อง (เช่น ไม่ได้เลือกแฟ้ม) กรุณากลับไปตรวจแล้วลองอีกครั้ง")

    @web.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        titles = {404: "ไม่พบหน้าที่ต้องการ", 405: "ใช้คำขอนี้กับหน้านี้ไม่ได้"}
        title = titles.get(exc.status_code, "เกิดข้อผิดพลาด")
        try:
            default = HTTPStatus(exc.status_code).phrase
        except ValueError:
            default = ""
        message = exc.detail if exc.detail and exc.detail != default else title
        return page(request, exc.status_code, title, message)


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")
