"""A throwaway PostgreSQL cluster on loopback for the tests: initdb + pg_ctl into a temp dir."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path


def _bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "pg_ctl").exists():
            return candidate
    return None


def available() -> bool:
    return _bin_dir() is not None and os.environ.get("SARABAN_TEST_POSTGRES", "1") != "0"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres_user() -> list[str]:
    """initdb refuses to run as root: run the server as the `postgres` system user then."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


@dataclass
class PostgresServer:
    data: Path
    port: int
    bin_dir: Path
    user: str

    def _run(self, *args: str) -> None:
        subprocess.run([*_as_postgres_user(), *args], check=True, capture_output=True)

    def new_database(self) -> str:
        """A fresh, empty database on the server; returns its SQLAlchemy URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        self._run(str(self.bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name)
        return f"postgresql+psycopg2://{self.user}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        subprocess.run([*_as_postgres_user(), str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(self.data.parent, ignore_errors=True)


def start(_folder: Path | None = None) -> PostgresServer:
    """Start a cluster in a fresh folder under /tmp (the server user must be able to reach it)."""
    import tempfile

    bin_dir = _bin_dir()
    assert bin_dir is not None
    folder = Path(tempfile.mkdtemp(prefix="saraban-pg-"))
    data = folder / "data"
    user = "postgres" if os.geteuid() == 0 else getpass.getuser()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    subprocess.run([*_as_postgres_user(), str(bin_dir / "initdb"), "-D", str(data), "-U", user, "-A", "trust",
                    "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
    port = _free_port()
    log = folder / "server.log"
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder} " \
              "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    subprocess.run([*_as_postgres_user(), str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
                    "-w", "-t", "60", "start"], check=True, capture_output=True)
    return PostgresServer(data, port, bin_dir, user)
