"""Operations on the dead-letter queue, shared by ingest's plugin tasks and the CLI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from stash2plex.common.contracts import ContractError, DeadLetter, ErrorClass, SyncJob, SyncReason
from stash2plex.common.topology import DLQ_STREAM


@dataclass(frozen=True)
class Entry:
    seq: int
    letter: DeadLetter


async def entries(js: JetStreamContext) -> AsyncIterator[Entry]:
    """Every readable dead letter, oldest first."""
    info = await js.stream_info(DLQ_STREAM)
    if not info.state.messages:
        return
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            raw = await js.get_msg(DLQ_STREAM, seq)
        except NotFoundError:
            continue  # replaced by a newer letter for the same scene, or deleted
        try:
            yield Entry(seq=seq, letter=DeadLetter.from_bytes(raw.data or b""))
        except ContractError:
            continue


def matches(entry: Entry, error_class: ErrorClass | None, older_than_days: float | None) -> bool:
    if error_class is not None and entry.letter.error_class is not error_class:
        return False
    if older_than_days is not None:
        return entry.letter.last_failure_at < datetime.now(UTC) - timedelta(days=older_than_days)
    return True


async def requeue(js: JetStreamContext, error_class: ErrorClass | None = None, scene_id: str | None = None) -> int:
    """Put matching dead letters back on ``SYNC`` as fresh jobs and remove them from the DLQ."""
    count = 0
    async for entry in entries(js):
        if not matches(entry, error_class, None) or (scene_id is not None and entry.letter.job.scene_id != scene_id):
            continue
        job = SyncJob(scene_id=entry.letter.job.scene_id, reason=SyncReason.REQUEUE, trace_id=entry.letter.trace_id)
        await js.publish(job.subject, job.to_bytes(), headers={"Nats-Msg-Id": job.msg_id})
        await js.delete_msg(DLQ_STREAM, entry.seq)
        count += 1
    return count


async def purge(
    js: JetStreamContext, error_class: ErrorClass | None = None, older_than_days: float | None = None
) -> int:
    """Delete matching dead letters; returns how many."""
    if error_class is None and older_than_days is None:
        info = await js.stream_info(DLQ_STREAM)
        await js.purge_stream(DLQ_STREAM)
        return int(info.state.messages)
    count = 0
    async for entry in entries(js):
        if matches(entry, error_class, older_than_days):
            await js.delete_msg(DLQ_STREAM, entry.seq)
            count += 1
    return count


async def counts_by_class(js: JetStreamContext) -> dict[str, int]:
    counts: dict[str, int] = {}
    async for entry in entries(js):
        counts[entry.letter.error_class.value] = counts.get(entry.letter.error_class.value, 0) + 1
    return counts
