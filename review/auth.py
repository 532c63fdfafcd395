"""Users, passwords (argon2), the login rate limit, sessions and CSRF tokens.

Roles: `operator` (review and returns queues), `clerk` (their own unit's inbox only), `admin`
(register, directory, users; and everything an operator sees). The session is a signed cookie
(Starlette's SessionMiddleware, itsdangerous) holding only the user id and the CSRF token; the
user is loaded from the database on every request, so a deleted user is logged out at once.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.thai import normalize_text
from storage import events
from storage.tables import UnitRow, UserRow

ROLES = ("operator", "clerk", "admin")
ROLE_NAMES = {"operator": "เจ้าหน้าที่ตรวจทาน", "clerk": "เจ้าหน้าที่สารบรรณหน่วยงาน", "admin": "ผู้ดูแลระบบ"}
MIN_PASSWORD = 8
_hasher = PasswordHasher()
# Verified against when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class UserError(Exception):
    """A user could not be added; the message is Thai."""


class LoginRequired(Exception):
    pass


class Forbidden(Exception):
    def __init__(self, message: str = "ท่านไม่มีสิทธิ์เข้าถึงหน้านี้") -> None:
        super().__init__(message)
        self.message = message


class CsrfRejected(Exception):
    pass


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    unit_id: str | None
    display_name: str

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @property
    def role_name(self) -> str:
        return ROLE_NAMES.get(self.role, self.role)

    @property
    def is_operator(self) -> bool:
        return self.role in ("operator", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def clerk_of(self, unit_id: str) -> bool:
        return self.role == "clerk" and self.unit_id == unit_id


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def add_user(session: Session, username: str, password: str, role: str, *, unit_id: str | None = None,
             display_name: str = "", actor: str = "system") -> UserRow:
    """A new user; a clerk belongs to one unit of the directory."""
    username = username.strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise UserError("ชื่อผู้ใช้ต้องไม่ว่างและไม่มีช่องว่าง")
    if role not in ROLES:
        raise UserError(f"บทบาท '{role}' ไม่ถูกต้อง ใช้ operator, clerk หรือ admin")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"รหัสผ่านต้องยาวอย่างน้อย {MIN_PASSWORD} ตัวอักษร")
    if role == "clerk":
        if not unit_id:
            raise UserError("เจ้าหน้าที่สารบรรณหน่วยงาน (clerk) ต้องระบุหน่วยงาน (--unit)")
        if session.get(UnitRow, unit_id) is None:
            raise UserError(f"ไม่พบหน่วยงาน '{unit_id}' ในทำเนียบ")
    elif unit_id:
        raise UserError("ระบุหน่วยงานได้เฉพาะผู้ใช้บทบาท clerk")
    if session.scalar(select(UserRow.id).where(UserRow.username == username)) is not None:
        raise UserError(f"มีผู้ใช้ชื่อ '{username}' อยู่แล้ว")
    row = UserRow(username=username, password_hash=hash_password(password), role=role, unit_id=unit_id,
                  display_name=normalize_text(display_name))
    session.add(row)
    session.flush()
    events.record(session, "user_added", actor=actor, unit_id=unit_id, username=username, role=role)
    return row


def authenticate(session: Session, username: str, password: str) -> UserRow | None:
    row = session.scalar(select(UserRow).where(UserRow.username == username.strip()))
    if row is None:
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(row.password_hash, password):
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = hash_password(password)
    return row


def as_user(row: UserRow) -> User:
    return User(row.id, row.username, row.role, row.unit_id, row.display_name)


class LoginLimiter:
    """Failed logins per username and per client address in a sliding window (in this process).

    Checked before the password is, so a locked-out name cannot be guessed at even with the right
    password; a success clears that username's failures.
    """

    def __init__(self, *, per_user: int = 5, per_address: int = 20, window_seconds: float = 900.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_user, self.per_address, self.window = per_user, per_address, window_seconds
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def retry_after(self, username: str, address: str) -> int:
        """Seconds to wait before trying again; 0 when allowed."""
        now = self.clock()
        with self._lock:
            waits = []
            for key, limit in ((f"user:{username.strip().lower()}", self.per_user),
                               (f"addr:{address}", self.per_address)):
                times = self._recent(key, now)
                if len(times) >= limit:
                    waits.append(int(self.window - (now - times[0])) + 1)
            return max(waits, default=0)

    def failed(self, username: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            self._recent(f"user:{username.strip().lower()}", now).append(now)
            self._recent(f"addr:{address}", now).append(now)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(f"user:{username.strip().lower()}", None)


# ---------------------------------------------------------------------------------------------
# Sessions and CSRF


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use (the login form gets one too)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def csrf_valid(request: Request, submitted: str | None) -> bool:
    expected = request.session.get("csrf")
    return bool(expected and submitted and hmac.compare_digest(str(expected), submitted))


def start_session(request: Request, user: UserRow) -> None:
    """A fresh session at login: nothing carried over from before, a new CSRF token."""
    request.session.clear()
    request.session["uid"] = user.id
    request.session["csrf"] = secrets.token_urlsafe(32)


FLASH_CHARS = 240  # the session is a cookie (~4 KB, Thai text JSON-escaped): keep messages short


def flash(request: Request, text: str, kind: str = "ok") -> None:
    if len(text) > FLASH_CHARS:
        text = text[:FLASH_CHARS] + "…"
    # Assigned, not appended in place: the session is saved only when it sees an assignment.
    request.session["flash"] = [*request.session.get("flash", [])[-4:], [kind, text]]


def take_flashes(request: Request) -> list[tuple[str, str]]:
    return [(kind, text) for kind, text in request.session.pop("flash", [])]
