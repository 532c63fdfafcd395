"""Prefect global concurrency limits: OCR never runs more Tesseracts on a machine than it has cores.

Every flow that reads letters (watch, backfill, on any worker or Dask process) takes a slot of the
limit `ocr-<host>` for each file or chunk it reads one after another. The limit is created with
one slot per core the first time a machine uses it; an operator may change it
(`prefect gcl update ocr-<host> --limit N`) and it is never overwritten.

Slots are leases. A `prefect server start` revokes the lease of a process killed while holding a
slot once it runs out (LEASE_SECONDS); a temporary server (and the test harness) runs no such
service, and the slot would stay taken for good. So each process also notes, in a small file per
pid under the system temp folder, how many slots of this machine it holds or is asking for: since
only this machine's processes use `ocr-<host>`, slots beyond what live processes note belong to
dead ones and are given back (`heal`), once per process at first use and whenever a wait is long.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, GlobalConcurrencyLimitUpdate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectNotFound
from prefect.settings import get_current_settings

from saraban.stations import HOST

log = logging.getLogger("saraban.flows.limits")

LEASE_SECONDS = 60.0  # the shortest Prefect allows; renewed every 45 s while the slot is held
HEAL_AFTER = 150.0  # a wait this long: check for slots held by processes that are gone
HOLDERS = Path(tempfile.gettempdir()) / "saraban-ocr"


def ocr_limit_name(host: str = HOST) -> str:
    return "ocr-" + "".join(c if c.isalnum() or c in "-_." else "-" for c in host)


def _server_key() -> str:
    settings = get_current_settings()
    server = str(settings.api.url or f"temporary:{settings.home}")
    return hashlib.sha1(server.encode()).hexdigest()[:12]


def ensure_ocr_limit(slots: int | None = None) -> str:
    """This machine's OCR limit, created with one slot per core if it does not exist yet."""
    return _ensure(ocr_limit_name(), _server_key(), slots or os.cpu_count() or 1)


_ensuring = threading.Lock()


@cache
def _ensure(name: str, server: str, slots: int) -> str:
    with _ensuring, get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            try:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=slots))
            except Exception:  # another process created it first (a conflict, or a server error on SQLite)
                client.read_global_concurrency_limit_by_name(name)
    heal(name)
    return name


class _Holding:
    """This process's slots of one limit (held or asked for), in `<holders>/<pid>`."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[Path, int] = {}

    def change(self, folder: Path, delta: int) -> None:
        with self.lock:
            count = self.counts[folder] = self.counts.get(folder, 0) + delta
            path = folder / str(os.getpid())
            if count <= 0:
                path.unlink(missing_ok=True)
                return
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".{os.getpid()}.tmp"
            tmp.write_text(str(count))
            os.replace(tmp, path)


_holding = _Holding()


def _holders(name: str) -> Path:
    return HOLDERS / _server_key() / name


def live_holdings(folder: Path) -> int:
    """Slots noted by processes of this machine that are still alive (notes of dead ones removed)."""
    total = 0
    for path in folder.glob("[0-9]*"):
        try:
            pid, count = int(path.name), int(path.read_text() or 0)
        except (OSError, ValueError):
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            path.unlink(missing_ok=True)
            continue
        except PermissionError:
            pass
        total += count
    return total


def heal(name: str) -> None:
    """Give back slots of this machine's limit that no live process holds."""
    live = live_holdings(_holders(name))
    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(name)
        if limit.active_slots > live:
            log.warning("OCR limit %s: %d slots held by processes that are gone, given back", name,
                        limit.active_slots - live)
            client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(active_slots=live))


@contextmanager
def ocr_slot() -> Iterator[None]:
    """Hold one OCR slot of this machine while the body runs (one Tesseract at a time inside)."""
    name = ensure_ocr_limit()
    folder = _holders(name)
    _holding.change(folder, +1)  # noted before asking, so a heal elsewhere never undercounts
    try:
        while True:
            acquired = False
            try:
                with concurrency(name, occupy=1, timeout_seconds=HEAL_AFTER, lease_duration=LEASE_SECONDS,
                                 strict=False, raise_on_lease_renewal_failure=False):
                    acquired = True
                    yield
                return
            except TimeoutError:
                if acquired:
                    raise
                heal(name)
    finally:
        _holding.change(folder, -1)
