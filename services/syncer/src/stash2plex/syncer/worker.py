"""The syncer's delivery machinery: fetch jobs, process each under a per-scene lock and the
adaptive concurrency limit, acknowledge, retry with backoff, dead-letter, and stop fetching
while the circuit is open.

Shaped like a small job-queue worker: one loop per consumer, one task per job, everything a
job needs to decide on failure in :func:`Syncer.fail`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig
from nats.js.errors import ServiceUnavailableError

from stash2plex.common import dlq, topology
from stash2plex.common.contracts import ContractError, DeadLetter, ErrorClass, Gap, SyncJob, SyncReason
from stash2plex.common.logs import log_context
from stash2plex.common.stash.client import StashClient
from stash2plex.syncer import metrics
from stash2plex.syncer.backoff import DEFAULT_POLICIES, RetryPolicy, decide
from stash2plex.syncer.circuit import Circuit, Transition
from stash2plex.syncer.concurrency import AdaptiveLimit, AdaptiveSemaphore
from stash2plex.syncer.errors import Failure, SceneGone, classify
from stash2plex.syncer.locks import SceneLocks
from stash2plex.syncer.outage_log import OutageLog, report_reliability
from stash2plex.syncer.plex import probe
from stash2plex.syncer.plex_gate import PlexGate
from stash2plex.syncer.ratelimit import RampingTokenBucket
from stash2plex.syncer.settings import SyncerSettings
from stash2plex.syncer.sync_record import SyncRecords
from stash2plex.syncer.sync_scene import SceneSync
from stash2plex.syncer.writer import PlexWriter

log = logging.getLogger(__name__)

LOCKED_RETRY_S = 0.5
HELD_RETRY_S = 1.0
"""A job that failed because the circuit just opened comes back this soon once fetching resumes."""
LOCK_RELEASE_WAIT_S = 2.0
"""On shutdown, lock releases still on their way get this long."""
FETCH_TIMEOUT_S = 1.0
"""A pull request's life at the server: how long one cancelled at shutdown can still deliver."""
JOBS_PER_PLEX_SLOT = 4
"""Jobs in flight per Plex request slot: while a job waits on Stash, NATS or a shared read, others keep
the slots busy with their edits (16 slots, Plex at 50 ms: about 140 jobs/s at 2, 155 at 3, 175 at 4;
16 × 4 is also the default max_ack_pending, so more would wait on the broker anyway)."""


def retry_policies(settings: SyncerSettings) -> dict[ErrorClass, RetryPolicy]:
    """The default policies with the delays and limits the settings change."""
    options = settings.syncer
    policies = dict(DEFAULT_POLICIES)
    policies[ErrorClass.TRANSIENT] = replace(
        policies[ErrorClass.TRANSIENT],
        base_s=options.retry_transient_base_s,
        cap_s=max(options.retry_transient_cap_s, options.retry_transient_base_s),
        max_attempts=options.retry_transient_max_attempts,
    )
    policies[ErrorClass.NOT_FOUND] = replace(
        policies[ErrorClass.NOT_FOUND],
        base_s=options.retry_not_found_base_s,
        cap_s=max(options.retry_not_found_cap_s, options.retry_not_found_base_s),
        window_s=options.retry_not_found_window_s,
    )
    return policies


@dataclass
class HeldLock:
    scene_id: str
    revision: int


