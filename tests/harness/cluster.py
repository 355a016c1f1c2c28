"""A NATS cluster on loopback: several real ``nats-server`` processes joined by routes, each with
JetStream and a store of its own, so a test can SIGKILL one as a machine failure would."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import nats

from stash2plex.common.embedded import find_nats_server
from tests.harness.net import free_port

CLUSTER_NAME = "stash2plex-test"


@dataclass
class Node:
    name: str
    store_dir: Path
    port: int = field(default_factory=free_port)
    cluster_port: int = field(default_factory=free_port)
    monitor_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def route(self) -> str:
        return f"nats://127.0.0.1:{self.cluster_port}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class NatsCluster:
    def __init__(self, workdir: Path, size: int = 3) -> None:
        self.workdir = workdir
        self.nodes = [Node(name=f"n{i + 1}", store_dir=workdir / f"n{i + 1}") for i in range(size)]

    @property
    def urls(self) -> str:
        """Every node, comma separated: what STASH2PLEX_NATS__URL holds for a cluster."""
        return ",".join(node.url for node in self.nodes)

    def live_urls(self) -> list[str]:
        return [node.url for node in self.nodes if node.alive]

    def command(self, node: Node) -> list[str]:
        routes = ",".join(other.route for other in self.nodes if other is not node)
        return [
            str(find_nats_server()),
            "--jetstream", "--store_dir", str(node.store_dir),
            "--addr", "127.0.0.1", "--port", str(node.port), "--http_port", str(node.monitor_port),
            "--server_name", node.name, "--cluster_name", CLUSTER_NAME,
            "--cluster", node.route, "--routes", routes,
        ]  # fmt: skip

    def start(self, timeout_s: float = 30) -> NatsCluster:
        for node in self.nodes:
            node.store_dir.mkdir(parents=True, exist_ok=True)
            log = (self.workdir / f"{node.name}.log").open("ab")
            node.process = subprocess.Popen(self.command(node), stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while not asyncio.run(self._jetstream_answers()):
            assert time.monotonic() < deadline, f"the cluster formed no JetStream meta leader:\n{self.logs()}"
            time.sleep(0.2)
        return self

    async def _jetstream_answers(self) -> bool:
        """Every node is up and the cluster has elected a meta leader (JetStream API answers)."""
        for node in self.nodes:
            try:
                if httpx.get(f"http://127.0.0.1:{node.monitor_port}/healthz", timeout=1).status_code != 200:
                    return False
            except httpx.HTTPError:
                return False
        try:
            nc = await nats.connect(self.nodes[0].url, allow_reconnect=False, connect_timeout=1)
        except Exception:
            return False
        try:
            await nc.jetstream(timeout=2).account_info()
        except Exception:
            return False
        finally:
            await nc.close()
        return True

    def node(self, name: str) -> Node:
        return next(node for node in self.nodes if node.name == name)

    def kill(self, name: str) -> None:
        """SIGKILL one node: no shutdown, no goodbye to its routes."""
        node = self.node(name)
        assert node.process is not None
        node.process.send_signal(signal.SIGKILL)
        node.process.wait(10)

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-1500:]}" for p in sorted(self.workdir.glob("n*.log"))
        )

    def stop(self) -> None:
        for node in self.nodes:
            if node.alive:
                assert node.process is not None
                node.process.terminate()
        for node in self.nodes:
            if node.process is not None:
                try:
                    node.process.wait(10)
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait()
