"""The circuit breaker shared through KV: replicas agree, and the state survives restarts."""

from __future__ import annotations

import asyncio

from nats.js import JetStreamContext

from stash2plex.common.settings import NatsSettings
from stash2plex.common.topology import STATE_BUCKET, ensure_topology
from stash2plex.syncer.circuit import Circuit


async def two_replicas(js: JetStreamContext, threshold: int = 3) -> tuple[Circuit, Circuit]:
    await ensure_topology(js, NatsSettings())
    kv = await js.key_value(STATE_BUCKET)
    one, two = Circuit(kv, threshold), Circuit(kv, threshold)
    await one.start()
    await two.start()
    return one, two


async def test_failures_from_both_replicas_count_together_and_open_it_once(js: JetStreamContext) -> None:
    one, two = await two_replicas(js)
    try:
        results = await asyncio.gather(*(r.record_failure("503") for r in (one, two, one, two, one)))
        opened = [t for t in results if t is not None and t.opened]
        assert len(opened) == 1  # compare-and-swap: exactly one replica performs the transition
        await two.wait_for_change(1.0)
        assert one.state.state == two.state.state == "open"
        assert not one.allows_work
        assert not two.allows_work
    finally:
        await one.stop()
        await two.stop()


async def test_probe_then_success_closes_it_and_a_half_open_failure_reopens_it(js: JetStreamContext) -> None:
    one, two = await two_replicas(js, threshold=1)
    try:
        await one.record_failure("connection refused")
        assert (await two.probe_succeeded()) is not None
        assert two.state.state == "half_open"
        reopened = await one.record_failure("still failing")
        assert reopened is not None
        assert reopened.opened
        await two.probe_succeeded()
        closed = await one.record_success()
        assert closed is not None
        assert closed.closed
        assert (await one.record_success()) is None  # closed and clean: no KV round trip
    finally:
        await one.stop()
        await two.stop()


async def test_a_configuration_block_survives_a_restart(js: JetStreamContext) -> None:
    one, two = await two_replicas(js)
    await one.block("Plex rejected the token (401)")
    await one.stop()
    await two.stop()
    kv = await js.key_value(STATE_BUCKET)
    restarted = Circuit(kv, 3)
    await restarted.start()
    try:
        assert restarted.state.state == "open"
        assert restarted.state.configuration
        assert "token" in restarted.state.reason
    finally:
        await restarted.stop()
