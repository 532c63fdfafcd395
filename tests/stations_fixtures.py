"""Helpers for the watched-folder and backfill tests: distinct real scans, slow writers, an app.

Distinct scans are copies of the committed samples with a few bytes appended after their end
(readers ignore them), so each copy has its own sha256 and is a letter of its own.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.tables import IntakeFileRow, LetterRow
from tests.conftest import LETTERS, SAMPLES, make_settings

# The quickest committed samples to read (one page each): a PDF, a JPEG, a bilevel TIFF.
QUICK = ["06-arabic-digits.jpg", "10-order.pdf", "12-bilevel-fax.tif", "02-single-addressee.pdf"]


def distinct_copy(source: Path, target: Path, n: int | str) -> Path:
    """A copy of `source` whose bytes (and sha256) differ: a short comment appended after its end."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes() + f"\n% saraban test copy {n}\n".encode())
    return target


def make_scans(folder: Path, count: int, *, names: list[str] = QUICK, prefix: str = "scan") -> list[Path]:
    """`count` distinct scans in `folder`, cycling through `names`."""
    made = []
    for i in range(count):
        source = LETTERS / names[i % len(names)]
        made.append(distinct_copy(source, folder / f"{prefix}-{i:04d}{source.suffix}", f"{prefix}-{i}"))
    return made


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_slowly(path: Path, data: bytes, pauses: list[float]) -> float:
    """Append `data` to `path` in len(pauses)+1 pieces, sleeping between them; returns when it finished."""
    pieces = len(pauses) + 1
    size = -(-len(data) // pieces)
    with path.open("wb") as fh:
        for i in range(pieces):
            fh.write(data[i * size:(i + 1) * size])
            fh.flush()
            if i < len(pauses):
                time.sleep(pauses[i])
    return time.monotonic()


def wait_for(predicate, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def intake_rows(app) -> list[IntakeFileRow]:
    with app.db.session() as session:
        return list(session.scalars(select(IntakeFileRow).order_by(IntakeFileRow.id)))


def letter_count(app) -> int:
    with app.db.session() as session:
        return session.scalar(select(func.count()).select_from(LetterRow)) or 0


@pytest.fixture
def station_app(tmp_path: Path) -> Iterator[object]:
    """A fresh App on SQLite with the sample register and directory, stable after 0.5 s."""
    from saraban.app import App
    from storage.directory import import_directory
    from storage.register import import_register

    application = App.create(make_settings(tmp_path / "home", stable_seconds=0.5))
    with application.db.session() as session:
        import_register(session, SAMPLES / "register.csv")
        import_directory(session, SAMPLES / "directory.yaml")
    yield application
    application.db.dispose()
