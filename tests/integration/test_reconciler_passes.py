"""When a pass runs and what it covers: scope boundaries in Stash's own time zone, one pass across
replicas scheduled at the same moment, and a skipped pass that says why (Plex down, circuit open)."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from stash2plex.common import topology
from stash2plex.common.reconciliation import Scope, read_history
from stash2plex.common.settings import NatsSettings
from stash2plex.reconciler.service import Reconciler
from stash2plex.reconciler.settings import ReconcilerSettings
from tests.harness.broker import Broker
from tests.harness.reconciler import reconciler_process
from tests.harness.services import connected_env
from tests.harness.syncer import wait_until
from tests.sims.plex.model import Library
from tests.sims.plex.sim import PlexSim, PlexSimFactory
from tests.sims.stash.fixtures import StashSimFactory
from tests.sims.stash.server import StashSim
from tests.sims.stash.store import StashData


def libraries(stash_factory: StashSimFactory, plex_factory: PlexSimFactory) -> tuple[StashSim, PlexSim]:
    """Scenes changed 1 h, 23 h 50 min, 24 h 10 min, 6 days and 8 days ago on a Stash at UTC-05:00
    (the simulator's zone), each with a Plex item; plus two Plex items without a scene, one added
    an hour ago and one long ago."""
    data = StashData()  # UTC-05:00: its local text sorts before UTC text of the same moment
    now = datetime.now(UTC)
    for n, age in enumerate((timedelta(hours=1), timedelta(hours=23, minutes=50), timedelta(hours=24, minutes=10),
                             timedelta(days=6), timedelta(days=8)), start=1):  # fmt: skip
        data.add_scene(title=f"Scene {n}", paths=[f"/data/s{n}.mp4"], created_at=now - timedelta(days=30),
                       updated_at=now - age)  # fmt: skip
    library = Library()
    section = library.add_section("Scenes", locations=["/data"])
    for n in range(1, 6):
        library.add_item(section.id, f"item {n}", files=[f"/data/s{n}.mp4"])
    library.add_item(section.id, "new orphan", files=["/data/new orphan.mp4"])
    old = library.add_item(section.id, "old orphan", files=["/data/old orphan.mp4"])
    old.added_at = int((now - timedelta(days=40)).timestamp())
    return stash_factory(data), plex_factory(library)


def settings_for(broker: Broker, stash: StashSim, plex: PlexSim) -> ReconcilerSettings:
    return ReconcilerSettings(
        nats={"url": broker.url},
        stash={"url": stash.url, "api_key": stash.api_key, "timeout_s": 5},
        plex={"url": plex.url, "token": plex.token, "timeout_s": 5},
        reconciler={"interval": "never", "startup_after_s": 0},
    )


async def started_reconciler(js: JetStreamContext, settings: ReconcilerSettings) -> Reconciler:
    await topology.ensure_topology(js, NatsSettings())
    reconciler = Reconciler(settings)
    await reconciler.start(js)
    return reconciler


async def test_scopes_cover_exactly_the_last_day_and_week_in_stash_time(
    broker: Broker, js: JetStreamContext, stash_sim_factory: StashSimFactory, plex_sim_factory: PlexSimFactory
) -> None:
    stash, plex = libraries(stash_sim_factory, plex_sim_factory)
    reconciler = await started_reconciler(js, settings_for(broker, stash, plex))
    try:
        compared: dict[Scope, tuple[int, int]] = {}
        for scope in Scope:
            answer = await reconciler.request_pass(scope, "manual")
            assert answer.started, answer
            assert reconciler.running is not None
            await reconciler.running
            last = (await read_history(js))[-1]
            assert last.outcome == "completed", last
            compared[scope] = (last.scenes_compared, last.gaps["missing_in_stash"])
    finally:
        await reconciler.stop()
    # 1 h and 23 h 50 min; then 24 h 10 min and 6 days too; everything. The orphan Plex added an
    # hour ago is in every scope, the one added 40 days ago only in a full pass.
    assert compared == {Scope.DAY: (2, 1), Scope.WEEK: (4, 1), Scope.ALL: (5, 2)}


async def test_plex_down_skips_the_pass_and_says_why(
    broker: Broker, js: JetStreamContext, stash_sim_factory: StashSimFactory, plex_sim_factory: PlexSimFactory
) -> None:
    stash, plex = libraries(stash_sim_factory, plex_sim_factory)
    reconciler = await started_reconciler(js, settings_for(broker, stash, plex))
    try:
        plex.stop()
        answer = await reconciler.request_pass(Scope.ALL, "manual")
        assert not answer.started
        assert answer.reason is not None
        assert answer.reason.startswith("Plex is down: cannot reach Plex"), answer.reason
        plex.start()
        state = await js.key_value(topology.STATE_BUCKET)
        await state.put(topology.CIRCUIT_KEY, json.dumps({"state": "open", "reason": "Plex answered 503"}).encode())
        circuit = await reconciler.request_pass(Scope.DAY, "manual")
    finally:
        await reconciler.stop()
    assert not circuit.started
    assert circuit.reason == "Plex is down: the syncer's circuit is open (Plex answered 503)"
    history = await read_history(js)
    assert [(p.outcome, p.scope, p.reason) for p in history] == [
        ("skipped", Scope.ALL, answer.reason),
        ("skipped", Scope.DAY, circuit.reason),
    ]
    gaps = await js.stream_info(topology.GAPS_STREAM)
    assert gaps.state.messages == 0


DECLINED = re.compile(r"no schedule pass: (pass \S+ already ran|a pass is already running)")


async def test_two_reconcilers_scheduled_at_the_same_moment_run_one_pass(
    broker: Broker,
    js: JetStreamContext,
    nc: NatsClient,
    tmp_path: Path,
    stash_sim_factory: StashSimFactory,
    plex_sim_factory: PlexSimFactory,
) -> None:
    stash, plex = libraries(stash_sim_factory, plex_sim_factory)
    # Every 10 seconds, on both: they fire at the same moments.
    env = connected_env(
        broker.url, tmp_path / "data", stash, plex,
        STASH2PLEX_LOG__FORMAT="text", STASH2PLEX_RECONCILER__INTERVAL="* * * * * */10",
    )  # fmt: skip
    first, second = reconciler_process(env, tmp_path, "first"), reconciler_process(env, tmp_path, "second")
    with first, second:
        first.wait_ready(check="nats")
        second.wait_ready(check="nats")

        async def one_ran() -> bool:
            return any(p.trigger == "schedule" for p in await read_history(js))

        def one_stood_back() -> bool:
            return bool(DECLINED.search(first.log() + second.log()))

        await wait_until(one_ran, within_s=30)
        # A replica still starting at the first moment misses it; by the next one both fire.
        await wait_until(one_stood_back, within_s=30)
        await asyncio.sleep(1)  # the other replica's attempt at the same moment is over
        logs = first.log() + second.log()
    passes = [p for p in await read_history(js) if p.trigger == "schedule"]
    ticks = {p.started_at.replace(microsecond=0).second // 10 for p in passes}
    assert len(passes) == len(ticks), passes  # never two passes for one scheduled moment
    assert all(p.outcome == "completed" for p in passes), passes
    started = len(re.findall(r"reconciliation pass \S+ started \(schedule", logs))
    declined = len(DECLINED.findall(logs))
    assert started == len(passes)
    assert declined >= 1, logs  # the other replica fired too, and stood back
