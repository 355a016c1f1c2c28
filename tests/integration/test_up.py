"""``stash2plex up`` as a user runs it: everything starts, a crashed child comes back,
Ctrl-C stops it all, and the broker's messages outlive both a crash and a restart."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest

from stash2plex.common.contracts import SyncJob, SyncReason
from stash2plex.common.settings import NatsSettings
from stash2plex.common.topology import SYNC_STREAM, ensure_topology
from tests.harness.net import free_port, wait_for_port
from tests.harness.services import SERVICES


class Up:
    """One ``stash2plex up`` process with private ports and data dir."""

    def __init__(self, tmp_path: Path) -> None:
        self.data_dir = tmp_path / "data"
        self.log_path = tmp_path / "up.log"
        self.ports = {name: free_port() for name in SERVICES}
        self.nats_port, self.monitor_port = free_port(), free_port()
        self.env = {
            **os.environ,
            "STASH2PLEX_DATA_DIR": str(self.data_dir),
            "STASH2PLEX_NATS__URL": "",
            "STASH2PLEX_NATS__EMBEDDED_PORT": str(self.nats_port),
            "STASH2PLEX_NATS__EMBEDDED_MONITOR_PORT": str(self.monitor_port),
            "COLUMNS": "200",
            **{f"STASH2PLEX_{name.upper()}__PORT": str(port) for name, port in self.ports.items()},
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.nats_port}"

    def start(self) -> Up:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "stash2plex.cli", "up"], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 40
        while not (self.all_healthy() and "Stash2Plex is up" in self.output() and "waiting |" in self.output()):
            assert self.process.poll() is None, f"up exited early:\n{self.output()}"
            assert time.monotonic() < deadline, f"stack not healthy:\n{self.output()}"
            time.sleep(0.2)
        return self

    def all_healthy(self) -> bool:
        for port in self.ports.values():
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code != 200:
                    return False
            except httpx.HTTPError:
                return False
        return True

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = json.loads((self.data_dir / "up.json").read_text())
        return state

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(40)


@contextmanager
def running(tmp_path: Path) -> Iterator[Up]:
    stack = Up(tmp_path).start()
    try:
        yield stack
    finally:
        if stack.process is not None and stack.process.poll() is None:
            stack.process.kill()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def pending_jobs(url: str) -> int:
    nc = await nats.connect(url, allow_reconnect=False)
    info = await nc.jetstream().stream_info(SYNC_STREAM)
    await nc.close()
    return int(info.state.messages)


async def test_up_runs_everything_survives_a_broker_crash_and_keeps_messages(tmp_path: Path) -> None:
    with running(tmp_path) as stack:
        output = stack.output()
        for name in SERVICES:
            assert f"http://127.0.0.1:{stack.ports[name]}" in output, f"up does not say where {name} listens"
        assert stack.nats_url in output
        assert "STASH2PLEX_STASH__URL" in output  # says what is still missing

        nc = await nats.connect(stack.nats_url, allow_reconnect=False)
        js = nc.jetstream()
        await ensure_topology(js, NatsSettings())
        for scene in ("1", "2", "3"):
            job = SyncJob(scene_id=scene, reason=SyncReason.MANUAL)
            await js.publish(job.subject, job.to_bytes(), headers={"Nats-Msg-Id": job.msg_id})
        await nc.close()

        old_pid = stack.state()["children"]["nats"]["pid"]
        os.kill(old_pid, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while stack.state()["children"]["nats"]["restarts"] < 1:
            assert time.monotonic() < deadline, stack.output()
            await asyncio.sleep(0.1)
        wait_for_port("127.0.0.1", stack.nats_port, timeout=10)
        assert stack.state()["children"]["nats"]["pid"] != old_pid
        assert await pending_jobs(stack.nats_url) == 3
        assert "nats exited with code -9" in stack.output()

        children = [c["pid"] for c in stack.state()["children"].values()]
        assert stack.stop() == 0
        assert not any(pid_alive(pid) for pid in children), "a child outlived stash2plex up"
        assert not (stack.data_dir / "up.json").exists()

    with running(tmp_path) as again:
        assert await pending_jobs(again.nats_url) == 3
        assert again.stop() == 0


def test_up_refuses_a_port_that_is_taken(tmp_path: Path) -> None:
    stack = Up(tmp_path)
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", stack.ports["syncer"]))
        blocker.listen()
        result = subprocess.run(
            [sys.executable, "-m", "stash2plex.cli", "up"], env=stack.env, capture_output=True, text=True,
            timeout=30, check=False,
        )  # fmt: skip
    assert result.returncode == 1
    assert f"syncer port {stack.ports['syncer']}" in result.stdout
    assert "STASH2PLEX_<SERVICE>__PORT" in result.stdout


def test_a_second_up_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    with running(tmp_path) as stack:
        second = subprocess.run(
            [sys.executable, "-m", "stash2plex.cli", "up"], env=stack.env, capture_output=True, text=True,
            timeout=30, check=False,
        )  # fmt: skip
        assert second.returncode == 1
        assert "another 'stash2plex up' is running" in second.stdout
        assert stack.stop() == 0


@pytest.mark.parametrize("bad", ["STASH2PLEX_INGEST__PORT=port", "STASH2PLEX_NATS__URL=localhost:4222"])
def test_up_explains_bad_settings(tmp_path: Path, bad: str) -> None:
    name, value = bad.split("=")
    env = {**os.environ, name: value, "STASH2PLEX_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "stash2plex.cli", "up"], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 2
    assert name in result.stdout
