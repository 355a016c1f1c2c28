"""The syncer under crashes: killed at random points, the broker killed, two replicas at once."""

from __future__ import annotations

import asyncio
import random
import signal
from pathlib import Path

import pytest
from nats.js import JetStreamContext

from tests.harness.broker import Broker
from tests.harness.library import Libraries, paired_libraries
from tests.harness.syncer import dead_letters, is_, pending, queue_jobs, start_syncer, wait_until
from tests.sims.plex.sim import PlexSimFactory
from tests.sims.stash.fixtures import StashSimFactory


@pytest.fixture
def libraries(stash_sim_factory: StashSimFactory, plex_sim_factory: PlexSimFactory) -> Libraries:
    return paired_libraries(stash_sim_factory, plex_sim_factory, scenes=200, seed=11)


async def test_sigkill_at_random_points_loses_nothing(
    broker: Broker, js: JetStreamContext, libraries: Libraries, tmp_path: Path
) -> None:
    """1,000 jobs (five rounds over 200 scenes, Stash edited between rounds), the syncer killed 10 times."""
    rng = random.Random(20261123)
    scenes = sorted(libraries.rating_keys)
    libraries.plex.faults.latency(0.01)  # jobs take long enough to be killed in the middle of
    syncer = start_syncer(broker, libraries, tmp_path)
    syncer.wait_ready(check="circuit")  # its streams exist before the first job is published
    try:
        for round_no in range(5):
            for scene_id in scenes:
                libraries.stash.data.update_scene(scene_id, details=f"round {round_no} of scene {scene_id}")
            await queue_jobs(js, scenes)
            for _ in range(2):
                await asyncio.sleep(rng.uniform(0.05, 0.6))
                assert syncer.process is not None
                syncer.process.send_signal(signal.SIGKILL)
                syncer.process.wait(10)
                syncer.start()
        await wait_until(lambda: len(libraries.in_step()) == len(scenes), within_s=90)
        await wait_until(lambda: is_(pending(js), 0), within_s=30)
        assert await dead_letters(js) == 0
    finally:
        syncer.stop()


async def test_the_broker_killed_mid_run_loses_nothing(
    private_broker: Broker, libraries: Libraries, tmp_path: Path
) -> None:
    import nats

    nc = await nats.connect(private_broker.url)
    js = nc.jetstream()
    scenes = sorted(libraries.rating_keys)
    libraries.plex.faults.latency(0.01)
    syncer = start_syncer(private_broker, libraries, tmp_path)
    try:
        syncer.wait_ready(check="circuit")
        await queue_jobs(js, scenes)
        await nc.close()
        await asyncio.sleep(0.3)
        private_broker.kill()
        await asyncio.sleep(0.5)
        private_broker.restart()
        await wait_until(lambda: len(libraries.in_step()) == len(scenes), within_s=60)
        nc = await nats.connect(private_broker.url)
        js = nc.jetstream()
        await wait_until(lambda: is_(pending(js), 0), within_s=30)
        assert await dead_letters(js) == 0
        await nc.close()
    finally:
        syncer.stop()


async def test_two_replicas_share_the_work(
    broker: Broker, js: JetStreamContext, libraries: Libraries, tmp_path: Path
) -> None:
    scenes = sorted(libraries.rating_keys)
    libraries.plex.faults.latency(0.05)
    first = start_syncer(broker, libraries, tmp_path, name="syncer-1")
    second = start_syncer(broker, libraries, tmp_path, name="syncer-2")
    try:
        first.wait_ready(check="circuit")
        second.wait_ready(check="circuit")
        for round_no in range(3):  # edits of one scene arriving while its job is in flight
            for scene_id in scenes[:50]:
                libraries.stash.data.update_scene(scene_id, details=f"edit {round_no}")
            await queue_jobs(js, scenes[:50])
            await asyncio.sleep(0.05)
        await queue_jobs(js, scenes[50:])
        await wait_until(lambda: len(libraries.in_step()) == len(scenes), within_s=90)
        await wait_until(lambda: is_(pending(js), 0), within_s=30)
        done = [synced(replica.url) for replica in (first, second)]
    finally:
        first.stop()
        second.stop()
    assert all(count > 0 for count in done), done
    assert await dead_letters(js) == 0


def synced(url: str) -> float:
    import httpx

    total = 0.0
    for line in httpx.get(url + "/metrics").text.splitlines():
        if line.startswith("stash2plex_syncer_jobs_total{") and ('"synced"' in line or '"unchanged"' in line):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_a_scene_lock_admits_one_holder_and_frees_itself(js: JetStreamContext) -> None:
    from stash2plex.common.settings import NatsSettings
    from stash2plex.common.topology import LOCKS_BUCKET, ensure_topology
    from stash2plex.syncer.locks import SceneLocks

    await ensure_topology(js, NatsSettings())
    kv = await js.key_value(LOCKS_BUCKET)
    one, two = SceneLocks(kv, "replica-1"), SceneLocks(kv, "replica-2")
    held = await one.acquire("42")
    assert held is not None
    assert await two.acquire("42") is None  # the other replica must wait
    assert await two.acquire("43") is not None  # other scenes are free
    await one.release("42", held)
    assert await two.acquire("42") is not None


async def test_a_late_lock_delete_leaves_the_next_job_holding_the_scene(js: JetStreamContext) -> None:
    """The syncer forgets a lock at once and deletes it after the ack: a job of the same process that
    took the scene over in between must keep it, or a third job could run on the scene beside it."""
    from stash2plex.common.settings import NatsSettings
    from stash2plex.common.topology import LOCKS_BUCKET, ensure_topology
    from stash2plex.syncer.locks import SceneLocks

    await ensure_topology(js, NatsSettings())
    kv = await js.key_value(LOCKS_BUCKET)
    ours, other = SceneLocks(kv, "replica-1"), SceneLocks(kv, "replica-2")
    first = await ours.acquire("7")
    assert first is not None
    ours.held.discard("7")  # the job is done; its delete is still on its way
    second = await ours.acquire("7")
    assert second is not None
    assert second != first
    await ours.delete("7", first)  # the late delete arrives
    assert "7" in ours.held
    assert await other.acquire("7") is None
    assert await ours.acquire("7") is None  # not even this process may run the scene twice
