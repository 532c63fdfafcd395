"""Prefect: the backfill of a paper archive, tens of thousands of files, on one machine or many.

    backfill (parent flow)   walks the folders, leaves out what the batch already recorded,
      └ backfill-part        one child flow per PART_SIZE files (its run context, and memory, end with it)
          └ intake-chunk     one task per CHUNK_SIZE files, read one after another inside one OCR slot

Batching keeps Prefect's own bookkeeping small: a flow holding 10,000 task runs grows to ~470 MB and
a SQLite-backed server degrades after ~20,000 task runs; 100,000 files here are 100 parts and
10,000 tasks in all, and at most `window` task futures are alive at once.

Engines (the `engine` parameter), all existing ones:
- `threads`: parts in this process, chunks on a thread pool (Tesseract is a subprocess, so threads
  suffice);
- `dask`: chunks on a Dask cluster through prefect-dask's DaskTaskRunner (a LocalCluster of
  `workers` processes, or `dask_address` of a cluster spanning machines);
- `workers`: parts as runs of the `backfill-part` deployment, picked up by `prefect worker start`
  on every machine of the work pool (`deploy_part()` creates it).
On every engine each chunk holds a slot of the machine's global OCR limit (flows/limits.py).
Resuming is by the database: see saraban/backfill.py.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any, cast

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import FlowRun
from prefect.futures import PrefectFuture
from prefect.task_runners import ThreadPoolTaskRunner

from flows.limits import ocr_slot
from saraban import backfill
from saraban.app import current_app

PART_SIZE = 1000
CHUNK_SIZE = 8
CORES = os.cpu_count() or 1
ROOT = Path(__file__).resolve().parents[1]
PART_DEPLOYMENT = "backfill-part/saraban"
log = logging.getLogger("saraban.flows.backfill")


@task(name="intake-chunk", cache_policy=NO_CACHE, persist_result=False, retries=2,
      retry_delay_seconds=[5, 30])
def intake_chunk(paths: list[str], station: str, batch: str) -> dict[str, int]:
    """A few files through the intake, one after another, holding one OCR slot of this machine."""
    with ocr_slot():
        return dict(backfill.intake_chunk(current_app(), [Path(p) for p in paths], station, batch))


@flow(name="backfill-part", persist_result=False, log_prints=False,
      task_runner=ThreadPoolTaskRunner(max_workers=CORES))  # type: ignore[arg-type]
def backfill_part(paths: list[str], station: str, batch: str, chunk_size: int = CHUNK_SIZE,
                  window: int | None = None) -> dict[str, int]:
    """Up to PART_SIZE files as chunks on this flow's task runner; at most `window` chunks in flight."""
    app = current_app()
    done = backfill.recorded_paths(app, batch, [Path(p) for p in paths])
    todo = [p for p in paths if p not in done]
    window = window or 2 * CORES
    counts: Counter[str] = Counter(skipped=len(paths) - len(todo))
    in_flight: deque[PrefectFuture[dict[str, int]]] = deque()
    for chunk in backfill.chunked(todo, chunk_size):
        if len(in_flight) >= window:
            counts.update(_result(in_flight.popleft()))
        in_flight.append(intake_chunk.submit(chunk, station, batch))
    while in_flight:
        counts.update(_result(in_flight.popleft()))
    return dict(counts)


def _result(future: PrefectFuture[dict[str, int]]) -> dict[str, int]:
    try:
        return future.result()
    except Exception as exc:  # the chunk's files stay unrecorded: the next run of the batch takes them
        get_run_logger().error("chunk failed after retries: %s", exc)
        return {"chunk_errors": 1}


