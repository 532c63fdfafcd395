"""Running the web app with uvicorn: in the foreground (`saraban serve`) or in a background
thread on a free loopback port (browser tests, screenshots, the benchmark)."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from review.web import create_app
from saraban.app import App


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def config(app: App, host: str, port: int, **options: object) -> uvicorn.Config:
    return uvicorn.Config(create_app(app), host=host, port=port, proxy_headers=False, server_header=False,
                          log_level=str(options.pop("log_level", "info")), **options)  # type: ignore[arg-type]


def serve(app: App, host: str = "127.0.0.1", port: int = 8000) -> None:
    uvicorn.Server(config(app, host, port)).run()


class BackgroundServer:
    """`with BackgroundServer(app) as server: server.url` — started and stopped in this process."""

    def __init__(self, app: App, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host, self.port = host, port or free_port(host)
        self.server = uvicorn.Server(config(app, self.host, self.port, log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, name="saraban-web", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the web app did not start on {self.url}")
            time.sleep(0.02)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
