"""Throughput of the backfill and latency of the watched folder, on this machine (issue 7).

    .venv/bin/python -m bench.throughput                     # 500 scans; everything below but the 5,000 run
    .venv/bin/python -m bench.throughput --rss-scans 5000    # and the peak RSS of a 5,000-scan backfill
    .venv/bin/python -m bench.throughput --unique 200        # 200 generated letters, the rest copies

Every run is the real command (`saraban backfill`, `saraban watch`) in its own process, with a
fresh data folder (SQLite) and the sample directory plus the generated register imported, against
one `prefect server start` on loopback started here. Measured:

- baseline: one Tesseract at a time (`--workers 1`) on the first BASELINE_SCANS scans;
- the 500-scan backfill on 2 threads, on a Dask LocalCluster of 2 workers, on 2 Prefect process
  workers (`prefect worker start`, work pool `bench`), each as letters per minute (flow time, and
  wall time including start-up) and speed-up over the baseline measured in the same run;
- peak RSS of the backfill process (and of everything it started: Tesseracts, Dask workers) at 500
  scans and, with --rss-scans, at 5,000 (the 500 generated scans again with a few bytes changed);
- watch latency: files dropped one at a time into a station folder of a running `saraban watch`,
  time from stable (drop + stability delay) until the file is recorded and in done/, p50/p95.

Scans are generated once with `python -m samples.generate` (in batches of 25, each with its own
seed) and cached under build/bench/. With `--unique N` only N are generated and the rest of the
500 are copies with a few bytes changed: the same reading work (every copy is read in full), but
copies of one letter carry its number, so later ones are flagged as that letter again.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "build" / "bench"
GENERATED = CACHE / "generated"
BIN = Path(sys.executable).parent
BASELINE_SCANS = 60
BATCH = 25
STABLE_SECONDS = 1.0


# -- scans -----------------------------------------------------------------------------------------


def generated_scans(count: int) -> Path:
    """`count` generated scans in build/bench/scans-<count>/ (linked from the cache build/bench/generated/,
    filled in batches g<seed>/ as needed), with the register of every generated letter."""
    have = sorted(GENERATED.glob("g*/register.csv"))
    seed = 700 + len(list(GENERATED.glob("g*")))
    while sum(_scan_count(r.parent) for r in have) < count:
        seed += 1
        batch = GENERATED / f"g{seed}"
        if batch.exists():
            continue
        need = min(BATCH, count - sum(_scan_count(r.parent) for r in have))
        print(f"generating {need} scans (seed {seed}) …", flush=True)
        command = [sys.executable, "-m", "samples.generate", "--out", str(batch), "--count", str(need),
                   "--seed", str(seed)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                              env={**os.environ, "OMP_THREAD_LIMIT": "1"})
        if done.returncode != 0:  # the generator fails on some seeds: skip that batch
            print(f"  seed {seed} failed: {done.stderr.strip().splitlines()[-1:]}", flush=True)
            shutil.rmtree(batch, ignore_errors=True)
            batch.mkdir()  # remembered as tried
            continue
        have = sorted(GENERATED.glob("g*/register.csv"))
    folder = CACHE / f"scans-{count}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    sources = [p for r in have for p in scan_files(r.parent)][:count]
    for i, source in enumerate(sources):
        os.link(source, folder / f"{i:05d}{source.suffix}")
    rows: list[list[str]] = []
    for part in have:
        with part.open(encoding="utf-8") as fh:
            rows.extend(list(csv.reader(fh))[1:])
    with (folder / "register.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["number", "date", "subject", "sender"])
        writer.writerows(rows)
    return folder


def _scan_count(folder: Path) -> int:
    return sum(1 for p in folder.iterdir() if p.is_file() and p.suffix in (".pdf", ".tif", ".jpg"))


def scan_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*")
                  if p.suffix in (".pdf", ".tif", ".jpg") and "truth" not in p.parts)


def copies(base: Path, count: int, *, distinct: bool = True) -> Path:
    """`count` scans made from the generated ones: with a few bytes appended after each file's end
    (distinct: every one is read), or the same bytes again (all but the first of each are skipped
    as already stored, without reading)."""
    folder = CACHE / f"{'copies' if distinct else 'same'}-{count}-of-{base.name}"
    sources = scan_files(base)
    if len(scan_files(folder)) == count:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    for i in range(count):
        source = sources[i % len(sources)]
        target = folder / f"part{i // 1000:02d}" / f"{i:05d}{source.suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        if distinct:
            target.write_bytes(source.read_bytes() + f"\n% bench copy {i}\n".encode())
        else:
            os.link(source, target)
    return folder


def subset(base: Path, count: int, name: str) -> Path:
    folder = CACHE / name
    shutil.rmtree(folder, ignore_errors=True)
    for i, source in enumerate(scan_files(base)[:count]):
        target = folder / f"{i:05d}{source.suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(source, target)
    return folder


# -- processes --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def prefect_server(work: Path) -> Iterator[dict[str, str]]:
    """`prefect server start` on loopback (SQLite under `work`), for every run of this benchmark."""
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(work / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_UI_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING", "OMP_THREAD_LIMIT": "1"}
    log = (work / "server.log").open("w")
    command = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    env["PREFECT_API_URL"] = f"http://127.0.0.1:{port}/api"
    try:
        import httpx

        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(env["PREFECT_API_URL"] + "/health", timeout=2).status_code == 200:
                    break
            time.sleep(1)
        else:
            raise RuntimeError("prefect server did not start")
        yield env
    finally:
        stop(server)
        log.close()


def stop(proc: subprocess.Popen[Any], sig: int = signal.SIGTERM, wait: float = 30) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(wait)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def fresh_home(work: Path, name: str, register: Path) -> Path:
    home = work / name
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "SARABAN_HOME": str(home)}
    subprocess.run([str(BIN / "saraban"), "register", "import", str(register)], env=env, check=True,
                   capture_output=True)
    subprocess.run([str(BIN / "saraban"), "directory", "import", str(ROOT / "samples" / "directory.yaml")],
                   env=env, check=True, capture_output=True)
    return home


class RssSampler:
    """Peak RSS of some processes (`main`: the first; `tree`: all of them and their children)."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.main = 0
        self.tree = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            total = 0
            for i, pid in enumerate(self.pids):
                try:
                    proc = psutil.Process(pid)
                    rss = proc.memory_info().rss
                    if i == 0:
                        self.main = max(self.main, rss)
                    total += rss + sum(_rss(c) for c in proc.children(recursive=True))
                except psutil.Error:
                    continue
            self.tree = max(self.tree, total)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _children_cpu() -> float:
    """CPU seconds of every finished child of this process and their descendants (getrusage)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def with_cpu(run: dict[str, Any]) -> dict[str, Any]:
    """CPU per letter, and what 2 free cores would give at that cost (the machine is shared)."""
    per_letter = run["cpu_seconds"] / max(1, run["files"])
    return {**run, "cpu_per_letter": round(per_letter, 2),
            "per_minute_2_free_cores": round(2 * 60 / per_letter, 1) if per_letter else None}


def _rss(proc: psutil.Process) -> int:
    try:
        return int(proc.memory_info().rss)
    except psutil.Error:
        return 0


def backfill(folder: Path, home: Path, env: dict[str, str], *, workers: int, engine: str = "threads",
             watch_pids: list[int] | None = None) -> dict[str, Any]:
    """One `saraban backfill` run; its summary, wall time and peak RSS."""
    report = home / "report.csv"
    run_env = {**env, "SARABAN_HOME": str(home)}
    cmd = [str(BIN / "saraban"), "backfill", str(folder), "--workers", str(workers), "--engine", engine,
           "--json", "--report", str(report)]
    cpu_before = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            start_new_session=True, text=True)
    with RssSampler([proc.pid, *(watch_pids or [])]) as rss:
        out, _ = proc.communicate(timeout=4 * 3600)
    wall = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before  # this run's processes and their Tesseracts (workers: on exit)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"backfill failed ({proc.returncode}): {' '.join(cmd)}")
    summary = json.loads(out.strip().splitlines()[-1])
    files = summary["files"]
    return {"engine": engine, "workers": workers, "files": files, "flow_seconds": summary["seconds"],
            "wall_seconds": round(wall, 1), "per_minute": round(files / summary["seconds"] * 60, 1),
            "per_minute_wall": round(files / wall * 60, 1), "rss_main_mb": round(rss.main / 2**20),
            "rss_tree_mb": round(rss.tree / 2**20), "cpu_seconds": round(cpu, 1),
            "outcomes": {k: summary[k] for k in ("routed", "needs_review", "duplicate", "failed")}}


@contextlib.contextmanager
def prefect_workers(env: dict[str, str], home: Path, count: int) -> Iterator[list[int]]:
    """`count` process workers on pool `bench`, with the backfill-part deployment on it."""
    run_env = {**env, "SARABAN_HOME": str(home)}
    subprocess.run([str(BIN / "saraban"), "deploy", "--pool", "bench"], env=run_env, check=True,
                   capture_output=True)
    procs = [subprocess.Popen([str(BIN / "prefect"), "worker", "start", "--pool", "bench", "--limit", "1",
                               "--name", f"bench-{i}"], env=run_env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True) for i in range(count)]
    try:
        time.sleep(10)
        yield [p.pid for p in procs]
    finally:
        for p in procs:
            stop(p)


def watch_latency(scans: list[Path], work: Path, env: dict[str, str], register: Path, drops: int,
                  interval: float) -> dict[str, Any]:
    """Drop files one at a time into a watched station folder; time from stable to done/."""
    home = fresh_home(work, "home-watch", register)
    folder = work / "watched"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "desk").mkdir(parents=True)
    staging = work / "staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    run_env = {**env, "SARABAN_HOME": str(home)}
    command = [str(BIN / "saraban"), "watch", str(folder), "--stable-seconds", str(STABLE_SECONDS),
               "--workers", "2"]
    watcher = subprocess.Popen(command, env=run_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    latencies: list[float] = []
    names: list[str] = []
    try:
        deadline = time.monotonic() + 180
        while not list((home / "running").glob("watch-*.json")):
            if time.monotonic() > deadline or watcher.poll() is not None:
                raise RuntimeError("saraban watch did not start")
            time.sleep(0.5)
        # The first file pays for what a long-running watcher pays once (models loaded, OCR limit
        # created, connections opened): dropped first, not counted.
        for i, source in enumerate([scans[-1], *scans[:drops]]):
            staged = staging / f"{i:04d}{source.suffix}"
            shutil.copyfile(source, staged)
            dropped = time.time()
            os.replace(staged, folder / "desk" / staged.name)  # a station's copy finishing: one rename
            done_glob = f"done/*/desk/{staged.name}"
            while not list(folder.glob(done_glob)):
                if time.time() - dropped > 120:
                    raise RuntimeError(f"{staged.name} not taken in within 120 s")
                time.sleep(0.02)
            if i > 0:
                latencies.append(time.time() - dropped - STABLE_SECONDS)
                names.append(staged.name)
            time.sleep(interval)
    finally:
        stop(watcher, signal.SIGINT)
    reading = read_seconds(home, names)
    beyond_reading = [lat - reading.get(name, 0.0) for lat, name in zip(latencies, names, strict=True)]
    return {"drops": len(latencies), "stable_seconds": STABLE_SECONDS, **percentiles("", latencies),
            **percentiles("read_", list(reading.values())), **percentiles("other_", beyond_reading)}


def percentiles(prefix: str, values: list[float]) -> dict[str, float]:
    ordered = sorted(values) or [0.0]
    return {f"{prefix}p50": round(statistics.median(ordered), 2),
            f"{prefix}p95": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 2),
            f"{prefix}max": round(ordered[-1], 2)}


def read_seconds(home: Path, names: list[str]) -> dict[str, float]:
    """How long reading each dropped file took (letters.read_seconds), to tell reading from the rest."""
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{home / 'saraban.db'}")
    found: dict[str, float] = {}
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT f.path, l.read_seconds FROM intake_files f "
                                       "JOIN letters l ON l.id = f.letter_id")).all()
    engine.dispose()
    for path, seconds in rows:
        name = Path(path).name
        if name in names:
            found[name] = float(seconds or 0.0)
    return found


# -- main -------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scans", type=int, default=500)
    parser.add_argument("--unique", type=int, help="generated letters among them (default: all)")
    parser.add_argument("--rss-scans", type=int, default=0, help="also a backfill of this many (e.g. 5000)")
    parser.add_argument("--rss-same", action="store_true",
                        help="the extra scans are the generated ones again (skipped as stored, not read)")
    parser.add_argument("--engines", default="threads,dask,workers")
    parser.add_argument("--baseline", type=int, default=BASELINE_SCANS, help="scans of the 1-worker baseline")
    parser.add_argument("--drops", type=int, default=20, help="files dropped for the watch latency")
    parser.add_argument("--skip-watch", action="store_true")
    parser.add_argument("--only-rss", action="store_true", help="only the --rss-scans run")
    args = parser.parse_args()

    generated = generated_scans(args.unique or args.scans)
    register = generated / "register.csv"
    base = generated if not args.unique or args.unique >= args.scans else copies(generated, args.scans)
    results: dict[str, Any] = {"machine": {"cores": os.cpu_count(), "load_at_start": os.getloadavg()}}
    work = Path(tempfile.mkdtemp(prefix="saraban-throughput-"))
    print(f"work folder {work}; load {os.getloadavg()}", flush=True)
    try:
        with prefect_server(work) as env:
            if not args.only_rss:
                results.update(engine_runs(args, base, register, work, env))
            if args.rss_scans:
                big = copies(generated, args.rss_scans, distinct=not args.rss_same)
                results["rss"] = with_cpu(backfill(big, fresh_home(work, "home-big", register), env, workers=2))
                results["rss"]["same_bytes"] = args.rss_same
                print("rss", results["rss"], flush=True)
    finally:
        results["machine"]["load_at_end"] = os.getloadavg()
        shutil.rmtree(work, ignore_errors=True)
    print_results(results)
    out = CACHE / ("throughput-rss.json" if args.only_rss else "throughput.json")
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(f"\nresults in {out}")


def engine_runs(args: argparse.Namespace, base: Path, register: Path, work: Path,
                env: dict[str, str]) -> dict[str, Any]:
    """The 1-worker baseline, the backfill on each engine, and the watch latency."""
    results: dict[str, Any] = {}
    first = subset(base, args.baseline, "baseline")
    baseline = with_cpu(backfill(first, fresh_home(work, "home-base", register), env, workers=1))
    print("baseline (1 worker)", baseline, flush=True)
    results["baseline"] = baseline
    runs = []
    for engine in args.engines.split(","):
        home = fresh_home(work, f"home-{engine}", register)
        if engine == "workers":
            cpu_before = _children_cpu()
            with prefect_workers(env, home, 2) as pids:
                run = backfill(base, home, env, workers=2, engine=engine, watch_pids=pids)
            # The workers (and the flow runs they started) did the reading: counted once they exit.
            run["cpu_seconds"] = round(_children_cpu() - cpu_before, 1)
        else:
            run = backfill(base, home, env, workers=2, engine=engine)
        run = with_cpu(run)
        run["speedup"] = round(run["per_minute"] / baseline["per_minute"], 2)
        print(engine, run, flush=True)
        runs.append(run)
    results["runs"] = runs
    if not args.skip_watch:
        results["watch"] = watch_latency(scan_files(base), work, env, register, args.drops, 1.5)
        print("watch", results["watch"], flush=True)
    return results


def print_results(results: dict[str, Any]) -> None:
    base = results.get("baseline", {})
    print("\n| run | scans | letters/min (flow) | letters/min (wall) | speed-up | CPU s/letter"
          " | letters/min if 2 cores free | peak RSS backfill | peak RSS all |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = [("1 thread (baseline)", base)] if base else []
    rows += [(f"{r['engine']} × {r['workers']}", r) for r in results.get("runs", [])]
    if "rss" in results:
        rows.append((f"threads × 2, {results['rss']['files']} scans", results["rss"]))
    for name, r in rows:
        speedup = r.get("speedup", 1.0) if r is not results.get("rss") else "-"
        print(f"| {name} | {r['files']} | {r['per_minute']} | {r['per_minute_wall']} | {speedup} |"
              f" {r.get('cpu_per_letter')} | {r.get('per_minute_2_free_cores')} |"
              f" {r['rss_main_mb']} MB | {r['rss_tree_mb']} MB |")
    if "watch" in results:
        w = results["watch"]
        print(f"\nwatch latency beyond the {w['stable_seconds']} s stability delay, {w['drops']} drops:"
              f" p50 {w['p50']} s, p95 {w['p95']} s, max {w['max']} s; of which reading the letter"
              f" p50 {w['read_p50']} s, p95 {w['read_p95']} s; everything else (events, claim, OCR slot,"
              f" database, move) p50 {w['other_p50']} s, p95 {w['other_p95']} s")
    machine = results["machine"]
    print(f"load average at start {machine['load_at_start']}, at end {machine['load_at_end']}")


if __name__ == "__main__":
    main()
