"""The backfill: every file once, skipping what is stored, resumable after kill -9, with a report.

The plain steps (saraban/backfill.py) are tested directly; the Prefect flow runs in a real
`saraban backfill` process against the test Prefect server, is killed with SIGKILL mid-way and
run again; the Dask engine runs once on a LocalCluster of 2 workers.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.errors import CorruptFileError
from saraban import backfill
from storage.tables import IntakeFileRow
from tests.conftest import LETTERS, ROOT
from tests.stations_fixtures import distinct_copy, letter_count, make_scans, sha256, station_app, wait_for

__all__ = ["station_app"]

pytestmark = pytest.mark.timeout(300)


def batch_rows(app, batch: str) -> list[IntakeFileRow]:
    with app.db.session() as session:
        return list(session.scalars(select(IntakeFileRow).where(IntakeFileRow.batch == batch)
                                    .order_by(IntakeFileRow.id)))


def test_find_scans_walks_folders_in_a_stable_order(tmp_path: Path) -> None:
    make_scans(tmp_path / "b", 2)
    make_scans(tmp_path / "a" / "deep", 2)
    for junk in ("~$draft.pdf", ".hidden.pdf", "notes.txt", "scan.pdf.part", "Thumbs.db"):
        (tmp_path / "a" / junk).write_bytes(b"x")
    (tmp_path / ".trash").mkdir()
    (tmp_path / ".trash" / "old.pdf").write_bytes(b"x")
    found = backfill.find_scans([tmp_path / "b", tmp_path])  # overlapping paths: each file once
    assert [str(p.relative_to(tmp_path)) for p in found] == [
        "a/deep/scan-0000.jpg", "a/deep/scan-0001.pdf", "b/scan-0000.jpg", "b/scan-0001.pdf"]
    assert backfill.batch_id([tmp_path]) == backfill.batch_id([Path(str(tmp_path) + "/")])
    assert backfill.batch_id([tmp_path]) != backfill.batch_id([tmp_path / "a"])


def test_chunks_skip_what_the_batch_recorded_and_bytes_already_stored(loaded_app, tmp_path: Path) -> None:
    """On SQLite and PostgreSQL."""
    station_app = loaded_app
    scans = make_scans(tmp_path / "archive", 3)
    again = distinct_copy(LETTERS / "06-arabic-digits.jpg", tmp_path / "archive" / "copy-of-0.jpg", "scan-0")
    assert sha256(again) == sha256(scans[0])  # the same bytes under another name
    files = backfill.find_scans([tmp_path / "archive"])
    first = backfill.intake_chunk(station_app, files, "archive", "b1")
    second = backfill.intake_chunk(station_app, files, "archive", "b1")
    assert second == {"skipped": 4}
    assert first["duplicate"] >= 1 and sum(first.values()) == 4
    rows = batch_rows(station_app, "b1")
    assert len(rows) == 4 and len({r.path for r in rows}) == 4
    twins = {str(again.resolve()), str(scans[0].resolve())}
    assert sorted(str(r.reason_code) for r in rows if r.path in twins) == ["None", "duplicate_file"]
    assert letter_count(station_app) == 3
    assert backfill.pending(station_app, "b1", files) == []


def test_report_csv_and_summary_by_outcome_and_reason(station_app, tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    make_scans(folder, 3, names=["06-arabic-digits.jpg", "10-order.pdf", "12-bilevel-fax.tif"])
    (folder / "torn.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(500) + b"\n%%EOF\n")
    distinct_copy(LETTERS / "10-order.pdf", folder / "same-order.pdf", "scan-1")  # bytes of scan-0001
    files = backfill.find_scans([folder])
    backfill.intake_chunk(station_app, files, "archive", "b2")
    summary = backfill.report(station_app, "b2", tmp_path / "report.csv")
    data = summary.as_dict()
    assert data["files"] == 5
    assert data["failed"] == 1 and data["by_reason"]["failed"] == {"corrupt_file": 1}
    assert data["by_reason"]["duplicate"]["duplicate_file"] == 1
    assert data["routed"] + data["needs_review"] + data["duplicate"] + data["failed"] == 5
    assert data["by_reason"]["needs_review"].get("not_letter") == 1  # the order (คำสั่ง) is not a letter
    with (tmp_path / "report.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 5 and set(rows[0]) == set(backfill.REPORT_COLUMNS)
    torn = next(r for r in rows if r["file"].endswith("torn.pdf"))
    assert torn["outcome"] == "failed" and torn["reason"] == CorruptFileError.reason and torn["detail"]
    assert backfill.reason_label("corrupt_file") == CorruptFileError.reason
    assert backfill.reason_label("not_letter").startswith("ไม่ใช่หนังสือราชการ")


def _backfill_command(folder: Path, report: Path) -> list[str]:
    return [str(Path(sys.executable).parent / "saraban"), "backfill", str(folder), "--workers", "2",
            "--chunk-size", "2", "--json", "--report", str(report)]


@pytest.mark.e2e
def test_a_backfill_killed_midway_and_restarted_takes_every_file_exactly_once(station_app, tmp_path: Path,
                                                                            prefect_harness) -> None:
    from prefect.settings import PREFECT_API_URL

    folder = tmp_path / "archive"
    scans = make_scans(folder / "2558", 8) + make_scans(folder / "2559", 6, prefix="late")
    expected = {str(p.resolve()): sha256(p) for p in scans}
    batch = backfill.batch_id([folder])
    env = {**os.environ, "SARABAN_HOME": str(station_app.settings.resolved_home),
           "PREFECT_API_URL": str(PREFECT_API_URL.value()), "OMP_THREAD_LIMIT": "1"}

    first = subprocess.Popen(_backfill_command(folder, tmp_path / "first.csv"), env=env, cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        assert wait_for(lambda: len(batch_rows(station_app, batch)) >= 3 or first.poll() is not None, 200)
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the process and its Tesseracts, mid-letter
        first.wait(30)
    before = {r.path: r.id for r in batch_rows(station_app, batch)}
    assert 3 <= len(before) < len(scans), f"not killed mid-way: {len(before)} of {len(scans)} done"

    started = time.monotonic()
    second = subprocess.run(_backfill_command(folder, tmp_path / "second.csv"), env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=280)
    assert second.returncode == 0, second.stderr[-3000:]
    summary = json.loads(second.stdout.strip().splitlines()[-1])

    rows = batch_rows(station_app, batch)
    assert sorted(r.path for r in rows) == sorted(expected)  # every file, each exactly once
    assert {r.path: r.sha256 for r in rows} == expected
    assert all(before[path] == rid for path, rid in ((r.path, r.id) for r in rows) if path in before)
    assert all(r.reason_code != "duplicate_file" for r in rows)
    assert letter_count(station_app) == len(scans)
    assert summary["files"] == len(scans) and summary["taken_this_run"] == len(scans) - len(before)
    assert summary["failed"] == 0
    with (tmp_path / "second.csv").open(encoding="utf-8-sig") as fh:
        assert len(list(csv.DictReader(fh))) == len(scans)
    assert time.monotonic() - started < 280


@pytest.mark.e2e
def test_backfill_on_a_dask_local_cluster(station_app, tmp_path: Path, prefect_harness, monkeypatch) -> None:
    from flows import backfill as backfill_flows
    from saraban.app import current_app
    from saraban.settings import get_settings

    # The Dask workers are other processes: they find the app from the environment, as in production.
    monkeypatch.setenv("SARABAN_HOME", str(station_app.settings.resolved_home))
    current_app.cache_clear()
    get_settings.cache_clear()
    folder = tmp_path / "archive"
    scans = make_scans(folder, 4)
    try:
        result = backfill_flows.backfill_flow([str(folder)], station="archive", workers=2, engine="dask",
                                              chunk_size=1, part_size=2)  # two child flows on one cluster
    finally:
        current_app().db.dispose()
        current_app.cache_clear()
        get_settings.cache_clear()
    assert result["files"] == 4 and result["failed"] == 0
    rows = batch_rows(station_app, result["batch"])
    assert sorted(r.path for r in rows) == sorted(str(p.resolve()) for p in scans)
    assert {r.station for r in rows} == {"archive"}
