"""`saraban status`: letters stored, queue depth, in progress, failures and throughput.

Watchers and backfills leave a small state file in `<home>/running/` (rewritten every few seconds);
the counts that matter come from the database (intake_files) and the watched folders themselves.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from saraban.app import App
from saraban.stations import HOST, PROCESSING, waiting_files
from storage.tables import IntakeFileRow, LetterRow, utcnow

STALE_SECONDS = 120.0  # a state file not rewritten for this long belongs to a process that is gone


def running_dir(app: App) -> Path:
    return app.settings.resolved_home / "running"


def write_state(app: App, kind: str, key: str, data: dict[str, Any]) -> Path:
    """Record what a running watcher or backfill is doing (atomically replaced)."""
    folder = running_dir(app)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{kind}-{key}.json"
    tmp = folder / f".{path.name}.{uuid.uuid4().hex}.tmp"
    payload = {"kind": kind, "host": HOST, "pid": os.getpid(), "updated": time.time(), **data}
    tmp.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    return path


def clear_state(app: App, kind: str, key: str) -> None:
    (running_dir(app) / f"{kind}-{key}.json").unlink(missing_ok=True)


def read_states(app: App, kind: str) -> list[dict[str, Any]]:
    """The state files of `kind` whose process still runs (same host: pid alive; else fresh enough)."""
    states = []
    for path in sorted(running_dir(app).glob(f"{kind}-*.json")):
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        state["alive"] = _alive(state)
        states.append(state)
    return states


def _alive(state: dict[str, Any]) -> bool:
    if state.get("finished"):
        return False
    if state.get("host") == HOST:
        try:
            os.kill(int(state["pid"]), 0)
        except (ProcessLookupError, ValueError, KeyError):
            return False
        except PermissionError:
            return True
        return True
    return time.time() - float(state.get("updated", 0)) < STALE_SECONDS


def folder_counts(folder: Path) -> dict[str, Any]:
    """Files waiting in a watched folder and files claimed in its processing area, counted on disk."""
    waiting = sum(1 for _ in waiting_files(folder))
    area = folder / PROCESSING
    processing = sum(1 for p in area.rglob("*") if p.is_file()) if area.is_dir() else 0
    failed_area = folder / "failed"
    failed = sum(1 for p in failed_area.rglob("*") if p.is_file() and not p.name.endswith(".error.json")) \
        if failed_area.is_dir() else 0
    return {"folder": str(folder), "waiting": waiting, "processing": processing, "failed_files": failed}


def status(app: App, folders: list[Path] | None = None, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything `saraban status --json` prints (keys documented in README)."""
    now = now or utcnow()
    with app.db.session() as session:
        letters = session.scalar(select(func.count()).select_from(LetterRow)) or 0
        by_status = dict(session.execute(
            select(LetterRow.status, func.count()).group_by(LetterRow.status)).tuples().all())
        failed_24h = session.scalar(select(func.count()).select_from(IntakeFileRow).where(
            IntakeFileRow.outcome == "failed", IntakeFileRow.created_at >= now - dt.timedelta(hours=24))) or 0
        last_hour = dict(session.execute(
            select(IntakeFileRow.outcome, func.count())
            .where(IntakeFileRow.created_at >= now - dt.timedelta(hours=1))
            .group_by(IntakeFileRow.outcome)).tuples().all())
        watchers = [s for s in read_states(app, "watch") if s["alive"]]
        backfills = [s for s in read_states(app, "backfill") if s["alive"]]
        for state in backfills:
            done = session.scalar(select(func.count()).select_from(IntakeFileRow).where(
                IntakeFileRow.batch == state["batch"])) or 0
            state["done"] = done
            state["remaining"] = max(0, int(state.get("files", 0)) - done)
    watched = {Path(s["folder"]) for s in watchers} | {Path(f).resolve() for f in folders or []}
    folder_rows = [folder_counts(f) for f in sorted(watched)]
    backfill_queue = sum(s["remaining"] for s in backfills)
    backfill_running = sum(min(int(s.get("workers", 1)), s["remaining"]) for s in backfills)
    throughput = sum(last_hour.values())
    return {
        "letters": letters,
        "queue_depth": sum(f["waiting"] for f in folder_rows) + backfill_queue,
        "in_progress": sum(f["processing"] for f in folder_rows) + backfill_running,
        "failed_24h": failed_24h,
        "throughput_last_hour": throughput,
        "per_minute_last_hour": round(throughput / 60, 2),
        "outcomes_last_hour": last_hour,
        "letters_by_status": by_status,
        "folders": folder_rows,
        "watchers": [{k: s.get(k) for k in ("folder", "host", "pid", "waiting", "in_progress", "outcomes")}
                     for s in watchers],
        "backfills": [{k: s.get(k) for k in ("batch", "host", "pid", "files", "done", "remaining", "workers",
                                             "engine")} for s in backfills],
        "at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }
