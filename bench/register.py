"""Register validation speed: 10,000 letters against a 100,000-row register, SQLite and PostgreSQL.

    .venv/bin/python -m bench.register [--rows 100000] [--letters 10000] [--rounds 3]
                                       [--backends sqlite,postgres]

Each letter is checked as intake checks it (`saraban.intake.check`: a session of its own, the
register rules, the register's verdict applied), one after another. The letters are drawn from
the register the way scans arrive: mostly numbers it knows, some with another subject, some one
confusable digit off (the suggestion path: a neighbourhood query and fuzzy subjects), some it
does not know, and ~20% already received (the duplicate rule finds them). PostgreSQL is a
throwaway cluster (tests/postgres.py) on loopback.

Baseline, in the same run and the same way: one bare primary-key lookup of a register row in a
session of its own. Rounds alternate baseline and validation; per round the total, over all rounds
the per-letter p50/p95; the verdict is on the median per-letter mean (target ≤ 5 ms).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlalchemy import insert, text

from pipeline.models import DocumentKind, Field, Letter, LetterNumber
from pipeline.validate import confusable_neighbours
from samples.content import OUTSIDE_SENDERS, SENDERS, SUBJECTS
from saraban.app import App
from saraban.intake import check
from saraban.settings import Settings
from storage.tables import LetterRow, RegisterEntryRow

TARGET_MS = 5.0
YEARS = (2022, 2023, 2024, 2025, 2026)


@dataclass(frozen=True)
class Row:
    id: int
    number: LetterNumber
    date: dt.date
    subject: str
    sender: str


def make_register(count: int, rng: random.Random) -> list[Row]:
    """Running serials per agency, series (plain / circular) and year, as a central register has."""
    series = [(s, agency, circular, year) for s in (*SENDERS, *OUTSIDE_SENDERS) for agency in s.agencies
              for circular in (False, True) for year in YEARS]
    per_series = -(-count // len(series))
    rows: list[Row] = []
    for sender, agency, circular, year in series:
        for serial in range(1, per_series + 1):
            if len(rows) == count:
                return rows
            day = dt.date(year, 1, 1) + dt.timedelta(days=serial * 364 // per_series)
            subject = f"{rng.choice(SUBJECTS)} ครั้งที่ {serial}/{year + 543}"
            rows.append(Row(len(rows) + 1, LetterNumber(sender.code, agency, circular, serial), day, subject,
                            sender.unit_name))
    return rows


def make_letters(register: list[Row], count: int, rng: random.Random) -> tuple[list[Letter], dict[str, int]]:
    """Letters as read, in the mix scans arrive in; returns them and how many of each kind."""
    known = {(r.number.canonical, r.date.year) for r in register}
    letters, mix = [], {"in register": 0, "other subject": 0, "one digit off": 0, "not in register": 0}
    for _ in range(count):
        row = rng.choice(register)
        roll = rng.random()
        number, subject, confidence = row.number, row.subject, 0.95
        if roll < 0.05:
            kind, subject = "other subject", "ขอส่งรายงานผลการดำเนินงานประจำไตรมาส"
        elif roll < 0.15:
            kind, confidence = "one digit off", rng.choice((0.6, 0.95))
            near = confusable_neighbours(row.number)
            candidates = sorted(n for n in near if (n, row.date.year) not in known)
            number = _parse(rng.choice(candidates)) if candidates else row.number
        elif roll < 0.25:
            kind = "not in register"
            serial = 90000 + rng.randrange(9999)  # past any serial in the register
            number = LetterNumber(row.number.code, row.number.agency, row.number.circular, serial)
        else:
            kind = "in register"
        mix[kind] += 1
        letters.append(Letter("bench.pdf", DocumentKind.LETTER, 1, number=Field(number, confidence),
                              date=Field(row.date, 0.95), subject=Field(subject, 0.9)))
    return letters, mix


def _parse(canonical: str) -> LetterNumber:
    from pipeline.extract.number import parse_number

    parsed = parse_number(canonical)
    assert parsed is not None
    return parsed


def load(app: App, register: list[Row], received: list[Row]) -> None:
    """Bulk insert (Core, executemany): the register and the letters already received."""
    with app.db.session() as session:
        for start in range(0, len(register), 5000):
            session.execute(insert(RegisterEntryRow), [
                {"id": r.id, "number": r.number.canonical, "year": r.date.year, "code": r.number.code,
                 "agency": r.number.agency, "circular": r.number.circular, "serial": r.number.serial,
                 "date": r.date, "subject": r.subject, "sender": r.sender}
                for r in register[start:start + 5000]])
        for start in range(0, len(received), 5000):
            session.execute(insert(LetterRow), [
                {"sha256": f"{r.id:064x}", "file_name": f"{r.id}.pdf", "station": "bench", "kind": "letter",
                 "number": r.number.canonical, "number_year": r.date.year, "date": r.date,
                 "subject": r.subject, "sender_code": r.number.sender_code, "status": "routed"}
                for r in received[start:start + 5000]])
    with app.db.engine.connect() as connection:  # planner statistics, as a live database has them
        connection.execute(text("ANALYZE"))
        connection.commit()


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def measure(app: App, letters: list[Letter], ids: list[int], rounds: int) -> dict[str, list[float]]:
    """Per-letter seconds of validation and of the baseline, rounds alternating."""
    def baseline(row_id: int) -> None:
        with app.db.session() as session:
            session.get(RegisterEntryRow, row_id)

    def validation(letter: Letter) -> None:
        check(app, letter)

    for letter, row_id in zip(letters[:200], ids[:200], strict=True):  # warm caches and the pool
        baseline(row_id)
        validation(_copy(letter))
    samples: dict[str, list[float]] = {name: [] for name in ("baseline", "validate", "baseline_rounds",
                                                             "validate_rounds")}
    for _ in range(rounds):
        fresh = [_copy(letter) for letter in letters]  # check() settles the letter: give it a new one
        times = [timed(partial(baseline, row_id)) for row_id in ids]
        samples["baseline"] += times
        samples["baseline_rounds"].append(sum(times))
        times = [timed(partial(validation, letter)) for letter in fresh]
        samples["validate"] += times
        samples["validate_rounds"].append(sum(times))
    return samples


def _copy(letter: Letter) -> Letter:
    return Letter(letter.file, letter.kind, letter.pages, number=letter.number, date=letter.date,
                  subject=letter.subject)


def outcomes(app: App, letters: list[Letter]) -> dict[str, int]:
    """What the rules said, once: proof the bench exercises every path."""
    counts: dict[str, int] = {}
    for letter in letters:
        validation = check(app, _copy(letter))
        names = [f.value for f in validation.flags] or ["ok"]
        if validation.suggestion is not None and validation.suggestion.auto_accept:
            names.append("auto_corrected")
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    return counts


@contextmanager
def backend(name: str, folder: Path) -> Iterator[App]:
    server = None
    url = None
    if name == "postgres":
        from tests import postgres

        if not postgres.available():
            raise SystemExit("PostgreSQL binaries not installed (make test installs them)")
        server = postgres.start(folder)
        url = server.new_database()
    app = App.create(Settings(home=folder / name, database_url=url, secret_key="bench"))
    try:
        yield app
    finally:
        app.db.dispose()
        if server is not None:
            server.stop()
            shutil.rmtree(server.data.parent, ignore_errors=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(name: str, rows: int, count: int, rounds: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    register = make_register(rows, rng)
    received = rng.sample(register, len(register) // 5)
    letters, mix = make_letters(register, count, rng)
    ids = [rng.choice(register).id for _ in letters]
    folder = Path(tempfile.mkdtemp(prefix=f"bench-register-{name}-"))
    try:
        with backend(name, folder) as app:
            started = time.perf_counter()
            load(app, register, received)
            print(f"\n[{name}] register {len(register):,} rows, {len(received):,} letters already received "
                  f"(loaded in {time.perf_counter() - started:.1f} s); {len(letters):,} letters: "
                  + ", ".join(f"{k} {v:,}" for k, v in mix.items()))
            said = sorted(outcomes(app, letters).items())
            print(f"[{name}] outcomes: " + ", ".join(f"{k} {v:,}" for k, v in said))
            samples = measure(app, letters, ids, rounds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ms = 1000.0
    result = {
        "validate_mean": statistics.median(samples["validate_rounds"]) / count * ms,
        "validate_p50": percentile(samples["validate"], 0.50) * ms,
        "validate_p95": percentile(samples["validate"], 0.95) * ms,
        "baseline_mean": statistics.median(samples["baseline_rounds"]) / count * ms,
        "baseline_p50": percentile(samples["baseline"], 0.50) * ms,
        "baseline_p95": percentile(samples["baseline"], 0.95) * ms,
    }
    rounds_s = ", ".join(f"{t:.1f}" for t in samples["validate_rounds"])
    print(f"[{name}] validation rounds (s): {rounds_s}; baseline rounds (s): "
          + ", ".join(f"{t:.1f}" for t in samples["baseline_rounds"]))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--letters", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    names = args.backends.split(",")
    results = {name: run(name, args.rows, args.letters, args.rounds, args.seed) for name in names}
    print(f"\nper letter, ms (mean: median of {args.rounds} rounds; p50/p95 over all letters of all rounds)")
    print(f"{'backend':10s} {'validate mean':>13s} {'p50':>6s} {'p95':>6s}   {'PK lookup mean':>14s} "
          f"{'p50':>6s} {'p95':>6s}   {'ratio':>5s}  target ≤ {TARGET_MS:g} ms")
    failed = False
    for name, r in results.items():
        ok = r["validate_mean"] <= TARGET_MS
        failed |= not ok
        print(f"{name:10s} {r['validate_mean']:13.2f} {r['validate_p50']:6.2f} {r['validate_p95']:6.2f}   "
              f"{r['baseline_mean']:14.2f} {r['baseline_p50']:6.2f} {r['baseline_p95']:6.2f}   "
              f"{r['validate_mean'] / r['baseline_mean']:5.1f}  {'met' if ok else 'MISSED'}")
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
