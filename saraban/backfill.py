"""The backfill of a paper archive, as plain logic (flows/backfill.py runs it on Prefect).

A backfill is a *batch*: every file it takes in is recorded in intake_files with the batch id, in
the same transaction as its letter. Resuming after a crash (even `kill -9`) is therefore a query:
files of the batch already recorded are skipped, the rest are taken in, nothing is done twice.
Bytes already stored by anyone are not read again (the intake records them as duplicates).
"""

from __future__ import annotations

import csv
import hashlib
import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from sqlalchemy import func, select

from pipeline import errors
from pipeline.document import SUPPORTED_SUFFIXES
from pipeline.models import FLAG_REASONS
from saraban.app import App
from saraban.stations import ignored, safe_process
from storage.tables import IntakeFileRow, LetterRow

log = logging.getLogger("saraban.backfill")

OUTCOMES = ("routed", "needs_review", "duplicate", "failed")
T = TypeVar("T")


def find_scans(paths: Iterable[Path]) -> list[Path]:
    """Every scan under `paths` (files as given, folders walked), absolute and sorted: a stable order."""
    found: set[Path] = set()
    for raw in paths:
        path = Path(raw).resolve()
        if path.is_dir():
            found.update(p for p in path.rglob("*") if p.suffix.lower() in SUPPORTED_SUFFIXES
                         and not any(ignored(part) for part in p.relative_to(path).parts) and p.is_file())
        elif path.is_file():
            found.add(path)
    return sorted(found)


def batch_id(paths: Iterable[Path]) -> str:
    """The same folders give the same batch, so running the same backfill again resumes it.

    >>> batch_id([Path("/archive/2558")]) == batch_id([Path("/archive/2558/")])
    True
    """
    key = "\n".join(sorted(str(Path(p).resolve()) for p in paths))
    return "backfill-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def recorded_paths(app: App, batch: str, paths: Sequence[Path] | None = None) -> set[str]:
    """Paths of the batch already recorded (all of them, or those among `paths`)."""
    query = select(IntakeFileRow.path).where(IntakeFileRow.batch == batch)
    with app.db.session() as session:
        if paths is None:
            return set(session.scalars(query))
        found: set[str] = set()
        for part in chunked([str(p) for p in paths], 500):
            found.update(session.scalars(query.where(IntakeFileRow.path.in_(part))))
        return found


def recorded_count(app: App, batch: str) -> int:
    with app.db.session() as session:
        query = select(func.count()).select_from(IntakeFileRow).where(IntakeFileRow.batch == batch)
        return session.scalar(query) or 0


def pending(app: App, batch: str, files: Sequence[Path]) -> list[Path]:
    done = recorded_paths(app, batch)
    return [f for f in files if str(f) not in done]


def chunked(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), max(1, size)):
        yield list(items[start:start + size])


def intake_chunk(app: App, paths: Sequence[Path], station: str, batch: str) -> Counter[str]:
    """Take in a few files one after another (one Tesseract at a time); skip those already recorded."""
    counts: Counter[str] = Counter()
    done = recorded_paths(app, batch, paths)
    for path in paths:
        if str(path) in done:
            counts["skipped"] += 1
            continue
        result = safe_process(app, Path(path), station, batch=batch)
        counts[result.status] += 1
    return counts


@dataclass
class BackfillSummary:
    batch: str
    files: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    reasons: dict[str, Counter[str]] = field(default_factory=dict)  # outcome → reason code → files

    def as_dict(self) -> dict:
        return {"batch": self.batch, "files": self.files, **{o: self.outcomes.get(o, 0) for o in OUTCOMES},
                "by_reason": {o: dict(c.most_common()) for o, c in self.reasons.items()}}


REPORT_COLUMNS = ["file", "station", "outcome", "letter_id", "number", "flags", "reason_code", "reason",
                  "detail", "sha256", "recorded_at"]


def report(app: App, batch: str, csv_path: Path | None = None) -> BackfillSummary:
    """The batch's outcomes from the database, streamed to a CSV (one row per file) when asked.

    Reasons: a failure's code (`corrupt_file`…), a review's flags (`low_confidence`…), `duplicate_file`.
    """
    summary = BackfillSummary(batch)
    query = (select(IntakeFileRow, LetterRow.number, LetterRow.flags)
             .outerjoin(LetterRow, LetterRow.id == IntakeFileRow.letter_id)
             .where(IntakeFileRow.batch == batch).order_by(IntakeFileRow.id))
    writer = None
    handle = None
    if csv_path is not None:
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        handle = csv_path.open("w", newline="", encoding="utf-8-sig")  # BOM: Excel opens Thai correctly
        writer = csv.writer(handle)
        writer.writerow(REPORT_COLUMNS)
    try:
        with app.db.session() as session:
            for row, number, flags in session.execute(query.execution_options(yield_per=1000)):
                summary.files += 1
                summary.outcomes[row.outcome] += 1
                reasons = _reasons(row, flags or [])
                summary.reasons.setdefault(row.outcome, Counter()).update(reasons)
                if writer is not None:
                    writer.writerow([row.path, row.station, row.outcome, row.letter_id, number or "",
                                     " ".join(flags or []), row.reason_code or "", row.reason or "",
                                     row.detail or "", row.sha256 or "", row.created_at.isoformat()])
    finally:
        if handle is not None:
            handle.close()
    return summary


def _reasons(row: IntakeFileRow, flags: list[str]) -> list[str]:
    if row.outcome == "failed":
        return [row.reason_code or "unknown"]
    if row.outcome == "duplicate":
        return [row.reason_code or "duplicate"]
    if row.outcome == "needs_review":
        return list(flags) or ["review"]
    return []


def reason_label(code: str) -> str:
    """Thai words for a reason code: a failure's reason, a review flag's, or the code itself."""
    for error in vars(errors).values():
        if isinstance(error, type) and issubclass(error, errors.IntakeError) and error.code == code:
            return error.reason
    for flag, text in FLAG_REASONS.items():
        if flag.value == code:
            return text
    return {"duplicate_file": "แฟ้มเดียวกันนำเข้าไว้แล้ว", "internal_error": "เกิดข้อผิดพลาดภายในระบบ",
            "review": "รอตรวจทาน"}.get(code, code)
