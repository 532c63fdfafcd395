"""The watched folder: stable files only, atomic claims, done/ and failed/, crash safety, status.

Real files, real watchfiles events, the real intake (`process_file`) on a SQLite database; the
Prefect flow itself is tested once at the end (watch_folder --once through the test server).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from flows.watch import follow, on_network_share
from pipeline.errors import CorruptFileError
from saraban import stations
from saraban.stations import Watcher, ignored, opens_cleanly
from tests.conftest import LETTERS, ROOT
from tests.stations_fixtures import (
    distinct_copy,
    intake_rows,
    letter_count,
    make_scans,
    sha256,
    station_app,
    wait_for,
    write_slowly,
)

__all__ = ["station_app"]  # the fixture, imported for pytest

pytestmark = pytest.mark.timeout(240)


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


class Running:
    """A watcher following its folder in a thread (real watchfiles events), stopped on exit."""

    def __init__(self, watcher: Watcher, *, polling: bool = False) -> None:
        self.watcher = watcher
        self.stop = threading.Event()
        self.thread = threading.Thread(target=follow, args=(watcher,),
                                       kwargs={"stop": self.stop, "polling": polling, "rescan_seconds": 2.0},
                                       daemon=True)

    def __enter__(self) -> Watcher:
        self.thread.start()
        return self.watcher

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(60)
        self.watcher.close()


def test_temporary_and_system_names_are_ignored() -> None:
    for name in ("scan.pdf.tmp", "scan.PART", "~$scan.pdf", "Thumbs.db", ".scan.pdf", "desktop.ini",
                 "scan.pdf.error.json", "scan.pdf.crdownload"):
        assert ignored(name), name
    for name in ("scan.pdf", "หนังสือ ๑.tif", "a.jpeg", "Thumbs.pdf"):
        assert not ignored(name), name


def test_opens_cleanly_needs_the_end_marker(tmp_path: Path) -> None:
    data = (LETTERS / "02-single-addressee.pdf").read_bytes()
    partial = tmp_path / "partial.pdf"
    partial.write_bytes(data[: len(data) // 2])
    whole = distinct_copy(LETTERS / "02-single-addressee.pdf", tmp_path / "whole.pdf", 1)
    jpeg = tmp_path / "half.jpg"
    jpeg.write_bytes((LETTERS / "06-arabic-digits.jpg").read_bytes()[:50_000])
    assert not opens_cleanly(partial)
    assert opens_cleanly(whole)
    assert not opens_cleanly(jpeg)
    assert opens_cleanly(LETTERS / "12-bilevel-fax.tif")  # TIFF: no end marker, left to the intake


def test_network_shares_are_polled() -> None:
    mounts = ("/dev/sda1 / ext4 rw 0 0\n"
              "//nas/scans /mnt/scans cifs rw 0 0\n"
              "server:/export /srv/archive nfs4 rw 0 0\n")
    assert on_network_share(Path("/mnt/scans/station-1"), mounts)
    assert on_network_share(Path("/srv/archive"), mounts)
    assert not on_network_share(Path("/home/clerk/scans"), mounts)
    assert not on_network_share(Path("/mnt/scansx"), mounts)


def test_a_file_written_slowly_is_not_taken_before_it_is_complete(station_app, tmp_path: Path) -> None:
    """Pieces arrive with pauses shorter than the stability delay (size/mtime keep changing), and once
    with a pause longer than it (then only the missing PDF end marker holds the file back)."""
    folder = tmp_path / "watched"
    (folder / "front-desk").mkdir(parents=True)
    pdf_data = distinct_copy(LETTERS / "02-single-addressee.pdf", tmp_path / "src.pdf", 1).read_bytes()
    tif_data = distinct_copy(LETTERS / "12-bilevel-fax.tif", tmp_path / "src.tif", 2).read_bytes()
    claimed_at: dict[str, float] = {}

    def noting(app, path: Path, station: str):
        claimed_at[path.name] = time.monotonic()  # the moment the intake starts on the claimed file
        return stations.plain_process(app, path, station)

    watcher = Watcher(station_app, folder, stable_seconds=0.8, workers=2, process=noting)
    with Running(watcher):
        tif_done: dict[str, float] = {}
        tif_writer = threading.Thread(target=lambda: tif_done.setdefault(
            "at", write_slowly(folder / "front-desk" / "fax.tif", tif_data, [0.3] * 6)))
        tif_writer.start()
        pdf_done = write_slowly(folder / "front-desk" / "letter.pdf", pdf_data, [0.3, 0.3, 2.0, 0.3, 0.3])
        tif_writer.join()
        assert wait_for(lambda: len(files_under(folder / "done")) == 2, 90), claimed_at

    rows = {Path(r.path).name: r for r in intake_rows(station_app)}
    assert rows["letter.pdf"].sha256 == sha256(tmp_path / "src.pdf")
    assert rows["letter.pdf"].size_bytes == len(pdf_data)
    assert rows["fax.tif"].sha256 == sha256(tmp_path / "src.tif")
    assert {r.outcome for r in rows.values()} <= {"routed", "needs_review"}
    assert claimed_at["letter.pdf"] >= pdf_done + 0.8  # taken only after the last piece, then the delay
    assert claimed_at["fax.tif"] >= tif_done["at"] + 0.8
    assert len(intake_rows(station_app)) == 2


@pytest.mark.slow
@pytest.mark.timeout(600)  # 50 letters read: about 40 s on a quiet 2-core machine, minutes on a busy one
def test_two_watchers_on_one_folder_take_fifty_files_exactly_once(station_app, tmp_path: Path) -> None:
    folder = tmp_path / "watched"
    staging = tmp_path / "staging"
    originals = make_scans(staging, 50)
    expected = {p.name: sha256(p) for p in originals}
    first = Watcher(station_app, folder, stable_seconds=0.3, workers=1)
    second = Watcher(station_app, folder, stable_seconds=0.3, workers=1)
    with Running(first), Running(second, polling=True):
        for i, path in enumerate(originals):  # stations drop files while both watchers run
            target = folder / f"station-{i % 3}" / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
            if i % 10 == 0:
                time.sleep(0.2)
        finished = lambda: len(files_under(folder / "done")) == 50 and not first.busy and not second.busy  # noqa: E731
        assert wait_for(finished, 540), len(files_under(folder / "done"))

    rows = intake_rows(station_app)
    assert len(rows) == 50
    assert sorted(Path(r.path).name for r in rows) == sorted(expected)
    # Copies of one sample carry the same letter number, so later ones are flagged as the same letter
    # again ("duplicate" by number); each file is still its own stored scan, taken in once.
    assert {r.outcome for r in rows} <= {"routed", "needs_review", "duplicate"}
    assert all(r.reason_code != "duplicate_file" for r in rows)
    assert len({r.letter_id for r in rows}) == 50
    assert {r.sha256 for r in rows} == set(expected.values())
    assert letter_count(station_app) == 50
    done = files_under(folder / "done")
    assert sorted(p.name for p in done) == sorted(expected)  # no file twice (no "-2" copies)
    assert all(sha256(p) == expected[p.name] for p in done)
    assert files_under(folder / "processing") == []
    assert first.stats.claimed > 0 and second.stats.claimed > 0
    assert first.stats.claimed + second.stats.claimed == 50
    assert {r.station for r in rows} == {"station-0", "station-1", "station-2"}


def test_a_corrupt_file_lands_in_failed_with_its_reason_and_the_watcher_goes_on(station_app,
                                                                                 tmp_path: Path) -> None:
    folder = tmp_path / "watched"
    desk = folder / "สารบรรณกลาง"
    desk.mkdir(parents=True)
    watcher = Watcher(station_app, folder, stable_seconds=0.3, workers=1)
    with Running(watcher):
        (desk / "broken.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(3000) + b"\n%%EOF\n")
        (desk / "empty.pdf").write_bytes(b"")
        (desk / "notes.pdf.part").write_bytes(b"half")
        distinct_copy(LETTERS / "06-arabic-digits.jpg", desk / "good.jpg", 7)
        assert wait_for(lambda: len(files_under(folder / "done")) == 1
                        and len(files_under(folder / "failed")) == 2, 90)
        time.sleep(1.0)
        distinct_copy(LETTERS / "10-order.pdf", desk / "after.pdf", 8)  # still watching after the failure
        assert wait_for(lambda: len(files_under(folder / "done")) == 2, 60)

    failed = folder / "failed" / "สารบรรณกลาง"
    assert (failed / "broken.pdf").exists()
    report = json.loads((failed / "broken.pdf.error.json").read_text("utf-8"))
    assert report["reason"] == CorruptFileError.reason
    assert report["code"] == "corrupt_file"
    assert report["detail"]
    assert report["station"] == "สารบรรณกลาง"
    assert "สารบรรณกลาง" in report["what_to_do"]
    # The empty file is not taken at once (it may still be being written), so it is still waiting.
    assert (desk / "empty.pdf").exists()
    assert (desk / "notes.pdf.part").exists()  # ignored, untouched
    rows = {Path(r.path).name: r for r in intake_rows(station_app)}
    assert rows["broken.pdf"].outcome == "failed" and rows["broken.pdf"].reason == CorruptFileError.reason
    assert rows["good.jpg"].station == "สารบรรณกลาง"
    assert {rows["good.jpg"].outcome, rows["after.pdf"].outcome} <= {"routed", "needs_review"}


def test_an_empty_file_fails_after_the_grace_period(station_app, tmp_path: Path) -> None:
    folder = tmp_path / "watched"
    (folder / "desk").mkdir(parents=True)
    (folder / "desk" / "empty.pdf").write_bytes(b"")
    watcher = Watcher(station_app, folder, stable_seconds=0.2, workers=1, incomplete_grace=0.5)
    watcher.run_once(timeout=30)
    watcher.close()
    report = json.loads((folder / "failed" / "desk" / "empty.pdf.error.json").read_text("utf-8"))
    assert report["code"] == "empty_file"


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_files_left_in_processing_by_a_killed_watcher_are_taken_again(station_app, tmp_path: Path) -> None:
    folder = tmp_path / "watched"
    pid = dead_pid()
    # Killed before the intake finished: the file is taken in again.
    left = folder / "processing" / "desk" / f"{stations.HOST}+{pid}+dead0001+1"
    distinct_copy(LETTERS / "06-arabic-digits.jpg", left / "unfinished.jpg", 11)
    # Killed after the intake recorded it: only the move to done/ is left, nothing is read twice.
    recorded_dir = folder / "processing" / "desk" / f"{stations.HOST}+{pid}+dead0001+2"
    recorded = distinct_copy(LETTERS / "10-order.pdf", recorded_dir / "recorded.pdf", 12)
    first = stations.safe_process(station_app, recorded, "desk")
    # Held by a live watcher elsewhere, lease still fresh: left alone.
    other = folder / "processing" / "desk" / "other-host+123+live0001+1"
    distinct_copy(LETTERS / "12-bilevel-fax.tif", other / "busy.tif", 13)
    # Held by a live process of this machine (pid 1 is always alive), lease fresh: left alone too.
    local = folder / "processing" / "desk" / f"{stations.HOST}+1+live0002+1"
    distinct_copy(LETTERS / "02-single-addressee.pdf", local / "local.pdf", 14)

    watcher = Watcher(station_app, folder, stable_seconds=0.2, workers=1)
    watcher.run_once(timeout=60)
    watcher.close()

    done = {p.name for p in files_under(folder / "done")}
    assert done == {"unfinished.jpg", "recorded.pdf"}
    assert (other / "busy.tif").exists() and (local / "local.pdf").exists()
    rows = intake_rows(station_app)
    assert sorted(Path(r.path).name for r in rows) == ["recorded.pdf", "unfinished.jpg"]
    assert [r.id for r in rows if r.path.endswith("recorded.pdf")] == [rows[0].id]
    assert watcher.stats.recovered == 2
    assert letter_count(station_app) == 2 and first.status in ("routed", "needs_review")

    # Once a lease runs out (the holder stopped touching its claim: hung, or its pid now belongs to
    # another process), the file is taken too.
    old = time.time() - stations.LEASE_SECONDS - 5
    os.utime(other, (old, old))
    os.utime(local, (old, old))
    watcher = Watcher(station_app, folder, stable_seconds=0.2, workers=1)
    watcher.run_once(timeout=60)
    watcher.close()
    assert {"busy.tif", "local.pdf"} <= {p.name for p in files_under(folder / "done")}


def test_delete_after_ingest(tmp_path: Path) -> None:
    from saraban.app import App
    from tests.conftest import make_settings

    app = App.create(make_settings(tmp_path / "home", delete_after_ingest=True))
    folder = tmp_path / "watched"
    distinct_copy(LETTERS / "10-order.pdf", folder / "desk" / "order.pdf", 21)
    watcher = Watcher(app, folder, stable_seconds=0.2, workers=1)
    watcher.run_once(timeout=60)
    watcher.close()
    assert files_under(folder / "done") == [] and not (folder / "desk" / "order.pdf").exists()
    assert [r.outcome for r in intake_rows(app)] == ["needs_review"]  # an order (คำสั่ง) is not a letter
    app.db.dispose()


def test_status_json_counts_letters_queue_and_failures(station_app, tmp_path: Path) -> None:
    folder = tmp_path / "watched"
    make_scans(folder / "desk", 2)
    (folder / "desk" / "broken.pdf").write_bytes(b"%PDF-1.4\nnothing\n%%EOF\n")
    watcher = Watcher(station_app, folder, stable_seconds=0.2, workers=2)
    watcher.run_once(timeout=60)
    watcher.close()
    make_scans(folder / "desk", 3, prefix="waiting")  # dropped, not yet taken
    stuck = folder / "processing" / "desk" / f"{stations.HOST}+{os.getpid()}+live+9"
    distinct_copy(LETTERS / "10-order.pdf", stuck / "reading.pdf", 31)

    env = {**os.environ, "SARABAN_HOME": str(station_app.settings.resolved_home)}
    saraban = str(Path(sys.executable).parent / "saraban")
    out = subprocess.run([saraban, "status", "--json", "--folder", str(folder)],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=True)
    data = json.loads(out.stdout)
    assert data["letters"] == 2
    assert data["queue_depth"] == 3
    assert data["in_progress"] == 1
    assert data["failed_24h"] == 1
    assert data["throughput_last_hour"] == 3
    assert data["outcomes_last_hour"]["failed"] == 1


@pytest.mark.e2e
def test_watch_flow_once_through_prefect(station_app, tmp_path: Path, prefect_harness, monkeypatch) -> None:
    """The Prefect flow itself: one run of `watch-folder --once`, OCR inside the machine's limit."""
    from flows import watch
    from flows.limits import ensure_ocr_limit

    monkeypatch.setattr(watch, "current_app", lambda: station_app)
    folder = tmp_path / "watched"
    make_scans(folder / "desk", 2)
    shutil.copy(LETTERS / "12-bilevel-fax.tif", folder / "desk" / "fax.tif")
    result = watch.watch_folder(str(folder), stable_seconds=0.2, workers=2, once=True)
    assert result["claimed"] == 3
    assert sum(result.get(k, 0) for k in ("routed", "needs_review")) == 3
    assert len(files_under(folder / "done")) == 3

    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(ensure_ocr_limit())
    assert limit.limit == (os.cpu_count() or 1) and limit.active_slots == 0
