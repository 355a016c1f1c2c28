"""Run an ASGI app (a simulator) on a real socket in a background thread.

Real clients (``plexapi``, ``gql``, the services) must talk to the simulators over HTTP,
so a green test means the wire format is right. ``stop()`` closes the socket, so the next
connection is refused: that is how the simulators play an outage.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn

from tests.harness.net import free_port, wait_for_port


class ThreadedServer:
    """One uvicorn server in a daemon thread; restartable on the same port."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.app = app
        self.host = host
        self.port = port or free_port(host)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> ThreadedServer:
        if self.running:
            return self
        config = uvicorn.Config(
            self.app, host=self.host, port=self.port, log_level="warning", lifespan="off", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"sim:{self.port}", daemon=True)
        self._thread.start()
        wait_for_port(self.host, self.port)
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server = None
        self._thread = None
        # The listening socket is closed once serve() returns; make sure the OS agrees.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                wait_for_port(self.host, self.port, timeout=0.05)
            except TimeoutError:
                return
            time.sleep(0.05)

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
