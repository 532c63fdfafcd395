"""The watched folder of the scanning stations, as plain logic (flows/watch.py drives it).

Layout of a watched folder DIR (one subfolder per station; its name is recorded on the letter):

    DIR/<station>/scan.pdf                       dropped by a station (directly in DIR: settings.station)
    DIR/processing/<station>/<claim>/scan.pdf    claimed by one watcher, being taken in
    DIR/done/<YYYY-MM-DD>/<station>/scan.pdf     taken in and recorded (or deleted, by setting)
    DIR/failed/<station>/scan.pdf                could not be taken in, with scan.pdf.error.json beside it

A file is taken only when its size and mtime have not changed for `stable_seconds` and it opens
cleanly (readable, and for PDF/JPEG/PNG its end marker is there). It is claimed by renaming it into
`processing/`: a rename is atomic, so of two watchers only one succeeds. The claim's name says who
holds it (host, pid); a claim whose holder is dead, or whose lease (the claim folder's mtime, touched
while the file is worked on) ran out, is taken again. The original leaves `processing/` only after
the intake recorded it (storage.letters.record_file), so a crash at any point loses nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import ctypes.util
import datetime as dt
import itertools
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from pipeline.document import sniff_format
from pipeline.thai import normalize_text
from saraban import intake
from saraban.app import App
from saraban.intake import IntakeResult
from storage.objects import StoreError
from storage.tables import IntakeFileRow

log = logging.getLogger("saraban.stations")

DONE, FAILED, PROCESSING = "done", "failed", "processing"
RESERVED = frozenset({DONE, FAILED, PROCESSING})
# Names scanners, copy tools and desktops leave behind while writing, or beside the files.
IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".filepart", ".swp", ".error.json")
IGNORED_NAMES = frozenset({"thumbs.db", "desktop.ini", "ehthumbs.db"})
HOST = socket.gethostname()
LEASE_SECONDS = 300.0
# A file that is stable but does not look complete (no PDF/JPEG/PNG end marker) gets this much longer
# (a scanner pausing between pages); then it is taken anyway and fails with a reason.
INCOMPLETE_GRACE_SECONDS = 60.0
ERROR_SUFFIX = ".error.json"
TAIL_BYTES = 256

Process = Callable[[App, Path, str], IntakeResult]


def ignored(name: str) -> bool:
    """Temporary and system names that are never letters.

    >>> [ignored(n) for n in ("scan.pdf", "scan.pdf.part", "~$scan.pdf", ".scan.pdf", "Thumbs.db")]
    [False, True, True, True, True]
    """
    lower = name.lower()
    return (name.startswith((".", "~$")) or lower in IGNORED_NAMES or lower.endswith(IGNORED_SUFFIXES))


@dataclass(frozen=True)
class Signature:
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> Signature | None:
        try:
            st = path.stat()
        except OSError:
            return None
        return cls(st.st_size, st.st_mtime_ns)


class Stability:
    """How long each file has kept the same size and mtime, by this watcher's own clock.

    Observed, not read from mtime alone: a network share's clock may differ from ours.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._seen: dict[Path, tuple[Signature, float]] = {}

    def observe(self, path: Path, signature: Signature) -> float:
        """Seconds the file has been unchanged (0 when it just changed or is new)."""
        now = self.clock()
        previous = self._seen.get(path)
        if previous is None or previous[0] != signature:
            self._seen[path] = (signature, now)
            return 0.0
        return now - previous[1]

    def is_stable(self, path: Path, signature: Signature) -> bool:
        return self.observe(path, signature) >= self.seconds

    def forget(self, path: Path) -> None:
        self._seen.pop(path, None)

    def __contains__(self, path: object) -> bool:
        return path in self._seen

    def __len__(self) -> int:
        return len(self._seen)


