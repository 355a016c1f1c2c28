"""The syncer's delivery machinery against the real broker and both simulators."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from nats.js import JetStreamContext

from stash2plex.common.contracts import DeadLetter, ErrorClass
from stash2plex.common.topology import CIRCUIT_KEY, DLQ_STREAM, OUTAGES_KEY, STATE_BUCKET, SYNC_CONSUMER, SYNC_STREAM
from tests.harness.broker import Broker
from tests.harness.library import Libraries, paired_libraries
from tests.harness.services import ServiceProcess
from tests.harness.syncer import dead_letters, is_, pending, queue_jobs, start_syncer, wait_until
from tests.sims.plex.sim import PlexSimFactory
from tests.sims.stash.fixtures import StashSimFactory


@pytest.fixture
def libraries(stash_sim_factory: StashSimFactory, plex_sim_factory: PlexSimFactory) -> Libraries:
    return paired_libraries(stash_sim_factory, plex_sim_factory, scenes=40)


@pytest.fixture
def syncer(broker: Broker, libraries: Libraries, tmp_path: Path, js: JetStreamContext) -> Iterator[ServiceProcess]:
    service = start_syncer(broker, libraries, tmp_path)
    try:
        service.wait_ready(check="circuit")
        yield service
    finally:
        service.stop()


async def kv_json(js: JetStreamContext, key: str) -> object:
    entry = await (await js.key_value(STATE_BUCKET)).get(key)
    return json.loads(entry.value or b"null")


async def test_jobs_reach_plex_and_an_unchanged_resync_writes_nothing(
    syncer: ServiceProcess, js: JetStreamContext, libraries: Libraries
) -> None:
    scenes = sorted(libraries.rating_keys)
    await queue_jobs(js, scenes)
    await wait_until(lambda: len(libraries.in_step()) == len(scenes))
    await wait_until(lambda: is_(pending(js), 0))
    writes = len(libraries.plex.writes)
    assert writes == len(scenes)  # one batched edit per item

    await queue_jobs(js, scenes)
    await wait_until(lambda: is_(pending(js), 0))
    assert len(libraries.plex.writes) == writes  # nothing differed: nothing written
    assert await dead_letters(js) == 0
    metrics = httpx.get(syncer.url + "/metrics").text
    assert f'stash2plex_syncer_jobs_total{{outcome="synced"}} {float(len(scenes))}' in metrics
    assert f'stash2plex_syncer_jobs_total{{outcome="unchanged"}} {float(len(scenes))}' in metrics


async def test_the_concurrency_bound_caps_plex_requests_and_reads_are_shared(
    broker: Broker, js: JetStreamContext, libraries: Libraries, tmp_path: Path
) -> None:
    """At most CONCURRENCY_MAX requests reach Plex at once, and the bound is used; the items of
    jobs in flight together are read together."""
    bound = {"STASH2PLEX_SYNCER__CONCURRENCY_MIN": "3", "STASH2PLEX_SYNCER__CONCURRENCY_MAX": "3"}
    service = start_syncer(broker, libraries, tmp_path, **bound)
    try:
        service.wait_ready(check="circuit")
        await queue_jobs(js, sorted(libraries.rating_keys)[:2])  # the index is built; nothing else in flight
        await wait_until(lambda: len(libraries.in_step()) == 2)
        libraries.plex.in_flight.reset_peak()
        libraries.plex.faults.latency(0.1)
        reads = libraries.plex.reads.total
        scenes = sorted(libraries.rating_keys)
        await queue_jobs(js, scenes)
        await wait_until(lambda: len(libraries.in_step()) == len(scenes), within_s=60)
        await wait_until(lambda: is_(pending(js), 0))
    finally:
        service.stop()
    assert libraries.plex.in_flight.peak == 3
    written = len(scenes) - 2
    assert libraries.plex.reads.total - reads <= written * 3 // 4  # one read per job without sharing
    assert await dead_letters(js) == 0


async def test_plex_down_for_the_whole_run_sends_nothing_to_the_dlq_and_recovery_is_ramped(
    broker: Broker,
    js: JetStreamContext,
    tmp_path: Path,
    stash_sim_factory: StashSimFactory,
    plex_sim_factory: PlexSimFactory,
) -> None:
    libraries = paired_libraries(stash_sim_factory, plex_sim_factory, scenes=500, seed=5)
    ramp = {  # after recovery: a full bucket of 10, then 10 jobs/s climbing to 20 over 5 s
        "STASH2PLEX_SYNCER__RECOVERY_START_RATE": "10",
        "STASH2PLEX_SYNCER__RECOVERY_RAMP_TO_RATE": "20",
        "STASH2PLEX_SYNCER__RECOVERY_RAMP_S": "5",
    }
    syncer = start_syncer(broker, libraries, tmp_path, **ramp)
    try:
        syncer.wait_ready(check="circuit")
        libraries.plex.stop()
        scenes = sorted(libraries.rating_keys)
        await queue_jobs(js, scenes)
        await wait_until(lambda: _circuit_is(js, "open"), within_s=20)
        await asyncio.sleep(1.0)
        assert await dead_letters(js) == 0
        assert await pending(js) == len(scenes)  # held, not lost
        ready = syncer.readiness()
        assert next(c for c in ready["checks"] if c["name"] == "circuit")["ok"] is False
        deliveries_during_outage = await _delivered(js)
        assert deliveries_during_outage <= 3 * 8  # consumption stopped: no retries burnt while Plex is down

        libraries.plex.start()
        started = time.time()
        await wait_until(lambda: len(libraries.in_step()) == len(scenes), within_s=60)
        await wait_until(lambda: _circuit_is(js, "closed"), within_s=10)
        assert await dead_letters(js) == 0
        history = await kv_json(js, OUTAGES_KEY)
        assert isinstance(history, dict)
        assert len(history["outages"]) == 1
        assert history["outages"][0]["ended_at"] is not None
        puts = sorted(w.time - started for w in libraries.plex.writes.all() if w.method == "PUT")
        # At most the burst plus what the ramp earns in one second: 10 + 10 + (10 / 5) / 2 = 21.
        assert sum(1 for t in puts if t < 1.0) <= 21 + 1
        assert len(puts) == len(scenes)
    finally:
        syncer.stop()


async def _delivered(js: JetStreamContext) -> int:
    from stash2plex.common.topology import SYNC_CONSUMER, SYNC_STREAM

    info = await js.consumer_info(SYNC_STREAM, SYNC_CONSUMER)
    return int(info.delivered.consumer_seq)


async def test_dead_letters_of_an_opted_in_class_are_requeued_when_plex_recovers(
    broker: Broker, js: JetStreamContext, libraries: Libraries, tmp_path: Path
) -> None:
    from stash2plex.common.contracts import SyncJob, SyncReason, utcnow

    scene = sorted(libraries.rating_keys)[0]
    now = utcnow()
    letter = DeadLetter(
        job=SyncJob(scene_id=str(scene), reason=SyncReason.HOOK), error_class=ErrorClass.TRANSIENT,
        error="cannot reach Plex", attempts=12, first_failure_at=now, last_failure_at=now,
    )  # fmt: skip
    syncer = start_syncer(broker, libraries, tmp_path, STASH2PLEX_SYNCER__REQUEUE_ON_RECOVERY="transient")
    try:
        syncer.wait_ready(check="circuit")
        await js.publish(letter.subject, letter.to_bytes())
        libraries.plex.stop()
        await queue_jobs(js, sorted(libraries.rating_keys)[1:4])
        await wait_until(lambda: _circuit_is(js, "open"), within_s=20)
        libraries.plex.start()
        await wait_until(lambda: libraries.plex_title(scene) == libraries.stash_title(scene), within_s=30)
        assert await dead_letters(js) == 0
        assert "requeued 1 dead letter(s) of class transient" in syncer.log()
    finally:
        syncer.stop()


async def test_sigterm_finishes_jobs_in_flight_and_loses_none(
    broker: Broker, js: JetStreamContext, libraries: Libraries, tmp_path: Path
) -> None:
    scenes = sorted(libraries.rating_keys)[:12]
    libraries.plex.faults.latency(0.8, methods="PUT")
    syncer = start_syncer(broker, libraries, tmp_path, STASH2PLEX_SYNCER__CONCURRENCY_MIN="4")
    syncer.wait_ready(check="circuit")
    await queue_jobs(js, scenes)
    await wait_until(lambda: len(libraries.plex.writes.matching("PUT")) > 0 or _in_flight(syncer) > 0, within_s=10)
    late = sorted(libraries.rating_keys)[12:]

    async def edits_during_the_stop() -> None:
        for scene in late:
            await queue_jobs(js, [scene])
            await asyncio.sleep(0.05)

    arriving = asyncio.create_task(edits_during_the_stop())
    started = time.monotonic()
    await asyncio.to_thread(syncer.stop)  # SIGTERM
    assert time.monotonic() - started < 20  # within the shutdown deadline
    assert "Application shutdown complete" in syncer.log()
    await arriving
    # Nothing it had taken waits out ack_wait: every job left is deliverable at once (a job it handed
    # back with a nak still counts as ack-pending until then, so the count alone cannot tell).
    consumer = await js.consumer_info(SYNC_STREAM, SYNC_CONSUMER)
    left = (consumer.num_pending or 0) + (consumer.num_ack_pending or 0)
    assert left == len(await deliverable_now(js, left))
    scenes += late
    syncer.start()
    try:
        await wait_until(lambda: len(libraries.in_step()) >= len(scenes), within_s=40)
        await wait_until(lambda: is_(pending(js), 0), within_s=20)
        assert await dead_letters(js) == 0
    finally:
        syncer.stop()


async def deliverable_now(js: JetStreamContext, wanted: int, within_s: float = 3) -> list[str]:
    """Take up to ``wanted`` jobs from the syncer's consumer, then hand them straight back."""
    sub = await js.pull_subscribe_bind(SYNC_CONSUMER, SYNC_STREAM)
    taken: list[str] = []
    deadline = time.monotonic() + within_s
    try:
        while len(taken) < wanted and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                for msg in await sub.fetch(wanted - len(taken), timeout=0.5):
                    taken.append(msg.subject)
                    await msg.nak()
    finally:
        await sub.unsubscribe()
    return taken


