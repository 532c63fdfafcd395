"""Prefect: the intake of one letter (a task per stage) and `ingest` over files and folders.

Business logic lives in saraban/intake.py; here each step becomes a task so that Prefect
records, retries (storage with backoff) and shows it.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pipeline.document import SUPPORTED_SUFFIXES
from pipeline.errors import IntakeError
from pipeline.models import Letter
from pipeline.validate import Validation
from saraban import intake
from saraban.app import current_app
from storage.archive import ArchivedKeys

STORE_RETRIES = 5


@task(name="fingerprint", cache_policy=NO_CACHE)
def fingerprint_task(path: str, station: str) -> intake.Fingerprint:
    return intake.fingerprint(Path(path), station)


@task(name="known-bytes", cache_policy=NO_CACHE)
def known_bytes_task(fp: intake.Fingerprint, batch: str | None) -> intake.IntakeResult | None:
    return intake.known_bytes(current_app(), fp, batch=batch)


@task(name="read", cache_policy=NO_CACHE)
def read_task(fp: intake.Fingerprint) -> Letter:
    return intake.read(fp, intake.hints(current_app()))


@task(name="check-register", cache_policy=NO_CACHE)
def check_task(letter: Letter) -> Validation:
    return intake.check(current_app(), letter)


@task(name="archive", retries=STORE_RETRIES, retry_delay_seconds=[1, 2, 5, 10, 30], cache_policy=NO_CACHE)
def archive_task(fp: intake.Fingerprint, letter: Letter) -> ArchivedKeys:
    return intake.archive(current_app(), fp, letter)


@task(name="record", retries=3, retry_delay_seconds=[1, 3, 10], cache_policy=NO_CACHE)
def record_task(fp: intake.Fingerprint, letter: Letter, validation: Validation, keys: ArchivedKeys,
                batch: str | None) -> intake.IntakeResult:
    return intake.record(current_app(), fp, letter, validation, keys, batch=batch)


@flow(name="process-letter", log_prints=False)
def process_letter(path: str, station: str | None = None, batch: str | None = None) -> dict:
    """One file through intake. Returns the `saraban ingest --json` line for it."""
    app = current_app()
    station = station or app.settings.station
    try:
        fp = fingerprint_task(path, station)
        duplicate = known_bytes_task(fp, batch)
        if duplicate is not None:
            return duplicate.to_json()
        letter = read_task(fp)
        validation = check_task(letter)
        keys = archive_task(fp, letter)
        return record_task(fp, letter, validation, keys, batch).to_json()
    except (IntakeError, OSError) as exc:
        return intake.fail(app, Path(path), station, exc, batch=batch).to_json()


def scan_files(paths: list[str]) -> list[str]:
    """Files to ingest: files as given, folders walked for scans (sorted, reproducible)."""
    found: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(str(p) for p in sorted(path.rglob("*")) if p.is_file()
                         and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith("."))
        else:
            found.append(str(path))
    return found


@flow(name="ingest", log_prints=False)
def ingest(paths: list[str], station: str | None = None) -> list[dict]:
    """Every file under `paths` through `process_letter`, in order."""
    return [process_letter(path, station) for path in scan_files(paths)]