def opens_cleanly(path: Path) -> bool:
    """The file can be opened and read, and a PDF/JPEG/PNG has its end marker (writing finished).

    TIFF has no end marker (its directory may be anywhere); the intake decides about it.
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(1024)
            size = fh.seek(0, os.SEEK_END)
            # Near the very end only: a linearized PDF has a first %%EOF after its first page, and a
            # JPEG's EXIF thumbnail its own end marker, both long before the file's end.
            fh.seek(max(0, size - TAIL_BYTES))
            tail = fh.read()
    except OSError:
        return False
    if not head:
        return False
    kind = sniff_format(head)
    if kind == "pdf":
        return b"%%EOF" in tail
    if kind == "jpeg":
        return b"\xff\xd9" in tail
    if kind == "png":
        return b"IEND" in tail
    return True


# -- the folder --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dropped:
    """A file waiting in a station folder."""

    path: Path
    station_dir: str  # the subfolder's name as on disk ("" for files directly in DIR)


def station_name(station_dir: str, default: str) -> str:
    """The station recorded on the letter: the subfolder's name (Thai normalised), else the default."""
    return normalize_text(station_dir) if station_dir else default


def waiting_files(folder: Path) -> Iterator[Dropped]:
    """Every file dropped in DIR or a station folder (any depth), not reserved folders or ignored names."""
    try:
        top = list(os.scandir(folder))
    except OSError:
        return
    for entry in top:
        if ignored(entry.name):
            continue
        if entry.is_file(follow_symlinks=False):
            yield Dropped(Path(entry.path), "")
        elif entry.is_dir(follow_symlinks=False) and entry.name not in RESERVED:
            for path in _walk(Path(entry.path)):
                yield Dropped(path, entry.name)


def _walk(folder: Path) -> Iterator[Path]:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if ignored(entry.name):
            continue
        if entry.is_file(follow_symlinks=False):
            yield Path(entry.path)
        elif entry.is_dir(follow_symlinks=False):
            yield from _walk(Path(entry.path))


def dropped(folder: Path, path: Path) -> Dropped | None:
    """`path` as a file waiting in `folder`, or None when it is not one (reserved area, ignored name)."""
    try:
        parts = path.relative_to(folder).parts
    except ValueError:
        return None
    if not parts or any(ignored(p) for p in parts) or (len(parts) > 1 and parts[0] in RESERVED):
        return None
    return Dropped(path, parts[0] if len(parts) > 1 else "")


# -- claims --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A file renamed into DIR/processing/<station_dir>/<token>/<name> by one watcher."""

    folder: Path
    path: Path
    station_dir: str
    station: str
    original: Path

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def token_dir(self) -> Path:
        return self.path.parent


_sequence = itertools.count(1)


def new_token(owner: str) -> str:
    """`<host>+<pid>+<owner>+<n>`: who holds a claim, so others can tell when the holder is gone."""
    return f"{HOST}+{os.getpid()}+{owner}+{next(_sequence)}"


def _holder(token: str) -> tuple[str, int] | None:
    parts = token.split("+")
    if len(parts) != 4 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def processing_dir(folder: Path, station_dir: str, default_station: str) -> Path:
    return folder / PROCESSING / (station_dir or default_station)


def claim(folder: Path, item: Dropped, *, owner: str, default_station: str) -> Claim | None:
    """Rename the dropped file into the processing area; None when another watcher took it first."""
    target_dir = processing_dir(folder, item.station_dir, default_station) / new_token(owner)
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / item.path.name
    try:
        os.rename(item.path, target)
    except OSError:  # gone: another watcher claimed it (or the station took it back)
        _remove_empty(target_dir)
        return None
    return Claim(folder, target, item.station_dir, station_name(item.station_dir, default_station), item.path)


def abandoned(folder: Path, *, lease_seconds: float = LEASE_SECONDS,
              now: float | None = None) -> Iterator[Path]:
    """Files in the processing area whose holder is gone: a dead process on this host, or a lease run out
    (the holder touches its claims every lease/5 while it works on them)."""
    now = time.time() if now is None else now
    area = folder / PROCESSING
    if not area.is_dir():
        return
    for station in _subdirs(area):
        for token_dir in _subdirs(station):
            host, pid = _holder(token_dir.name) or ("", 0)
            if host == HOST and pid == os.getpid():
                continue  # this process's own claims
            if not (host == HOST and not _pid_alive(pid)):
                # Held elsewhere, or by a live process here (or one that took a dead one's pid):
                # abandoned only once its holder stopped touching it for a whole lease.
                try:
                    if now - token_dir.stat().st_mtime < lease_seconds:
                        continue
                except OSError:
                    continue
            files = [p for p in token_dir.iterdir() if p.is_file()] if token_dir.is_dir() else []
            if not files:
                _remove_empty(token_dir)
            yield from files