class Syncer:
    def __init__(self, settings: SyncerSettings, clock: Callable[[], float] = time.time) -> None:
        self.settings, self.options, self.clock = settings, settings.syncer, clock
        plex_limit = AdaptiveLimit(
            minimum=self.options.concurrency_min,
            maximum=self.options.concurrency_max,
            target_latency_s=self.options.target_latency_s,
        )
        self.gate = PlexGate(plex_limit)
        """The concurrency bound: Plex requests in flight (see :mod:`.plex_gate`)."""
        self.limit = AdaptiveSemaphore(plex_limit, per_unit=JOBS_PER_PLEX_SLOT)
        """Jobs in flight follow it."""
        self.writer = PlexWriter(settings, gate=self.gate)
        threads = JOBS_PER_PLEX_SLOT * self.options.concurrency_max + 4  # every job's writer, batched reads, the index
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="plex")
        self.bucket = RampingTokenBucket(
            steady_rate=None,
            start_rate=self.options.recovery_start_rate,
            ramp_to_rate=self.options.recovery_ramp_to_rate,
            ramp_s=self.options.recovery_ramp_s,
            burst=max(1.0, self.options.recovery_start_rate),
        )
        self.policies = retry_policies(settings)
        self.stopping = asyncio.Event()
        self.circuit: Circuit | None = None
        self.locks: SceneLocks | None = None
        self.outages: OutageLog | None = None
        self.js: JetStreamContext | None = None
        self.stash: StashClient | None = None
        self.scenes: SceneSync | None = None
        self._loops: list[asyncio.Task[None]] = []
        self._subscriptions: list[JetStreamContext.PullSubscription] = []
        self._jobs: set[asyncio.Task[None]] = set()
        self._releases: set[asyncio.Task[None]] = set()
        self._last_fetch = 0.0

    # -- lifecycle --------------------------------------------------------------------------
    def consumer_configs(self) -> list[tuple[str, ConsumerConfig]]:
        ack_wait, pending = self.options.ack_wait_s, self.options.max_ack_pending
        return [
            (topology.SYNC_STREAM, topology.sync_consumer_config(ack_wait_s=ack_wait, max_ack_pending=pending)),
            (topology.GAPS_STREAM, topology.gaps_consumer_config(ack_wait_s=ack_wait, max_ack_pending=pending)),
        ]

    async def start(self, js: JetStreamContext) -> None:
        """Called after every (re)connection; starts the loops once."""
        for stream, config in self.consumer_configs():
            await topology.ensure_consumer(js, stream, config)
        if self.settings.missing_for("stash", "plex"):
            return  # jobs wait in the queue; /readyz says which settings are missing
        if self._loops and not all(t.done() for t in self._loops):
            return
        self.js = js
        self.stash = await StashClient(self.settings.stash).__aenter__()
        state = await js.key_value(topology.STATE_BUCKET)
        self.circuit = Circuit(state, threshold=self.options.circuit_threshold, clock=self.clock)
        await self.circuit.start()
        self.locks = SceneLocks(await js.key_value(topology.LOCKS_BUCKET))
        records = SyncRecords(await js.key_value(topology.SYNC_RECORDS_BUCKET))
        self.scenes = SceneSync(self.writer, self.stash, records, self.executor, self.options.write)
        self.outages = OutageLog(state)
        with contextlib.suppress(Exception):  # only the MTTR/MTBF gauges wait for the next outage then
            report_reliability(await self.outages.read())
        sync = await js.pull_subscribe_bind(topology.SYNC_CONSUMER, topology.SYNC_STREAM)
        gaps = await js.pull_subscribe_bind(topology.GAPS_CONSUMER, topology.GAPS_STREAM)
        self._subscriptions = [sync, gaps]
        self._loops = [
            asyncio.create_task(self._consume(sync, self._sync_job), name="consume-sync"),
            asyncio.create_task(self._consume(gaps, self._gap_job), name="consume-gaps"),
            asyncio.create_task(self._watch_recovery(), name="recovery-probe"),
        ]
        metrics.CONCURRENCY.set(self.limit.limit.limit)

    async def stop(self) -> None:
        """Stop fetching; let jobs in flight finish within the deadline, then release the rest."""
        self.stopping.set()
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        if self._jobs:
            _, pending = await asyncio.wait(self._jobs, timeout=self.options.shutdown_deadline_s)
            for task in pending:
                task.cancel()  # their messages are nak'ed in the handler's cleanup
            with contextlib.suppress(Exception):
                await asyncio.gather(*pending, return_exceptions=True)
        if self._releases:
            await asyncio.wait(self._releases, timeout=LOCK_RELEASE_WAIT_S)
        await self._give_back_undelivered()
        for sub in self._subscriptions:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        if self.circuit is not None:
            await self.circuit.stop()
        if self.stash is not None:
            with contextlib.suppress(Exception):
                await self.stash.__aexit__(None, None, None)
        self.executor.shutdown(wait=False, cancel_futures=True)

    # -- consuming ----------------------------------------------------------------------------
    @staticmethod
    def _sync_job(msg: Msg) -> SyncJob:
        return SyncJob.from_bytes(msg.data)

    @staticmethod
    def _gap_job(msg: Msg) -> SyncJob:
        gap = Gap.from_bytes(msg.data)
        if gap.scene_id is None:
            raise ContractError(f"a {gap.kind.value} gap without a scene id cannot be synced")
        return SyncJob(
            scene_id=gap.scene_id, reason=SyncReason.GAP, event_id=gap.msg_id.replace(":", "-"), trace_id=gap.trace_id
        )

    async def _consume(self, sub: JetStreamContext.PullSubscription, to_job: Callable[[Msg], SyncJob]) -> None:
        assert self.circuit is not None
        while not self.stopping.is_set():
            if not self.circuit.allows_work:
                await self.circuit.wait_for_change(1.0)
                continue
            free = self.limit.capacity - self.limit.in_flight
            if free <= 0:
                await self.limit.wait_for_slot()
                continue
            try:
                self._last_fetch = time.monotonic()
                msgs = await sub.fetch(min(free, self.options.fetch_batch), timeout=FETCH_TIMEOUT_S)
            except (NatsTimeoutError, TimeoutError):
                continue
            except ServiceUnavailableError:
                await asyncio.sleep(1)
                continue
            except Exception as error:  # connection lost: the client reconnects by itself
                log.debug("fetch failed: %s", error)
                await asyncio.sleep(1)
                continue
            for index, msg in enumerate(msgs):
                try:
                    await self.limit.acquire()
                except asyncio.CancelledError:  # stopping while the batch waits for slots: hand the rest back
                    await _nak_all(msgs[index:])
                    raise
                task = asyncio.create_task(self._handle(msg, to_job))
                self._jobs.add(task)
                task.add_done_callback(self._jobs.discard)

    async def _give_back_undelivered(self) -> None:
        """Nak the jobs a fetch cancelled at shutdown still brought in.

        The server keeps a cancelled pull request open until it expires and may deliver into it;
        unsubscribed, such a job would wait out ``ack_wait`` (a minute) before anyone took it. So wait
        for the last request to expire, then hand back what arrived (nats-py queues it unread).
        """
        wait = self._last_fetch + FETCH_TIMEOUT_S + 0.1 - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        for sub in self._subscriptions:
            # No public way to read what no fetch asked for; without it, ack_wait hands the job on.
            queue = getattr(getattr(sub, "_sub", None), "_pending_queue", None)
            if queue is None:
                continue
            arrived = []
            while not queue.empty():
                msg = queue.get_nowait()
                if JetStreamContext.is_status_msg(msg) is None:
                    arrived.append(msg)
            await _nak_all(arrived)

    # -- one job ------------------------------------------------------------------------------
    async def _handle(self, msg: Msg, to_job: Callable[[Msg], SyncJob]) -> None:
        started = time.perf_counter()
        metrics.IN_FLIGHT.inc()
        keepalive = asyncio.create_task(self._keep_alive(msg))
        try:
            try:
                job = to_job(msg)
            except ContractError as error:
                log.error("dropping an unreadable job: %s", error)
                await msg.term()
                return
            with log_context(scene_id=job.scene_id, trace_id=job.trace_id):
                await self._process(msg, job)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await msg.nak()  # shutting down: another replica (or the next start) takes it at once
            raise
        except Exception as error:  # the broker went away mid-job: JetStream redelivers it after ack_wait
            log.warning("a job was interrupted (%s: %s); it will be redelivered", type(error).__name__, error)
        finally:
            keepalive.cancel()
            latency = time.perf_counter() - started
            metrics.JOB_SECONDS.observe(latency)
            metrics.IN_FLIGHT.dec()
            # Plex's answers move the limit, request by request, in the gate; a job says nothing more.
            self.limit.release(None, True)
            metrics.CONCURRENCY.set(self.limit.limit.limit)

    async def _keep_alive(self, msg: Msg) -> None:
        while True:
            await asyncio.sleep(self.options.ack_wait_s / 3)
            with contextlib.suppress(Exception):
                await msg.in_progress()

    async def _process(self, msg: Msg, job: SyncJob) -> None:
        """Sync one scene under its lock; acknowledge, retry or dead-letter it."""
        assert self.locks is not None
        assert self.circuit is not None
        assert self.scenes is not None
        scene_read = self.scenes.read_scene(job.scene_id)  # Stash answers while the lock is taken
        revision = await self.locks.acquire(job.scene_id)
        if revision is None:
            scene_read.cancel()
            scene_read.add_done_callback(_forget)
            await msg.nak(delay=LOCKED_RETRY_S)  # another worker has this scene right now
            return
        held = HeldLock(job.scene_id, revision)
        refresher = asyncio.create_task(self._refresh_lock(held))
        try:
            await self.bucket.acquire()
            edited = await self.scenes.run(job, scene_read)  # reads, compares, writes and records: see sync_scene.py
        except SceneGone:
            log.info("scene %s no longer exists in Stash; nothing to sync", job.scene_id)
            await msg.ack()
            metrics.JOBS.labels("skipped").inc()
            return
        except Exception as error:
            await self.fail(msg, job, classify(error))
            return
        finally:
            refresher.cancel()
            await asyncio.gather(refresher, return_exceptions=True)
            self._release_soon(held)
        await msg.ack()
        metrics.JOBS.labels("synced" if edited else "unchanged").inc()
        metrics.LAST_SUCCESS.set(self.clock())
        transition = await self.circuit.record_success()
        if transition is not None and transition.closed:
            await self._recovered()

    def _release_soon(self, held: HeldLock) -> None:
        """Give the lock back without the job waiting for the broker's answer: the record is stored
        already, and a job of this process that comes for the scene meanwhile takes the lock over as
        one it no longer holds (and keeps it: the late delete names the old revision)."""
        assert self.locks is not None
        self.locks.held.discard(held.scene_id)
        task = asyncio.create_task(self.locks.delete(held.scene_id, held.revision))
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)

    async def _refresh_lock(self, held: HeldLock) -> None:
        """Keep a long job's lock from expiring under it."""
        assert self.locks is not None
        while True:
            await asyncio.sleep(topology.LOCK_TTL_S / 3)
            with contextlib.suppress(Exception):
                held.revision = await self.locks.refresh(held.scene_id, held.revision)

    # -- failures -----------------------------------------------------------------------------
    async def fail(self, msg: Msg, job: SyncJob, failure: Failure) -> None:
        """Retry, hold, or dead-letter a failed job, by its error class."""
        assert self.circuit is not None
        if failure.error_class is ErrorClass.CONFIGURATION:
            transition = await self.circuit.block(failure.message)
            if transition is not None and transition.opened:
                log.error("sync stopped: %s; jobs wait until it is fixed", failure.message)
                await self._outage_started(transition)
            await msg.nak(delay=HELD_RETRY_S)
            metrics.JOBS.labels("held").inc()
            return
        if failure.counts_for_circuit:
            transition = await self.circuit.record_failure(failure.message)
            if transition is not None and transition.opened:
                log.warning("Plex looks down (%s): pausing consumption until it answers again", failure.message)
                await self._outage_started(transition)
            if not self.circuit.allows_work:
                await msg.nak(delay=HELD_RETRY_S)  # an outage burns no retries: it comes back after recovery
                metrics.JOBS.labels("held").inc()
                return
        meta = msg.metadata
        first = meta.timestamp.timestamp() if meta.timestamp else self.clock()
        decision = decide(
            failure.error_class,
            meta.num_delivered,
            first,
            self.clock(),
            policies=self.policies,
            retry_after_s=failure.retry_after_s,
        )
        if decision.retry:
            metrics.RETRIES.labels(failure.error_class.value).inc()
            metrics.JOBS.labels("retried").inc()
            log.info("job for scene %s failed (%s); retry in %.1fs", job.scene_id, failure.message, decision.delay_s)
            await msg.nak(delay=decision.delay_s)
            return
        await self._dead_letter(msg, job, failure, first, decision.reason)

    async def _dead_letter(self, msg: Msg, job: SyncJob, failure: Failure, first: float, reason: str) -> None:
        assert self.js is not None
        letter = DeadLetter(
            job=job,
            error_class=failure.error_class,
            error=failure.message,
            attempts=max(1, msg.metadata.num_delivered),
            first_failure_at=datetime.fromtimestamp(first, UTC),
            last_failure_at=datetime.fromtimestamp(self.clock(), UTC),
            source="gap" if msg.metadata.stream == topology.GAPS_STREAM else "sync",
            trace_id=job.trace_id,
        )
        await self.js.publish(letter.subject, letter.to_bytes(), headers={"Nats-Msg-Id": letter.msg_id})
        await msg.term()  # on the work queue this removes the job: it now lives in the DLQ
        metrics.JOBS.labels("dead_lettered").inc()
        log.error("job for scene %s dead-lettered after %s: %s", job.scene_id, reason, failure.message)

    # -- outages and recovery -----------------------------------------------------------------
    async def _outage_started(self, transition: Transition) -> None:
        metrics.OUTAGES.inc()
        if self.outages is not None:
            await self.outages.started(transition.after.reason)

    async def _recovered(self) -> None:
        assert self.js is not None
        metrics.OUTAGE_SECONDS.set(0)
        held = (await self.js.stream_info(topology.SYNC_STREAM)).state.messages
        for error_class in self.options.requeue_on_recovery:
            requeued = await dlq.requeue(self.js, error_class)
            if requeued:
                log.info("requeued %d dead letter(s) of class %s after recovery", requeued, error_class.value)
        if self.outages is not None:
            history = await self.outages.ended(jobs_held=int(held))
            report_reliability(history)
            last = history.outages[-1] if history.outages else None
            took = f" after {last.duration_s:.0f}s" if last and last.duration_s is not None else ""
            log.info("Plex is back%s; %d job(s) waiting, resuming at a ramped rate", took, held)

    async def _watch_recovery(self) -> None:
        """While the circuit is open, probe Plex with exponential backoff; on success let jobs trickle in."""
        assert self.circuit is not None
        delay = self.options.probe_initial_s
        loop = asyncio.get_running_loop()
        while not self.stopping.is_set():
            state = self.circuit.state
            if state.state != "open":
                delay = self.options.probe_initial_s
                await self.circuit.wait_for_change(5.0)
                continue
            if state.opened_at:
                metrics.OUTAGE_SECONDS.set(max(0.0, self.clock() - state.opened_at))
            await self.circuit.wait_for_change(delay)
            if self.circuit.state.state != "open":
                continue
            try:
                await loop.run_in_executor(self.executor, probe, self.settings.plex, self.options.probe_timeout_s)
            except Exception as error:
                failure = classify(error)
                if failure.error_class is ErrorClass.CONFIGURATION:
                    await self.circuit.block(failure.message)
                log.debug("Plex probe failed: %s; next in %.0fs", failure.message, delay)
                delay = min(delay * 2, self.options.probe_max_s)
                continue
            self.writer.reset()
            self.bucket.start_ramp()
            await self.circuit.probe_succeeded()
            log.info("Plex answers again: letting jobs through")


async def _nak_all(msgs: list[Msg]) -> None:
    """Give jobs back for immediate redelivery (another replica, or the next start, takes them)."""
    for msg in msgs:
        with contextlib.suppress(Exception):
            await msg.nak()


def _forget(future: asyncio.Future[Any]) -> None:
    """A read no one waits for any more: its failure, if any, is nobody's concern."""
    if not future.cancelled():
        future.exception()
