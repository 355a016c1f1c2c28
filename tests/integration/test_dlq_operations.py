"""Dead-letter operations on a real DLQ stream: list, requeue and purge with filters."""

from __future__ import annotations

from datetime import timedelta

from nats.js import JetStreamContext

from stash2plex.common import dlq
from stash2plex.common.contracts import DeadLetter, ErrorClass, SyncJob, SyncReason, utcnow
from stash2plex.common.settings import NatsSettings
from stash2plex.common.topology import DLQ_STREAM, SYNC_STREAM, ensure_topology


async def bury(js: JetStreamContext, scene: str, error_class: ErrorClass, age_days: float) -> None:
    when = utcnow() - timedelta(days=age_days)
    letter = DeadLetter(
        job=SyncJob(scene_id=scene, reason=SyncReason.HOOK), error_class=error_class, error="failed", attempts=4,
        first_failure_at=when, last_failure_at=when,
    )  # fmt: skip
    await js.publish(letter.subject, letter.to_bytes())


async def test_requeue_one_scene_and_purge_by_age_and_class(js: JetStreamContext) -> None:
    await ensure_topology(js, NatsSettings())
    await bury(js, "1", ErrorClass.TRANSIENT, age_days=10)
    await bury(js, "2", ErrorClass.PERMANENT, age_days=10)
    await bury(js, "3", ErrorClass.PERMANENT, age_days=1)
    await bury(js, "4", ErrorClass.NOT_FOUND, age_days=0)
    await js.publish("s2p.dlq.scene.5", b"not a dead letter")  # unreadable entries are skipped, not fatal

    assert [e.letter.job.scene_id async for e in dlq.entries(js)] == ["1", "2", "3", "4"]
    assert await dlq.requeue(js, scene_id="4") == 1
    requeued = SyncJob.from_bytes((await js.get_last_msg(SYNC_STREAM, "s2p.sync.scene.4")).data or b"")
    assert requeued.reason is SyncReason.REQUEUE

    assert await dlq.purge(js, older_than_days=5) == 2  # scenes 1 and 2
    assert await dlq.purge(js, error_class=ErrorClass.PERMANENT) == 1  # scene 3
    assert [e.letter.job.scene_id async for e in dlq.entries(js)] == []
    assert (await js.stream_info(DLQ_STREAM)).state.messages == 1  # only the unreadable one is left
    assert await dlq.purge(js) == 1
    assert await dlq.counts_by_class(js) == {}