def reclaim(folder: Path, path: Path, *, owner: str, default_station: str) -> Claim | None:
    """Take over an abandoned claim by renaming it under a new token (atomic, as for a first claim)."""
    station_dir = path.parent.parent.name
    target_dir = path.parent.parent / new_token(owner)
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / path.name
    try:
        os.rename(path, target)
    except OSError:
        _remove_empty(target_dir)
        return None
    _remove_empty(path.parent)
    name = "" if station_dir == default_station else station_dir
    original = folder / name / path.name if name else folder / path.name
    return Claim(folder, target, name, station_name(name, default_station), original)


def recorded(app: App, claimed_path: Path) -> IntakeFileRow | None:
    """The intake's record of a claimed file, if the intake got as far as recording it."""
    with app.db.session() as session:
        return session.scalar(select(IntakeFileRow).where(IntakeFileRow.path == str(claimed_path))
                              .order_by(IntakeFileRow.id.desc()).limit(1))


def release(claim_: Claim) -> None:
    """Put a claimed file back where it was dropped (the intake could not even record a failure)."""
    target = _free_name(claim_.original)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.rename(claim_.path, target)
    _remove_empty(claim_.token_dir)


def finish(claim_: Claim, result: IntakeResult, *, delete: bool = False,
           today: dt.date | None = None) -> Path | None:
    """After the intake recorded the file: to done/<date>/ (or deleted), or to failed/ with its error.json."""
    if result.status == "failed":
        target_dir = claim_.folder / FAILED / (claim_.path.parent.parent.name)
        target_dir.mkdir(parents=True, exist_ok=True)
        target = _free_name(target_dir / claim_.name)
        _write_json(target.with_name(target.name + ERROR_SUFFIX), error_report(claim_, result))
        os.rename(claim_.path, target)
    elif delete:
        claim_.path.unlink()
        target = None
    else:
        day = (today or dt.date.today()).isoformat()
        target_dir = claim_.folder / DONE / day / claim_.path.parent.parent.name
        target_dir.mkdir(parents=True, exist_ok=True)
        target = _free_name(target_dir / claim_.name)
        os.rename(claim_.path, target)
    _remove_empty(claim_.token_dir)
    return target


