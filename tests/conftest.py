"""Fixtures every test can use: a real NATS broker, service processes, the simulators."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from tests.harness.broker import Broker, running_broker

pytest_plugins = ["tests.sims.stash.fixtures", "tests.sims.plex.fixtures"]

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests under tests/unit are unit tests; everything else is an integration test."""
    for item in items:
        if item.get_closest_marker("unit") or item.get_closest_marker("integration"):
            continue
        unit = "tests/unit/" in Path(str(item.fspath)).as_posix()
        item.add_marker(pytest.mark.unit if unit else pytest.mark.integration)


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """One real nats-server (JetStream, temp store) for the whole session."""
    with running_broker(tmp_path_factory.mktemp("nats")) as server:
        yield server


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[Broker]:
    """A nats-server of this test's own, for tests that kill or reconfigure it."""
    with running_broker(tmp_path / "nats") as server:
        yield server


@pytest.fixture
async def nc(broker: Broker) -> AsyncIterator[NatsClient]:
    client = await nats.connect(broker.url, allow_reconnect=False, connect_timeout=2)
    yield client
    await client.close()


@pytest.fixture
async def js(nc: NatsClient) -> JetStreamContext:
    """JetStream on the shared broker, emptied of Stash2Plex streams before the test."""
    context = nc.jetstream(timeout=5)
    for stream in ("SYNC", "GAPS", "DLQ", "ENTITY", "KV_s2p_state", "KV_s2p_sync", "KV_s2p_locks"):
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await context.delete_stream(stream)
    return context