@flow(name="backfill", persist_result=False, log_prints=False)
def backfill_flow(paths: list[str], station: str | None = None, batch: str | None = None,
                  workers: int | None = None, engine: str = "threads", chunk_size: int = CHUNK_SIZE,
                  part_size: int = PART_SIZE, dask_address: str | None = None,
                  deployment: str = PART_DEPLOYMENT, report: str | None = None) -> dict[str, Any]:
    """Every scan under `paths`, once; returns the summary (and writes the CSV report when asked)."""
    logger = get_run_logger()
    app = current_app()
    station = station or app.settings.station
    files = backfill.find_scans([Path(p) for p in paths])
    batch = batch or backfill.batch_id([Path(p) for p in paths])
    todo = backfill.pending(app, batch, files)
    workers = workers or CORES
    logger.info("backfill %s: %d files, %d to do, engine %s, %d workers", batch, len(files), len(todo),
                engine, workers)
    started = time.perf_counter()
    if engine == "threads":
        runner = cast(Any, ThreadPoolTaskRunner(max_workers=workers))
        for part in backfill.chunked([str(p) for p in todo], part_size):
            backfill_part.with_options(task_runner=runner)(part, station, batch, chunk_size, 2 * workers)
    elif engine == "dask":
        _on_dask(todo, station, batch, workers, chunk_size, part_size, dask_address)
    elif engine == "workers":
        _on_workers(files, station, batch, workers, chunk_size, part_size, deployment)
    else:
        raise ValueError(f"unknown engine {engine!r}: threads, dask or workers")
    summary = backfill.report(app, batch, Path(report) if report else None)
    result = {**summary.as_dict(), "seconds": round(time.perf_counter() - started, 1), "engine": engine,
              "workers": workers, "taken_this_run": len(todo)}
    logger.info("backfill %s done: %s", batch, result)
    return result


def _on_dask(todo: list[Path], station: str, batch: str, workers: int, chunk_size: int, part_size: int,
             address: str | None) -> None:
    from distributed import LocalCluster
    from prefect_dask import DaskTaskRunner

    cluster = None
    if address is None:  # one Tesseract per worker process: `workers` single-thread worker processes
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        address = cluster.scheduler_address
    try:
        runner = cast(Any, DaskTaskRunner(address=address))
        for part in backfill.chunked([str(p) for p in todo], part_size):
            backfill_part.with_options(task_runner=runner)(part, station, batch, chunk_size, 2 * workers)
    finally:
        if cluster is not None:
            cluster.close()


def _on_workers(files: list[Path], station: str, batch: str, machines: int, chunk_size: int, part_size: int,
                deployment: str) -> None:
    """Parts as deployment runs for the work pool's workers.

    Parts are cut from the whole (sorted) file list and keyed by their content, so a restarted backfill
    asks for the same runs: Prefect returns a run still going (idempotency key) instead of a second one.
    """
    from prefect.client.orchestration import get_client

    logger = get_run_logger()
    app = current_app()
    size = max(chunk_size, min(part_size, math.ceil(len(files) / max(1, 2 * machines))))
    done = backfill.recorded_paths(app, batch)
    parts = [p for p in backfill.chunked([str(f) for f in files], size) if any(x not in done for x in p)]
    runs: dict[str, tuple[list[str], str]] = {}
    for part in parts:
        key = f"{batch}/{hashlib.sha1(chr(10).join(part).encode()).hexdigest()[:16]}"
        runs[_submit_part(deployment, part, station, batch, chunk_size, key)] = (part, key)
    attempts: Counter[str] = Counter()
    with get_client(sync_client=True) as client:
        while runs:
            time.sleep(2)
            for run_id, (part, key) in list(runs.items()):
                state = client.read_flow_run(run_id).state  # type: ignore[arg-type]
                if state is None or not state.is_final():
                    continue
                del runs[run_id]
                if not state.is_completed() and attempts[key] < 2:  # crashed worker: run the part again
                    attempts[key] += 1
                    logger.warning("part %s ended %s; running it again", key, state.type.value)
                    again = f"{key}/again-{attempts[key]}-{time.time()}"
                    runs[_submit_part(deployment, part, station, batch, chunk_size, again)] = (part, key)


def _submit_part(deployment: str, part: list[str], station: str, batch: str, chunk_size: int,
                 key: str) -> str:
    from prefect.deployments import run_deployment

    parameters = {"paths": part, "station": station, "batch": batch, "chunk_size": chunk_size}
    run = cast(FlowRun, run_deployment(deployment, parameters=parameters, timeout=0, idempotency_key=key,
                                       as_subflow=True))
    return str(run.id)


def deploy_part(pool: str = "saraban", name: str = "saraban") -> str:
    """Create (or update) the `backfill-part` deployment on a process work pool; returns its id.

    Every machine runs `prefect worker start --pool <pool>` with this project installed at the same path.
    """
    deployment = cast(Any, backfill_part.from_source(source=str(ROOT),
                                                     entrypoint="flows/backfill.py:backfill_part"))
    return str(deployment.deploy(name=name, work_pool_name=pool, build=False, push=False,
                                 print_next_steps=False))
