"""Shared fixtures. Tests that need a service start it themselves.

- `app`: a fresh App (database + local object store) in a temp home, once per database backend:
  SQLite always, PostgreSQL too when its binaries are installed (tests/postgres.py starts a
  throwaway cluster on loopback).
- `prefect_harness`: one Prefect test server for the session, for tests of the flows themselves.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
LETTERS = SAMPLES / "letters"
SHARED = ROOT.parent / "shared"
REAL_TEXTS = SHARED / "fixtures" / "real-texts"

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def database_backends() -> list[str]:
    from tests import postgres

    return ["sqlite", "postgres"] if postgres.available() else ["sqlite"]


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from tests import postgres

    if not postgres.available():
        pytest.skip("PostgreSQL binaries not installed (make test installs them)")
    server = postgres.start(tmp_path_factory.mktemp("pg"))
    yield server
    server.stop()


def make_settings(home: Path, database_url: str | None = None, **extra: object):  # type: ignore[no-untyped-def]
    from saraban.settings import Settings

    return Settings(home=home, database_url=database_url, secret_key="test-secret", **extra)  # type: ignore[arg-type]


@pytest.fixture(params=database_backends())
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """A fresh App per test, on each database backend."""
    from saraban.app import App

    url = None
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        url = server.new_database()  # type: ignore[attr-defined]
    application = App.create(make_settings(tmp_path / "home", url))
    yield application
    application.db.dispose()


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[object]:
    """A fresh App on SQLite only (for tests about something other than the database)."""
    from saraban.app import App

    application = App.create(make_settings(tmp_path / "home"))
    yield application
    application.db.dispose()


@pytest.fixture
def loaded_app(app):  # type: ignore[no-untyped-def]
    """`app` with the sample register and directory imported."""
    from storage.directory import import_directory
    from storage.register import import_register

    with app.db.session() as session:
        import_register(session, SAMPLES / "register.csv")
        import_directory(session, SAMPLES / "directory.yaml")
    return app


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture
def letters_copy(tmp_path: Path) -> Path:
    """The committed sample scans copied to a temp folder (intake must never touch the originals)."""
    target = tmp_path / "letters"
    shutil.copytree(LETTERS, target, ignore=shutil.ignore_patterns("truth"))
    return target


def truth(name: str) -> dict:
    import json

    return json.loads((LETTERS / "truth" / f"{Path(name).stem}.json").read_text("utf-8"))
