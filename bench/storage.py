"""Object storage: 100 × 2 MB scans through our S3 store vs a plain minio `fput_object` loop.

    .venv/bin/python -m bench.storage [--count 100] [--size-mb 2] [--rounds 3]

Against a real SeaweedFS (`weed mini`, tests/s3_fixtures.py) on loopback, started and stopped here.
The scans are random bytes (a scan is compressed image data: incompressible), one file each.

Baseline, in the same run and on the same connection pool: `Minio.fput_object` of each file to a
fresh key, with the same content type and metadata. Ours: `S3Store.put_file` as intake calls it
(the sha256 known from the fingerprint), which adds the conditional PUT that keeps it idempotent
(`If-None-Match`) and the `x-amz-checksum-sha256` the server hashes the body against, whose
stored value verifies it; and `put_file` without the sha256 (the store hashes the bytes first),
as for a PDF made from an image scan.
Also the same bytes again (the conditional PUT refused, a HEAD): what a retry costs per object.
Uploads are interleaved scan by scan, in a fresh random order each time, so the shared machine's
noise (and the server's work after a write) falls on all alike. Figures: per-scan median over all
rounds (and the 90th percentile), the median round's total, and the overhead = our median /
baseline median - 1 (target ≤ 15%).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from storage.objects import encode_metadata
from storage.s3 import S3Store
from tests.s3_fixtures import running_seaweed

TARGET_OVERHEAD = 0.15
METADATA = {"station": "สารบรรณกลาง", "pages": "3", "kind": "letter", "number": "ลป 0017.5/ว 12727",
            "date": "2015-03-13"}


def make_scans(folder: Path, count: int, size: int) -> list[tuple[Path, str]]:
    scans = []
    for i in range(count):
        path = folder / f"{i:04d}.pdf"
        data = os.urandom(size)
        path.write_bytes(data)
        scans.append((path, hashlib.sha256(data).hexdigest()))
    return scans


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def run(count: int, size_mb: float, rounds: int) -> dict[str, list[float]]:
    size = int(size_mb * 1024 * 1024)
    work = Path(tempfile.mkdtemp(prefix="bench-storage-"))
    try:
        (work / "scans").mkdir()
        scans = make_scans(work / "scans", count, size)
        with running_seaweed(work / "seaweed", kill_at_end=True) as server:
            return measure(server.store_options(), scans, rounds)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(options: dict[str, object], scans: list[tuple[Path, str]], rounds: int) -> dict[str, list[float]]:
    # One bucket (versioned, as the store makes it) and one connection pool for both, keys side by side.
    store = S3Store.from_options("bench", **options)  # type: ignore[arg-type]
    store.ensure_bucket()
    client = store.client
    headers: dict = {"x-amz-meta-" + k: v for k, v in encode_metadata(METADATA).items()}

    def baseline(key: str, path: Path, sha: str) -> None:
        client.fput_object(store.bucket, key, str(path), content_type="application/pdf", metadata=headers)

    def known(key: str, path: Path, sha: str) -> None:
        store.put_file(key, path, content_type="application/pdf", metadata=METADATA, sha256=sha)

    def unknown(key: str, path: Path, sha: str) -> None:
        store.put_file(key, path, content_type="application/pdf", metadata=METADATA)

    for path, sha in scans[:5]:  # warm-up: connections, the bucket's first volumes
        baseline(f"warm/baseline/{path.name}", path, sha)
        known(f"warm/known/{path.name}", path, sha)
    kinds: list[tuple[str, Callable[[str, Path, str], None]]] = [
        ("baseline", baseline), ("known", known), ("unknown", unknown)]
    order = random.Random(5)
    times: dict[str, list[float]] = {"baseline": [], "known": [], "unknown": [], "again": []}
    totals: dict[str, list[float]] = {name: [] for name in times}
    for r in range(rounds):
        spent: dict[str, list[float]] = {name: [] for name in times}
        for path, sha in scans:
            # A fresh order per scan: each kind follows each other kind as often (the server's
            # work after a write spills into whatever comes next).
            for name, put in order.sample(kinds, len(kinds)):
                start = time.perf_counter()
                put(f"r{r}/{name}/{path.name}", path, sha)
                spent[name].append(time.perf_counter() - start)
        for path, sha in scans:  # the same bytes again: refused by the server, nothing written
            start = time.perf_counter()
            known(f"r{r}/known/{path.name}", path, sha)
            spent["again"].append(time.perf_counter() - start)
        for name, values in spent.items():
            times[name].extend(values)
            totals[name].append(sum(values))
        print(f"  round {r + 1}: " + ", ".join(f"{name} {sum(v):.2f} s" for name, v in spent.items()),
              flush=True)
    versions = sum(1 for o in client.list_objects(store.bucket, prefix="r0/known/", recursive=True,
                                                  include_version=True))
    if versions != len(scans):
        raise SystemExit(f"the same bytes again made new versions: {versions} != {len(scans)}")
    return {**{f"{k}_times": v for k, v in times.items()}, **{f"{k}_totals": v for k, v in totals.items()}}


def report(results: dict[str, list[float]], count: int, size_mb: float, rounds: int) -> bool:
    base = statistics.median(results["baseline_times"])
    print(f"\nstorage: {count} × {size_mb:g} MB scans, SeaweedFS on loopback, {rounds} rounds interleaved")
    print(f"{'':42} {'median ms':>10} {'p90 ms':>8} {'median round s':>15} {'overhead':>9}")
    rows = [("fput_object loop (baseline)", "baseline"),
            ("S3Store.put_file, sha256 known (intake)", "known"),
            ("S3Store.put_file, sha256 unknown", "unknown"),
            ("same bytes again (nothing written)", "again")]
    for label, name in rows:
        values = results[f"{name}_times"]
        median, p90 = statistics.median(values), statistics.quantiles(values, n=10)[-1]
        total = statistics.median(results[f"{name}_totals"])
        overhead = "—" if name in ("baseline", "again") else f"{median / base - 1:+.1%}"
        print(f"{label:42} {median * 1000:10.1f} {p90 * 1000:8.1f} {total:15.2f} {overhead:>9}")
    known = statistics.median(results["known_times"]) / base - 1
    met = known <= TARGET_OVERHEAD
    print(f"\noverhead as intake stores a scan: {known:+.1%} (target ≤ {TARGET_OVERHEAD:.0%}): "
          f"{'met' if met else 'NOT met'}")
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--size-mb", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = run(args.count, args.size_mb, args.rounds)
    report(results, args.count, args.size_mb, args.rounds)


if __name__ == "__main__":
    main()
