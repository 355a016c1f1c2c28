"""Start a Stash2Plex service as a real process, the way ``stash2plex up`` and Compose do."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.harness.net import free_port

SERVICES = ("ingest", "syncer", "reconciler", "provider")


def connected_env(broker_url: str, data_dir: Path, stash: Any, plex: Any, **extra: str) -> dict[str, str]:
    """Settings that point a service at the broker and at simulated Stash and Plex (``StashSim``, ``PlexSim``)."""
    return {
        "STASH2PLEX_NATS__URL": broker_url,
        "STASH2PLEX_DATA_DIR": str(data_dir),
        "STASH2PLEX_STASH__URL": stash.url,
        "STASH2PLEX_STASH__API_KEY": stash.api_key or "",
        "STASH2PLEX_PLEX__URL": plex.url,
        "STASH2PLEX_PLEX__TOKEN": plex.token or "",
        **extra,
    }


class ServiceProcess:
    """``python -m stash2plex.<name>`` with its own port and the given settings."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.env = {**os.environ, **env, f"STASH2PLEX_{name.upper()}__PORT": str(self.port), "PYTHONUNBUFFERED": "1"}
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> ServiceProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", f"stash2plex.{self.name}"], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        if wait:
            self.wait_healthy()
        return self

    def wait_healthy(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"{self.name} not healthy after {timeout}s:\n{self.log()}")

    def readiness(self) -> dict[str, Any]:
        report: dict[str, Any] = httpx.get(self.url + "/readyz", timeout=5).json()
        return report

    def wait_ready(self, timeout: float = 20.0, check: str | None = None) -> dict[str, Any]:
        """Until ``/readyz`` says ready (or only ``check`` is ok); returns the last report either way."""
        deadline = time.monotonic() + timeout
        report: dict[str, Any] = {}
        while time.monotonic() < deadline:
            report = self.readiness()
            if check is None and report["ready"]:
                return report
            if check is not None and any(c["name"] == check and c["ok"] for c in report["checks"]):
                return report
            time.sleep(0.05)
        return report

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def __enter__(self) -> ServiceProcess:
        """Starts the process unless it runs already (``with start_syncer(...)`` must not make a second one)."""
        if self.process is None or self.process.poll() is not None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
