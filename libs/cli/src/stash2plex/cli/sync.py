"""``stash2plex sync``: queue one scene, the recent ones or all of them, and watch them go through.

A backfill goes the way the Stash plugin's *Sync* tasks go: one change on the ``ENTITY`` queue
that ingest fans out durably (so Ctrl-C here stops only the watching). Progress has two parts:
the fan-out reports each page it queued on a progress subject, and a job counts as done once
it has left the ``SYNC`` work queue (synced, found unchanged, or dead-lettered — which the
DLQ tells apart by the job's event id).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Literal

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from pydantic import BaseModel, Field

from stash2plex.cli.broker import BrokerUnreachableError, connected
from stash2plex.common.backfill import FanOutProgress, Scope, backfill_change, describe, progress_subject
from stash2plex.common.contracts import ContractError, DeadLetter, EntityChange, SyncJob, SyncReason
from stash2plex.common.subjects import DLQ_PREFIX, SYNC_PREFIX, dlq_subject, scene_id_of
from stash2plex.common.topology import DLQ_STREAM, SYNC_STREAM
from stash2plex.ingest.publisher import BrokerUnavailable, publish

POLL_S = 0.5
PUBLISH_TIMEOUT_S = 5.0


class SyncReport(BaseModel):
    """What became of a sync request; ``--json`` prints it."""

    what: str = Field(description="The scenes asked for, in words.")
    event_id: str
    queued: int = Field(default=0, description="Sync jobs queued so far.")
    total: int | None = Field(default=None, description="Scenes to sync, once known.")
    done: int = Field(default=0, description="Jobs that have left the queue.")
    dead_lettered: list[str] = Field(default_factory=list, description="Scenes whose job ended in the DLQ.")
    fanned_out: bool = Field(default=False, description="Every job has been queued.")
    finished: bool = Field(default=False, description="Every job has left the queue.")
    waited: bool = Field(default=True, description="False with --no-wait: only queued.")

    @property
    def waiting(self) -> int:
        return max(0, self.queued - self.done)


Update = Callable[[SyncReport], None]
Outcome = Literal["finished", "timed_out", "queued"]


class Watch:
    """Follows the jobs with one event id from queued to done."""

    def __init__(self, js: JetStreamContext, report: SyncReport, job_event_id: str) -> None:
        self.js, self.report, self.job_event_id = js, report, job_event_id
        self.scenes: set[str] = set()
        self.left: set[str] = set()

    def queued(self, scene_ids: list[str]) -> None:
        self.scenes.update(scene_ids)
        self.report.queued = max(self.report.queued, len(self.scenes))

    async def poll(self) -> None:
        """Which of our scenes have left the work queue, and which of those are dead letters."""
        waiting = await self._subjects(SYNC_STREAM, f"{SYNC_PREFIX}.*")
        newly_left = {s for s in self.scenes - self.left if s not in waiting}
        if newly_left:
            buried = await self._subjects(DLQ_STREAM, f"{DLQ_PREFIX}.*")
            for scene in sorted(newly_left & buried):
                if await self._ours_in_dlq(scene):
                    self.report.dead_lettered.append(scene)
            self.left |= newly_left
        self.report.done = len(self.left)
        # Done when the fan-out has queued everything and every job it named has left the queue
        # (Stash's total can change while a backfill runs; the jobs actually queued are what counts).
        self.report.finished = self.report.fanned_out and not self.scenes - self.left

    async def _subjects(self, stream: str, pattern: str) -> set[str]:
        info = await self.js.stream_info(stream, subjects_filter=pattern)
        return {scene_id_of(subject) for subject in (info.state.subjects or {})}

    async def _ours_in_dlq(self, scene: str) -> bool:
        try:
            raw = await self.js.get_last_msg(DLQ_STREAM, dlq_subject(scene))
            letter = DeadLetter.from_bytes(raw.data or b"")
        except (NotFoundError, ContractError):
            return False
        return letter.job.event_id == self.job_event_id


async def _until(watch: Watch, update: Update, timeout_s: float | None) -> Outcome:
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        await watch.poll()
        update(watch.report)
        if watch.report.finished:
            return "finished"
        if deadline is not None and time.monotonic() > deadline:
            return "timed_out"
        await asyncio.sleep(POLL_S)


async def _publish(nc: NatsClient, js: JetStreamContext, message: SyncJob | EntityChange) -> None:
    try:
        await publish(nc, js, message, PUBLISH_TIMEOUT_S)
    except BrokerUnavailable as error:
        raise BrokerUnreachableError(f"JetStream did not take the request: {error}") from None


async def sync_scene(
    url: str, scene_id: str, wait: bool, timeout_s: float | None, update: Update
) -> tuple[SyncReport, Outcome]:
    """Queue one scene (replacing any job waiting for it) and, with ``wait``, follow it."""
    job = SyncJob(scene_id=scene_id, reason=SyncReason.MANUAL)
    report = SyncReport(what=f"scene {scene_id}", event_id=job.event_id, total=1, waited=wait)
    async with connected(url) as (nc, js):
        await _publish(nc, js, job)
        watch = Watch(js, report, job.event_id)
        watch.queued([scene_id])
        report.fanned_out = True
        update(report)
        if not wait:
            return report, "queued"
        return report, await _until(watch, update, timeout_s)


async def backfill(
    url: str, scope: Scope, hours: float | None, wait: bool, timeout_s: float | None, update: Update
) -> tuple[SyncReport, Outcome]:
    """Queue a backfill through ingest's fan-out and, with ``wait``, follow it to the end."""
    change = backfill_change(scope, hours)
    report = SyncReport(what=describe(change), event_id=change.event_id, waited=wait)
    async with connected(url) as (nc, js):
        watch = Watch(js, report, change.job_event_id)

        async def on_progress(msg: Msg) -> None:
            with contextlib.suppress(ContractError):
                progress = FanOutProgress.from_bytes(msg.data)
                watch.queued(progress.scene_ids)
                report.queued = max(report.queued, progress.queued)
                report.total = progress.total
                report.fanned_out = report.fanned_out or progress.done

        sub = await nc.subscribe(progress_subject(change.event_id), cb=on_progress)
        try:
            await _publish(nc, js, change)
            update(report)
            if not wait:
                return report, "queued"
            return report, await _until(watch, update, timeout_s)
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