def error_report(claim_: Claim, result: IntakeResult) -> dict:
    """What `<name>.error.json` holds: a Thai reason a clerk can act on, and the technical detail."""
    return {
        "file": claim_.name,
        "station": claim_.station,
        "dropped_as": str(claim_.original),
        "reason": result.reason or "นำเข้าไม่สำเร็จ",
        "what_to_do": (f"แก้ไขตามสาเหตุข้างต้น แล้ววางแฟ้มใหม่ในโฟลเดอร์ของสถานี "
                       f"{claim_.station_dir or '(โฟลเดอร์หลัก)'} อีกครั้ง"),
        "code": result.flags[0] if result.flags else None,
        "detail": result.detail,
        "failed_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def result_of(row: IntakeFileRow) -> IntakeResult:
    """An IntakeResult from a recorded file (to finish a claim whose watcher died after recording)."""
    return IntakeResult(row.path, row.outcome, row.letter_id, reason=row.reason, detail=row.detail,
                        flags=[row.reason_code] if row.reason_code else [])


def _subdirs(folder: Path) -> list[Path]:
    try:
        return [Path(e.path) for e in os.scandir(folder) if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []


def _remove_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()


def _free_name(path: Path) -> Path:
    """`path`, or `stem-2.ext`, `stem-3.ext`… when a file of that name is already there."""
    if not path.exists() and not path.with_name(path.name + ERROR_SUFFIX).exists():
        return path
    for n in itertools.count(2):
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        if not candidate.exists() and not candidate.with_name(candidate.name + ERROR_SUFFIX).exists():
            return candidate
    raise AssertionError("unreachable")


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)


# -- the watcher ---------------------------------------------------------------------------------


def safe_process(app: App, path: Path, station: str, *, batch: str | None = None) -> IntakeResult:
    """`process_file`, with any unexpected error recorded as a failure instead of raised."""
    try:
        return intake.process_file(app, path, station, batch=batch)
    except (StoreError, OperationalError):
        raise  # the archive or the database is down, not the file at fault: it goes back for later
    except Exception as exc:  # a bug or an unexpected library error: this file fails, the rest go on
        log.exception("intake crashed", extra={"file": str(path), "stage": "intake"})
        return intake.fail(app, path, station, exc, batch=batch)
    finally:
        give_back_memory()


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _glibc()
# Page images (≥ 4 MB) get memory of their own from the system and give it back when freed. Left to
# itself glibc raises this threshold after the first such free and then keeps big images in its
# heaps, where two letters read side by side leave the process ~70 MB larger at its peaks.
M_MMAP_THRESHOLD = -3
if _LIBC is not None:
    _LIBC.mallopt(M_MMAP_THRESHOLD, 4 * 2**20)


def give_back_memory() -> None:
    """Hand freed heap back to the system after a letter: its page images are tens of MB each, and
    glibc would otherwise keep them per thread, so a long-running watcher or backfill would look
    as if it grew."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def plain_process(app: App, path: Path, station: str) -> IntakeResult:
    return safe_process(app, path, station)


@dataclass
class WatchStats:
    outcomes: Counter[str] = field(default_factory=Counter)
    claimed: int = 0
    lost_races: int = 0
    recovered: int = 0
    errors: int = 0


class Watcher:
    """One watcher of one folder: notices files, waits until they are stable, claims and takes them in.

    `notice()` (from file events) and `sweep()` (the full rescan) feed candidates; `tick()` claims the
    stable ones and hands them to a pool of `workers` threads (Tesseract runs as a subprocess, so
    threads give real parallelism), each file inside `slot()` (the machine's OCR limit, under
    Prefect). Nothing a single file does can stop it.
    """

    def __init__(self, app: App, folder: Path, *, stable_seconds: float | None = None, workers: int = 1,
                 process: Process = plain_process, lease_seconds: float = LEASE_SECONDS,
                 incomplete_grace: float = INCOMPLETE_GRACE_SECONDS,
                 on_result: Callable[[Claim, IntakeResult], None] | None = None,
                 slot: Callable[[], AbstractContextManager[Any]] = contextlib.nullcontext,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.folder = folder.resolve()
        settings = app.settings
        self.stable_seconds = settings.stable_seconds if stable_seconds is None else stable_seconds
        self.default_station = settings.station
        self.delete = settings.delete_after_ingest
        self.process = process
        self.lease_seconds = lease_seconds
        self.incomplete_grace = incomplete_grace
        self.on_result = on_result
        self.slot = slot
        self.workers = max(1, workers)
        self.owner = uuid.uuid4().hex[:8]
        self.stability = Stability(self.stable_seconds, clock)
        self.pending: dict[Path, Dropped] = {}
        self.stats = WatchStats()
        self.in_flight: dict[Path, Claim] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="station")
        self._futures: set[Future[None]] = set()
        self._last_touch = 0.0
        for sub in RESERVED:
            (self.folder / sub).mkdir(parents=True, exist_ok=True)

    # feeding candidates
    def notice(self, paths: Iterable[Path]) -> None:
        for path in paths:
            item = dropped(self.folder, Path(path))
            if item is not None:
                self.pending[item.path] = item

    def sweep(self) -> None:
        """The full rescan: every waiting file, and abandoned claims taken over."""
        seen = {}
        for item in waiting_files(self.folder):
            seen[item.path] = item
        for path in [p for p in self.pending if p not in seen and not p.exists()]:
            self._forget(path)
        self.pending.update(seen)
        self.recover()

    def recover(self) -> None:
        for path in abandoned(self.folder, lease_seconds=self.lease_seconds):
            taken = reclaim(self.folder, path, owner=self.owner, default_station=self.default_station)
            if taken is None:
                continue
            self.stats.recovered += 1
            log.warning("taking over an abandoned claim",
                        extra={"file": str(taken.original), "stage": "recover"})
            row = recorded(self.app, path)
            if row is not None:  # its watcher died after the intake recorded it: only the move is left
                self._finish(taken, result_of(row))
            else:
                self._submit(taken)

    # taking files in
    def tick(self) -> int:
        """Claim pending files that are ready, as many as there are free workers; returns how many.

        Claiming no more than it can start keeps the rest in the station folders for other watchers.
        """
        claimed = 0
        for path, item in list(self.pending.items()):
            if len(self._futures) >= self.workers:
                break
            signature = Signature.of(path)
            if signature is None:
                self._forget(path)
                continue
            waited = self.stability.observe(path, signature)
            if waited < self.stable_seconds:
                continue
            complete = signature.size > 0 and opens_cleanly(path)
            if not complete and waited < self.stable_seconds + self.incomplete_grace:
                continue
            self._forget(path)
            taken = claim(self.folder, item, owner=self.owner, default_station=self.default_station)
            if taken is None:
                self.stats.lost_races += 1
                continue
            self.stats.claimed += 1
            claimed += 1
            self._submit(taken)
        self._heartbeat()
        return claimed

    def _forget(self, path: Path) -> None:
        self.pending.pop(path, None)
        self.stability.forget(path)

    def _submit(self, taken: Claim) -> None:
        with self._lock:
            self.in_flight[taken.path] = taken
        # The caller's context (a Prefect flow run's, when there is one) goes with the file to its thread.
        future = self._pool.submit(contextvars.copy_context().run, self._take_in, taken)
        self._futures.add(future)
        future.add_done_callback(self._futures.discard)

    def _take_in(self, taken: Claim) -> None:
        recorded_ = False
        try:
            with self.slot():  # the file is in done/ before the slot is given back (that takes a moment)
                result = self.process(self.app, taken.path, taken.station)
                recorded_ = True
                self._finish(taken, result)
        except Exception:
            self.stats.errors += 1
            if recorded_:  # recorded, not moved: a later watcher of this folder only moves it
                log.exception("station file left in processing", extra={"file": str(taken.path), "stage": "move"})
            else:  # no slot, or even recording a failure failed (database down): give the file back
                log.exception("intake could not start or record",
                              extra={"file": str(taken.original), "stage": "record"})
                with contextlib.suppress(OSError):
                    release(taken)
        finally:
            with self._lock:
                self.in_flight.pop(taken.path, None)

    def _finish(self, taken: Claim, result: IntakeResult) -> None:
        finish(taken, result, delete=self.delete)
        self.stats.outcomes[result.status] += 1
        log.info("station file taken in", extra={"file": str(taken.original), "station": taken.station,
                                                 "status": result.status})
        if self.on_result is not None:
            self.on_result(taken, result)

    def _heartbeat(self) -> None:
        """Touch the claims in progress so other watchers see their lease is alive."""
        now = time.time()
        if now - self._last_touch < self.lease_seconds / 5:
            return
        self._last_touch = now
        with self._lock:
            claims = list(self.in_flight.values())
        for taken in claims:
            with contextlib.suppress(OSError):
                os.utime(taken.token_dir)

    # running
    @property
    def busy(self) -> int:
        return len(self._futures)

    def idle(self) -> bool:
        return not self.pending and not self._futures

    def drain(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._futures:
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def run_once(self, *, poll: float = 0.25, timeout: float | None = None) -> WatchStats:
        """Take in what is in the folder now, then return (`saraban watch --once`)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self.sweep()
        while not self.idle():
            if deadline is not None and time.monotonic() > deadline:
                break
            self.tick()
            time.sleep(poll)
        self.drain(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return self.stats

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def snapshot(self) -> dict:
        """For `saraban status`: what this watcher sees right now."""
        return {"folder": str(self.folder), "host": HOST, "pid": os.getpid(), "waiting": len(self.pending),
                "in_progress": len(self.in_flight), "outcomes": dict(self.stats.outcomes),
                "claimed": self.stats.claimed, "recovered": self.stats.recovered}
