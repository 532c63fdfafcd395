"""Prefect: the watched folder of the scanning stations (the logic is saraban/stations.py).

File events come from watchfiles: inotify on a local disk, polling on a network share (NFS, SMB,
where inotify sees nothing of other machines' writes), and a full rescan every `rescan_seconds`
catches whatever events were missed. Each file is taken in on a thread pool, holding one slot of
the machine's OCR limit, so a watcher and a backfill on one machine never oversubscribe it.

The deployment (`deploy_watch`) runs the flow in shifts: each run watches for `minutes` and ends,
and the deployment's schedule starts the next, so a crashed watcher is back at the next shift and
no flow run grows without end. Two runs watching one folder at once are harmless (claims are atomic).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import watchfiles
from prefect import flow, get_run_logger

from flows.limits import ocr_slot
from saraban.app import App, current_app
from saraban.stations import Watcher, WatchStats
from saraban.status import clear_state, write_state

log = logging.getLogger("saraban.flows.watch")
ROOT = Path(__file__).resolve().parents[1]
CORES = os.cpu_count() or 1
TICK_MS = 250
STATE_EVERY = 5.0
NETWORK_FILESYSTEMS = ("nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "davfs", "fuse.rclone",
                       "ceph", "glusterfs", "afs")


def on_network_share(folder: Path, mounts: str | None = None) -> bool:
    """Whether `folder` is on a network filesystem (from /proc/mounts: the longest mount point above it)."""
    if mounts is None:
        try:
            mounts = Path("/proc/mounts").read_text()
        except OSError:
            return False
    target = str(folder.resolve())
    best, fstype = "", ""
    for line in mounts.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        point = parts[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, fstype = point, parts[2]
    return fstype in NETWORK_FILESYSTEMS


def follow(watcher: Watcher, *, stop: threading.Event, polling: bool | None = None,
           rescan_seconds: float | None = None, seconds: float | None = None,
           on_tick: Callable[[Watcher], None] | None = None) -> WatchStats:
    """Watch until `stop` is set (or `seconds` have passed): events → candidates → stable → claimed."""
    rescan = watcher.app.settings.rescan_seconds if rescan_seconds is None else rescan_seconds
    force_polling = on_network_share(watcher.folder) if polling is None else polling
    deadline = None if seconds is None else time.monotonic() + seconds
    watcher.sweep()
    last_sweep = time.monotonic()
    while not stop.is_set():
        try:
            events = watchfiles.watch(watcher.folder, watch_filter=None, force_polling=force_polling,
                                      poll_delay_ms=500, rust_timeout=TICK_MS, yield_on_timeout=True,
                                      stop_event=stop, ignore_permission_denied=True, raise_interrupt=False)
            for changes in events:
                watcher.notice(Path(path) for _change, path in changes)
                if time.monotonic() - last_sweep >= rescan:
                    watcher.sweep()
                    last_sweep = time.monotonic()
                watcher.tick()
                if on_tick is not None:
                    on_tick(watcher)
                if deadline is not None and time.monotonic() >= deadline:
                    stop.set()
            break  # stopped, or interrupted (Ctrl-C)
        except Exception:  # the folder vanished for a moment, a share dropped: keep watching
            log.exception("watching interrupted; resuming",
                          extra={"file": str(watcher.folder), "stage": "watch"})
            stop.wait(1.0)
            with contextlib.suppress(Exception):
                watcher.sweep()
    watcher.drain()
    return watcher.stats


class _StateWriter:
    def __init__(self, app: App, key: str) -> None:
        self.app, self.key, self.last = app, key, 0.0

    def __call__(self, watcher: Watcher, *, force: bool = False, **extra: Any) -> None:
        if force or time.monotonic() - self.last >= STATE_EVERY:
            self.last = time.monotonic()
            with contextlib.suppress(OSError):
                write_state(self.app, "watch", self.key, {**watcher.snapshot(), **extra})


@flow(name="watch-folder", persist_result=False, log_prints=False)
def watch_folder(folder: str, stable_seconds: float | None = None, workers: int | None = None,
                 minutes: float | None = None, once: bool = False, polling: bool | None = None,
                 limit_ocr: bool = True) -> dict[str, Any]:
    """Take in what stations drop into `folder`: for `minutes` or until stopped (`once`: what is there)."""
    logger = get_run_logger()
    app = current_app()
    watcher = Watcher(app, Path(folder), stable_seconds=stable_seconds, workers=workers or CORES,
                      slot=ocr_slot if limit_ocr else contextlib.nullcontext)
    state = _StateWriter(app, f"{os.getpid()}-{watcher.owner}")
    logger.info("watching %s (stable after %ss, %d workers)", watcher.folder, watcher.stable_seconds,
                workers or CORES)
    try:
        if once:
            stats = watcher.run_once()
        else:
            stop = threading.Event()
            seconds = None if minutes is None else minutes * 60
            stats = follow(watcher, stop=stop, polling=polling, seconds=seconds, on_tick=state)
    finally:
        watcher.close()
        clear_state(app, "watch", state.key)
    result = {"folder": str(watcher.folder), **dict(stats.outcomes), "claimed": stats.claimed,
              "recovered": stats.recovered, "lost_races": stats.lost_races}
    logger.info("watch of %s ended: %s", watcher.folder, result)
    return result


def deploy_watch(folder: str, pool: str = "saraban", name: str | None = None, minutes: float = 60.0) -> str:
    """A deployment that watches `folder` in shifts of `minutes`, for the process workers of `pool`."""
    deployment = cast(Any, watch_folder.from_source(source=str(ROOT),
                                                    entrypoint="flows/watch.py:watch_folder"))
    return str(deployment.deploy(
        name=name or "station-" + "".join(c if c.isalnum() else "-" for c in Path(folder).name),
        work_pool_name=pool, parameters={"folder": str(Path(folder).resolve()), "minutes": minutes},
        interval=minutes * 60, build=False, push=False, print_next_steps=False))
