"""The intake of one file, step by step, as plain functions (the Prefect flow wraps each as a task).

fingerprint → (same bytes already stored? duplicate) → read → check against the register →
archive in the object store → resolve addressees → decide → record (letter, inbox items,
review or return, events, intake file). A file that cannot be read is recorded as failed with
a Thai reason; the original is never touched here (the watcher moves it once this is done).
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import select

from pipeline.disposition import Status, dispose
from pipeline.errors import IntakeError
from pipeline.models import Letter
from pipeline.reader import NO_HINTS, Hints, read_letter
from pipeline.route import Resolution, resolve
from pipeline.validate import Validation, settle, validate
from saraban.app import App
from storage import inbox, letters
from storage.archive import ArchivedKeys, archive_scan
from storage.directory import load_directory
from storage.objects import StoreError, sha256_of
from storage.register import SqlRegister
from storage.tables import RegisterEntryRow

log = logging.getLogger("saraban.intake")


@dataclass(frozen=True)
class Fingerprint:
    path: str
    sha256: str
    size: int
    station: str


@dataclass
class IntakeResult:
    """One line of `saraban ingest --json` (contracts.md)."""

    file: str
    status: str  # routed | needs_review | duplicate | failed
    letter_id: int | None = None
    number: str | None = None
    recipients: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    object_key: str | None = None
    reason: str | None = None  # Thai, for the clerk, when failed or duplicate
    detail: str | None = None

    def to_json(self) -> dict:
        data = asdict(self)
        return {k: v for k, v in data.items() if v is not None or k in ("letter_id", "number", "object_key")}


def fingerprint(path: Path, station: str) -> Fingerprint:
    sha, size = sha256_of(path)
    return Fingerprint(str(path), sha, size, station)


def known_bytes(app: App, fp: Fingerprint, *, batch: str | None = None) -> IntakeResult | None:
    """The same bytes were taken in before: record the attempt, store nothing."""
    with app.db.session() as session:
        existing = letters.by_sha256(session, fp.sha256)
        if existing is None:
            return None
        reason = f"แฟ้มนี้นำเข้าแล้ว (รายการที่ {existing.id} จาก {existing.file_name})"
        letters.record_file(session, path=fp.path, station=fp.station, sha256=fp.sha256, size=fp.size,
                            outcome="duplicate", letter_id=existing.id, reason_code="duplicate_file", reason=reason,
                            batch=batch)
        return IntakeResult(fp.path, "duplicate", existing.id, existing.number, list(existing.recipients or []),
                            ["duplicate"], existing.object_key, reason)


HINTS_SECONDS = 300.0
_hints: dict[str, tuple[float, Hints]] = {}


def hints(app: App) -> Hints:
    """What the directory and register tell the reader (re-read from the database every few minutes)."""
    key = app.settings.resolved_database_url
    cached = _hints.get(key)
    if cached is None or time.monotonic() - cached[0] > HINTS_SECONDS:
        with app.db.session(read_only=True) as session:
            series = session.execute(select(RegisterEntryRow.code, RegisterEntryRow.agency).distinct()).all()
            cached = (time.monotonic(), Hints(load_directory(session).vocabulary,
                                              frozenset(code for code, _agency in series),
                                              frozenset((code, agency) for code, agency in series)))
        _hints[key] = cached
    return cached[1]


def read(fp: Fingerprint, reading_hints: Hints = NO_HINTS) -> Letter:
    return read_letter(fp.path, display_name=fp.path, hints=reading_hints)


def check(app: App, letter: Letter) -> Validation:
    """Register rules, and what the register confirms applied to the letter."""
    with app.db.session(read_only=True) as session:
        validation = validate(letter, SqlRegister(session), number_threshold=app.settings.review_threshold)
    settle(letter, validation)
    return validation


# Without Prefect (watcher, backfill batches) the archive step retries on its own, with backoff.
ARCHIVE_RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)


def archive(app: App, fp: Fingerprint, letter: Letter) -> ArchivedKeys:
    return archive_scan(app.store, Path(fp.path), fp.sha256, letter, fp.station)


def archive_with_retries(app: App, fp: Fingerprint, letter: Letter,
                         delays: tuple[float, ...] = ARCHIVE_RETRY_DELAYS) -> ArchivedKeys:
    """`archive`, retried while the store is unreachable; a lasting outage raises `StoreError`
    (the caller keeps the file for later: it is not the file's fault)."""
    for delay in delays:
        try:
            return archive(app, fp, letter)
        except StoreError as exc:
            log.warning("store unavailable, retrying", extra={"file": fp.path, "stage": "archive", "error": str(exc)})
            time.sleep(delay)
    return archive(app, fp, letter)


def record(app: App, fp: Fingerprint, letter: Letter, validation: Validation, keys: ArchivedKeys,
           *, batch: str | None = None) -> IntakeResult:
    """Resolve addressees, decide, and write everything in one transaction."""
    with app.db.session() as session:
        existing = letters.by_sha256(session, fp.sha256)
        if existing is not None:  # a concurrent intake of the same bytes got here first
            letters.record_file(session, path=fp.path, station=fp.station, sha256=fp.sha256, size=fp.size,
                                outcome="duplicate", letter_id=existing.id, reason_code="duplicate_file",
                                reason="แฟ้มนี้นำเข้าแล้ว", batch=batch)
            return IntakeResult(fp.path, "duplicate", existing.id, existing.number, list(existing.recipients or []),
                                ["duplicate"], existing.object_key, "แฟ้มนี้นำเข้าแล้ว")
        directory = load_directory(session)
        resolution: Resolution | None = None
        if letter.kind.value != "not_letter":
            resolution = resolve(letter.addressee.value, directory, distribution=letter.distribution)
        sender = letters.sender_unit(session, None, validation.entry.sender if validation.entry else None)
        disposition = dispose(letter, validation, resolution, sender)
        routing = {"matched": resolution.matched, "unresolved": resolution.unresolved,
                   "ambiguous": resolution.ambiguous} if resolution else {}
        row = letters.record_letter(session, letter, sha256=fp.sha256, size=fp.size, station=fp.station, keys=keys,
                                    validation=validation, disposition=disposition, routing=routing)
        if disposition.status is Status.ROUTED:
            inbox.route(session, row, disposition.recipients)
        flags = [f.value for f in disposition.flags]
        outcome = "duplicate" if "duplicate" in flags else (
            "routed" if disposition.status is Status.ROUTED else "needs_review")
        letters.record_file(session, path=fp.path, station=fp.station, sha256=fp.sha256, size=fp.size,
                            outcome=outcome, letter_id=row.id, batch=batch)
        return IntakeResult(fp.path, outcome, row.id, row.number, list(disposition.recipients), flags, keys.pdf)


def fail(app: App, path: Path, station: str, error: BaseException, *, batch: str | None = None) -> IntakeResult:
    """Record a file that could not be taken in, with a reason a clerk can act on."""
    if isinstance(error, IntakeError):
        code, reason, detail = error.code, error.reason, error.detail
    else:
        code, reason = "internal_error", "เกิดข้อผิดพลาดภายในระบบ กรุณาแจ้งผู้ดูแลระบบ แฟ้มต้นฉบับยังอยู่ครบ"
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
    try:
        sha, size = sha256_of(path)
    except OSError:
        sha, size = None, 0
    with app.db.session() as session:
        letters.record_file(session, path=str(path), station=station, sha256=sha, size=size, outcome="failed",
                            reason_code=code, reason=reason, detail=detail, batch=batch)
    log.warning("intake failed", extra={"file": str(path), "stage": "read", "code": code, "detail": detail})
    return IntakeResult(str(path), "failed", reason=reason, detail=detail, flags=[code])


def process_file(app: App, path: Path, station: str | None = None, *, batch: str | None = None) -> IntakeResult:
    """The whole intake of one file without Prefect (tests, and the backfill's batched tasks)."""
    station = station or app.settings.station
    try:
        fp = fingerprint(path, station)
        duplicate = known_bytes(app, fp, batch=batch)
        if duplicate is not None:
            return duplicate
        letter = read(fp, hints(app))
        validation = check(app, letter)
        keys = archive_with_retries(app, fp, letter)
        return record(app, fp, letter, validation, keys, batch=batch)
    except (IntakeError, OSError) as exc:
        return fail(app, path, station, exc, batch=batch)
