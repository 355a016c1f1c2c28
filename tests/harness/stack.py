"""The whole stack as a user runs it — ``stash2plex up`` — against simulated Stash and Plex,
for tests that drive it from the outside (the operator CLI, Prometheus)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.harness.library import Libraries, paired_libraries
from tests.harness.net import free_port
from tests.harness.services import SERVICES, connected_env
from tests.harness.syncer import FAST, ONE_EDIT_PER_SCENE
from tests.sims.plex.model import Library
from tests.sims.plex.sim import PlexSim
from tests.sims.stash.fixtures import SIM_API_KEY
from tests.sims.stash.generate import make_scenes
from tests.sims.stash.server import StashSim

INGEST_TOKEN = "stack-test-ingest-token"


@contextmanager
def simulated_libraries(scenes: int, seed: int = 3) -> Iterator[Libraries]:
    """Stash and Plex simulators in step by file path, for any fixture scope."""
    started: list[StashSim | PlexSim] = []

    def stash_factory(*, scenes: int, seed: int) -> StashSim:
        sim = StashSim(make_scenes(scenes, seed), api_key=SIM_API_KEY).start()
        started.append(sim)
        return sim

    def plex_factory(library: Library) -> PlexSim:
        sim = PlexSim(library)
        sim.start()
        started.append(sim)
        return sim

    try:
        yield paired_libraries(stash_factory, plex_factory, scenes=scenes, seed=seed)
    finally:
        for sim in started:
            sim.stop()


class LocalStack:
    """One ``stash2plex up`` with private ports and data dir, configured for the simulators."""

    def __init__(self, tmp_path: Path, libraries: Libraries, **extra: str) -> None:
        self.libraries = libraries
        self.data_dir = tmp_path / "data"
        self.log_path = tmp_path / "up.log"
        self.ports = {name: free_port() for name in SERVICES}
        self.nats_port, self.monitor_port = free_port(), free_port()
        self.env = {
            **os.environ,
            **connected_env("", self.data_dir, libraries.stash, libraries.plex),  # "": the embedded broker
            "STASH2PLEX_NATS__EMBEDDED_PORT": str(self.nats_port),
            "STASH2PLEX_NATS__EMBEDDED_MONITOR_PORT": str(self.monitor_port),
            "STASH2PLEX_PLEX__TIMEOUT_S": "2",
            "STASH2PLEX_INGEST__TOKEN": INGEST_TOKEN,
            "STASH2PLEX_INGEST__ENTITY_PAGE_SIZE": "5",
            "STASH2PLEX_LOG__FORMAT": "text",
            "COLUMNS": "200",
            **FAST,
            **ONE_EDIT_PER_SCENE,
            **{f"STASH2PLEX_{name.upper()}__PORT": str(port) for name, port in self.ports.items()},
            **extra,
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.nats_port}"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self, timeout_s: float = 60) -> LocalStack:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "stash2plex.cli", "up"], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout_s
        while not self.all_ready():
            assert self.process.poll() is None, f"up exited early:\n{self.output()}"
            assert time.monotonic() < deadline, f"stack not ready:\n{self.output()}"
            time.sleep(0.2)
        return self

    def all_ready(self) -> bool:
        for service in SERVICES:
            try:
                if httpx.get(self.url(service) + "/readyz", timeout=2).status_code != 200:
                    return False
            except httpx.HTTPError:
                return False
        return True

    def pid(self, child: str) -> int:
        state: dict[str, Any] = json.loads((self.data_dir / "up.json").read_text())
        return int(state["children"][child]["pid"])

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def cli(self, *args: str, input_text: str | None = None, timeout_s: float = 90) -> subprocess.CompletedProcess[str]:
        """``stash2plex <args>`` as an operator runs it on the same machine (same settings)."""
        return subprocess.run(
            [sys.executable, "-m", "stash2plex.cli", *args], env=self.env, capture_output=True, text=True,
            input=input_text, timeout=timeout_s, check=False,
        )  # fmt: skip

    def stop(self) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


@contextmanager
def running_stack(tmp_path: Path, libraries: Libraries, **extra: str) -> Iterator[LocalStack]:
    stack = LocalStack(tmp_path, libraries, **extra).start()
    try:
        yield stack
    finally:
        stack.stop()
