"""The topology against a real nats-server: idempotent, self-updating, and doing what it promises."""

from __future__ import annotations

import pytest
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StreamConfig

from stash2plex.common.contracts import Gap, SyncJob, SyncReason
from stash2plex.common.settings import NatsSettings
from stash2plex.common.subjects import GapKind
from stash2plex.common.topology import (
    DLQ_STREAM,
    SYNC_CONSUMER,
    SYNC_STREAM,
    TopologyError,
    ensure_consumer,
    ensure_topology,
    sync_consumer_config,
)


async def test_ensure_creates_everything_once(js: JetStreamContext) -> None:
    first = await ensure_topology(js, NatsSettings())
    second = await ensure_topology(js, NatsSettings())
    assert set(first.values()) == {"created"}
    assert set(first) == {"SYNC", "GAPS", "DLQ", "ENTITY", "s2p_state", "s2p_sync", "s2p_locks"}
    assert set(second.values()) == {"unchanged"}


async def test_a_changed_setting_updates_the_stream_and_keeps_its_messages(js: JetStreamContext) -> None:
    await ensure_topology(js, NatsSettings(dlq_max_age_days=30))
    await js.publish("s2p.dlq.scene.1", b"{}")
    done = await ensure_topology(js, NatsSettings(dlq_max_age_days=5))
    assert done[DLQ_STREAM] == "updated"
    info = await js.stream_info(DLQ_STREAM)
    assert info.config.max_age == pytest.approx(5 * 24 * 3600)
    assert info.state.messages == 1


async def test_a_stream_with_the_wrong_retention_is_refused_with_advice(js: JetStreamContext) -> None:
    await js.add_stream(StreamConfig(name=SYNC_STREAM, subjects=["s2p.sync.scene.*"], retention=RetentionPolicy.LIMITS))
    with pytest.raises(TopologyError, match="cannot change that in place"):
        await ensure_topology(js, NatsSettings())


async def test_edits_to_one_scene_coalesce_into_one_pending_job(js: JetStreamContext) -> None:
    await ensure_topology(js, NatsSettings())
    for n in range(5):
        job = SyncJob(scene_id="42", reason=SyncReason.HOOK, event_id=f"e{n}")
        await js.publish(job.subject, job.to_bytes(), headers={"Nats-Msg-Id": job.msg_id})
    other = SyncJob(scene_id="7", reason=SyncReason.HOOK)
    await js.publish(other.subject, other.to_bytes(), headers={"Nats-Msg-Id": other.msg_id})
    info = await js.stream_info(SYNC_STREAM)
    assert info.state.messages == 2
    newest = await js.get_last_msg(SYNC_STREAM, "s2p.sync.scene.42")
    assert SyncJob.from_bytes(newest.data or b"").event_id == "e4"


async def test_a_replayed_event_is_reported_as_a_duplicate(js: JetStreamContext) -> None:
    await ensure_topology(js, NatsSettings())
    job = SyncJob(scene_id="5", reason=SyncReason.HOOK, event_id="same")
    first = await js.publish(job.subject, job.to_bytes(), headers={"Nats-Msg-Id": job.msg_id})
    again = await js.publish(job.subject, job.to_bytes(), headers={"Nats-Msg-Id": job.msg_id})
    assert not first.duplicate
    assert again.duplicate
    assert again.seq == first.seq


async def test_gaps_land_in_their_stream(js: JetStreamContext) -> None:
    await ensure_topology(js, NatsSettings())
    gap = Gap(kind=GapKind.MISSING_IN_PLEX, scene_id="11", pass_id="p")
    ack = await js.publish(gap.subject, gap.to_bytes(), headers={"Nats-Msg-Id": gap.msg_id})
    assert ack.stream == "GAPS"


async def test_consumer_config_changes_are_applied(js: JetStreamContext) -> None:
    await ensure_topology(js, NatsSettings())
    await ensure_consumer(js, SYNC_STREAM, sync_consumer_config(ack_wait_s=30, max_ack_pending=4))
    await ensure_consumer(js, SYNC_STREAM, sync_consumer_config(ack_wait_s=45, max_ack_pending=8))
    info = await js.consumer_info(SYNC_STREAM, SYNC_CONSUMER)
    assert info.config.max_ack_pending == 8
    assert info.config.ack_wait == pytest.approx(45)