def _in_flight(service: ServiceProcess) -> float:
    for line in httpx.get(service.url + "/metrics").text.splitlines():
        if line.startswith("stash2plex_syncer_jobs_in_flight "):
            return float(line.split()[1])
    return 0.0


async def test_a_wrong_token_stops_consumption_and_fixing_it_resumes(
    syncer: ServiceProcess, js: JetStreamContext, libraries: Libraries
) -> None:
    rule = libraries.plex.faults.unauthorized()
    scenes = sorted(libraries.rating_keys)[:10]
    await queue_jobs(js, scenes)
    await wait_until(lambda: _circuit_is(js, "open"), within_s=20)
    state = await kv_json(js, CIRCUIT_KEY)
    assert isinstance(state, dict)
    assert "token" in state["reason"]
    await asyncio.sleep(1.0)
    assert await dead_letters(js) == 0
    assert libraries.in_step() == []
    assert "Plex rejected the token" in syncer.log()

    libraries.plex.faults.remove(rule.id)
    await wait_until(lambda: len(libraries.in_step()) == len(scenes), within_s=30)
    assert await dead_letters(js) == 0


async def test_a_permanent_failure_goes_to_the_dlq_and_leaves_sync(
    syncer: ServiceProcess, js: JetStreamContext, libraries: Libraries
) -> None:
    scene = sorted(libraries.rating_keys)[0]
    key = libraries.rating_keys[scene]
    libraries.plex.faults.error(400, methods="PUT", path=r"/library/sections/.*/all")
    await queue_jobs(js, [scene])
    await wait_until(lambda: is_(dead_letters(js), 1), within_s=20)
    raw = await js.get_last_msg(DLQ_STREAM, f"s2p.dlq.scene.{scene}")
    letter = DeadLetter.from_bytes(raw.data or b"")
    assert letter.error_class is ErrorClass.PERMANENT
    assert letter.job.scene_id == str(scene)
    assert "400" in letter.error
    assert letter.attempts == 1
    assert await pending(js) == 0
    assert libraries.plex.library.get(key).title.startswith("placeholder")


async def test_an_item_plex_has_not_scanned_yet_is_synced_once_it_appears(
    syncer: ServiceProcess, js: JetStreamContext, libraries: Libraries
) -> None:
    scene = libraries.stash.data.add_scene(paths=["/media/new/fresh scene.mp4"], title="Fresh")
    await queue_jobs(js, [scene.id])
    await asyncio.sleep(1.5)
    assert await pending(js) == 1  # waiting for Plex's scan, not dead-lettered
    assert await dead_letters(js) == 0
    item = libraries.plex.library.add_item(libraries.section_id, "fresh scene", files=["/media/new/fresh scene.mp4"])
    await wait_until(lambda: libraries.plex.library.get(item.rating_key).title == "Fresh", within_s=40)


async def _circuit_is(js: JetStreamContext, state: str) -> bool:
    try:
        value = await kv_json(js, CIRCUIT_KEY)
    except Exception:
        return state == "closed"
    return isinstance(value, dict) and value.get("state") == state
