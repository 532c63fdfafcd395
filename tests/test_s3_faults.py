"""The S3 server dies in the middle of a batch run through the Prefect flow.

The archive task retries with backoff (short delays here), nothing is lost or half-written, no
object is stored twice, and the batch completes once the server is back.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

import flows.intake
import saraban.app
from saraban.app import App
from saraban.settings import Settings
from storage.directory import import_directory
from storage.register import import_register
from storage.s3 import S3Store
from storage.tables import IntakeFileRow, LetterRow
from tests.conftest import LETTERS, SAMPLES
from tests.s3_fixtures import SeaweedServer, seaweed_private  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

SCANS = ["02-single-addressee.pdf", "05-memo.tif", "10-order.pdf"]
BACKOFF = [0.5, 1, 2]  # seconds between attempts, the last repeated (production: flows.intake)


class RetryLog(logging.Handler):
    """Counts the archive task's retries as Prefect logs them."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []
        self.seen = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if str(getattr(record, "task_run_name", "")).startswith("archive") and " - Retry " in message:
            with self.seen:
                self.messages.append(message)
                self.seen.notify_all()

    def wait_for(self, count: int, timeout: float) -> bool:
        with self.seen:
            return self.seen.wait_for(lambda: len(self.messages) >= count, timeout)


@pytest.fixture
def retry_log(prefect_harness: None) -> Iterator[RetryLog]:
    # after Prefect has set up its logging (importing its flow machinery resets the loggers' handlers)
    logger = logging.getLogger("prefect.task_runs")
    handler, level = RetryLog(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def crash_and_recover(server: SeaweedServer, bucket: str, retries: RetryLog, problems: list[str]) -> None:
    """Kill the server as soon as the first PDF is archived; bring it back after two failed attempts."""
    client = server.client(timeout=1.0)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            try:
                if any(o.object_name.endswith(".pdf") for o in client.list_objects(bucket, recursive=True)):
                    break
            except Exception:  # the bucket is not made yet
                pass
            time.sleep(0.05)
        else:
            problems.append("no PDF was archived within 120 s")
            return
        server.stop(kill=True)  # a crash, not a clean shutdown
        if not retries.wait_for(2, timeout=60):
            problems.append("the archive task did not retry while the server was down")
    finally:
        server.start()


def test_server_down_mid_batch_retries_and_loses_nothing(
        seaweed_private: SeaweedServer, retry_log: RetryLog,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bucket = seaweed_private.new_bucket("faults")
    app = App.create(Settings(home=tmp_path / "home", storage=f"s3://{bucket}", secret_key="test-secret",
                              **seaweed_private.settings()))  # type: ignore[arg-type]
    with app.db.session() as session:
        import_register(session, SAMPLES / "register.csv")
        import_directory(session, SAMPLES / "directory.yaml")
    monkeypatch.setattr(saraban.app, "current_app", lambda: app)
    monkeypatch.setattr(flows.intake, "current_app", lambda: app)
    monkeypatch.setattr(flows.intake, "archive_task", flows.intake.archive_task.with_options(
        retries=20, retry_delay_seconds=BACKOFF))
    inbox = tmp_path / "in"
    inbox.mkdir()
    for name in SCANS:
        shutil.copy(LETTERS / name, inbox / name)
    before = {name: (inbox / name).read_bytes() for name in SCANS}

    problems: list[str] = []
    monitor = threading.Thread(target=crash_and_recover, args=(seaweed_private, bucket, retry_log, problems),
                               daemon=True)
    monitor.start()
    results = flows.intake.ingest([str(inbox)])
    monitor.join(timeout=120)

    assert not problems, problems
    assert len(retry_log.messages) >= 2, retry_log.messages
    # the batch completed: every scan taken in, none failed
    assert [Path(r["file"]).name for r in results] == SCANS
    assert all(r["status"] in ("routed", "needs_review") and r["object_key"] for r in results), results
    for name in SCANS:
        assert (inbox / name).read_bytes() == before[name]  # the sources are untouched

    store = app.store
    assert isinstance(store, S3Store)
    with app.db.session() as session:
        rows = session.scalars(select(LetterRow)).all()
        files = session.scalars(select(IntakeFileRow)).all()
        assert sorted(f.outcome for f in files if f.outcome == "failed") == []
        assert len(rows) == len(SCANS) == len(files)
        expected: set[str] = set()
        for row in rows:
            original = before[Path(row.file_name).name]
            assert row.sha256 == hashlib.sha256(original).hexdigest()
            # nothing lost, nothing half-written: every object whole and verified
            assert row.object_key is not None
            assert store.get(row.original_key or row.object_key) == original
            for key in (row.object_key, row.original_key, row.header_key, row.ocr_key):
                if key:
                    stat = store.stat(key)
                    assert stat is not None and stat.sha256 == hashlib.sha256(store.get(key)).hexdigest(), key
                    expected.add(key)
    # nothing else in the bucket, and no object written twice by a retry
    assert set(store.keys()) == expected
    client = seaweed_private.client()
    versions = sorted(o.object_name for o in client.list_objects(bucket, recursive=True,
                                                                 include_version=True))
    assert versions == sorted(expected)
