"""The reconciler's message handling: the control verbs, the schedule, and one pass at a time.

* ``s2p.ctl.reconciler.reconcile`` (``{"scope": "all"|"24h"|"7d"}``) answers at once whether a pass
  started, or why not (not configured, another pass running, Plex down or its circuit open);
* ``s2p.ctl.reconciler.progress`` answers with the running pass (from the lease, whichever replica
  runs it) or the last one in the history;
* the schedule (``INTERVAL``) fires on every replica at the same moments; the lease lets one of
  them run the pass and the others see, once they get the lease, that the moment was handled;
* at start, a pass runs when the last completed one is older than ``STARTUP_AFTER_S``.

A pass that cannot start for a reason worth knowing later (Plex down, circuit open, Stash not
answering) is recorded in the history as ``skipped`` with that reason, by the replica that held
the lease; a replica that only found the lease taken records nothing (the holder's pass does).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from stash2plex.common import topology
from stash2plex.common.readiness import plex_check, stash_check
from stash2plex.common.reconciliation import (
    Outcome,
    PassProgress,
    PassRecord,
    ProgressAnswer,
    ReconcileAnswer,
    Scope,
    Trigger,
    read_running,
)
from stash2plex.common.stash.client import StashClient
from stash2plex.reconciler import metrics
from stash2plex.reconciler.gaps import GapPublisher
from stash2plex.reconciler.history import PassHistory
from stash2plex.reconciler.lease import LeaseLostError, PassLease
from stash2plex.reconciler.passes import PassAbortedError, ReconciliationPass, Tally
from stash2plex.reconciler.plex_side import PlexReader
from stash2plex.reconciler.records import RecordReader
from stash2plex.reconciler.settings import ReconcilerSettings
from stash2plex.syncer.circuit import CircuitState
from stash2plex.syncer.errors import classify
from stash2plex.syncer.locks import this_process
from stash2plex.syncer.plex import connect
from stash2plex.syncer.plex_listing import PlexListing

log = logging.getLogger(__name__)

LEASE_REFRESH_S = 1.0
"""The lease (and the progress it carries) is rewritten this often while a pass runs."""
SCHEDULE_SKEW_S = 30.0
"""A pass that started this long before a scheduled moment still counts for it (replica clocks differ)."""

AlreadyDone = Callable[[PassHistory], Awaitable[str | None]]


def new_pass_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


class PlexConnection:
    """plexapi's server object for one pass, connected on first use (from the pass's threads)."""

    def __init__(self, settings: ReconcilerSettings) -> None:
        self.settings = settings
        self._server: Any = None

    def __call__(self) -> Any:
        if self._server is None:
            self._server = connect(self.settings.plex)
        return self._server


class Reconciler:
    """One per process; passes run in the background, one at a time across every replica."""

    def __init__(
        self,
        settings: ReconcilerSettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        clock_s: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings, self.options = settings, settings.reconciler
        self.clock, self.clock_s = clock, clock_s
        self.holder = this_process()
        self.js: JetStreamContext | None = None
        self.state: KeyValue | None = None
        self.locks: KeyValue | None = None
        self.history: PassHistory | None = None
        self.stash: StashClient | None = None
        self.running: asyncio.Task[None] | None = None
        self._loops: list[asyncio.Task[None]] = []
        self._stash_check = stash_check(settings)
        self._plex_check = plex_check(settings)

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self, js: JetStreamContext) -> None:
        """Called after every (re)connection once the topology exists; starts the schedule once."""
        self.js = js
        self.state = await js.key_value(topology.STATE_BUCKET)
        self.locks = await js.key_value(topology.LOCKS_BUCKET)
        self.history = PassHistory(self.state, self.options.history_size)
        if self._loops:
            return
        if not self.settings.missing_for("stash", "plex"):
            self.stash = await StashClient(self.settings.stash).__aenter__()
        self._loops.append(asyncio.create_task(self._schedule(), name="reconcile-schedule"))
        if self.options.startup_after_s > 0:
            self._loops.append(asyncio.create_task(self._startup(), name="reconcile-startup"))

    async def stop(self) -> None:
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        if self.running is not None and not self.running.done():
            self.running.cancel()  # the pass records itself as failed, then releases the lease
            await asyncio.gather(self.running, return_exceptions=True)
        if self.stash is not None:
            with contextlib.suppress(Exception):
                await self.stash.__aexit__(None, None, None)

    # -- control verbs ------------------------------------------------------------------------
    async def control_reconcile(self, request: dict[str, object]) -> dict[str, object]:
        scope = Scope(str(request.get("scope") or Scope.ALL.value))
        answer = await self.request_pass(scope, "manual")
        return answer.model_dump(mode="json")

    async def control_progress(self, _request: dict[str, object]) -> dict[str, object]:
        if self.js is None or self.history is None:
            raise RuntimeError("the reconciler is not connected to NATS yet")
        running = await read_running(self.js)
        passes = [] if running is not None else await self.history.passes()
        return ProgressAnswer(running=running, last=passes[-1] if passes else None).model_dump(mode="json")

    # -- starting a pass ------------------------------------------------------------------------
    async def request_pass(
        self, scope: Scope, trigger: Trigger, already_done: AlreadyDone | None = None
    ) -> ReconcileAnswer:
        """Start a pass in the background if it can run now; the answer says which, and why not."""
        missing = self.settings.missing_for("stash", "plex")
        if missing:
            return self._refused(scope, f"not configured: set {', '.join(missing)}")
        if self.locks is None or self.history is None or self.js is None or self.stash is None:
            return self._refused(scope, "not connected to NATS yet")
        now = self.clock()
        tally = Tally(pass_id=new_pass_id(now), scope=scope, trigger=trigger, holder=self.holder, started_at=now)
        lease = PassLease(self.locks)
        holder = await lease.acquire(tally.progress(now, self.clock_s()))
        if holder is not None:
            since = f"{holder.started_at:%H:%M:%S}"
            reason = f"a pass is already running: {holder.pass_id} on {holder.holder} since {since}"
            log.info("no %s pass: %s", trigger, reason)
            return self._refused(scope, reason, running=holder)
        try:
            if already_done is not None:
                done = await already_done(self.history)
                if done is not None:
                    await lease.release()
                    log.info("no %s pass: %s", trigger, done)
                    return ReconcileAnswer(started=False, scope=scope, reason=done)
            why_not = await self._cannot_run()
        except BaseException:
            await lease.release()
            raise
        if why_not is not None:
            await self._record(tally, "skipped", why_not)
            await lease.release()
            log.warning("reconciliation pass %s skipped: %s", tally.pass_id, why_not)
            return self._refused(scope, why_not, counted=False, pass_id=tally.pass_id)
        self.running = asyncio.create_task(self._run(tally, lease), name=f"pass-{tally.pass_id}")
        log.info("reconciliation pass %s started (%s, scope %s)", tally.pass_id, trigger, scope.value)
        return ReconcileAnswer(started=True, pass_id=tally.pass_id, scope=scope)

    def _refused(
        self,
        scope: Scope,
        reason: str,
        *,
        running: PassProgress | None = None,
        counted: bool = True,
        pass_id: str | None = None,
    ) -> ReconcileAnswer:
        if counted:
            metrics.PASSES.labels("skipped").inc()
        return ReconcileAnswer(started=False, scope=scope, reason=reason, running=running, pass_id=pass_id)

    async def _cannot_run(self) -> str | None:
        """Why no pass may start now: Plex's circuit open, Plex or Stash not answering (None: it may)."""
        circuit = await self.circuit_open()
        if circuit:
            return circuit
        limit = self.options.probe_timeout_s
        for name, check in (("Plex", self._plex_check), ("Stash", self._stash_check)):
            try:
                result = await asyncio.wait_for(check(), limit)
            except TimeoutError:
                return f"{name} is down: no answer within {limit:g}s"
            if not result.ok:
                return f"{name} is down: {result.detail}"
        return None

    async def circuit_open(self) -> str | None:
        """The syncer's circuit towards Plex, when it is open (no pass while Plex is down)."""
        if self.state is None:
            return None
        try:
            entry = await self.state.get(topology.CIRCUIT_KEY)
        except KeyNotFoundError:
            return None
        state = CircuitState.model_validate_json(entry.value or b"{}")
        if state.state != "open":
            return None
        return f"Plex is down: the syncer's circuit is open ({state.reason or 'no reason given'})"

    # -- running one ----------------------------------------------------------------------------
    async def _run(self, tally: Tally, lease: PassLease) -> None:
        assert self.js is not None
        assert self.stash is not None
        metrics.PASS_RUNNING.set(1)
        started = self.clock_s()
        await self.js.key_value(topology.SYNC_RECORDS_BUCKET)  # as before: no bucket, no pass
        records = RecordReader(self.js, self.options.concurrency)
        listing = PlexListing(PlexConnection(self.settings))
        reader = PlexReader(
            listing, self.settings.paths.mapper(), self.settings.syncer.match, self.options.plex_page_size
        )
        publisher = GapPublisher(self.js, self.options.concurrency)
        work = ReconciliationPass(
            self.settings, self.stash, records, reader, publisher, self.circuit_open, tally, self.clock_s
        )
        job = asyncio.create_task(work.run(), name="pass-work")
        keeper = asyncio.create_task(self._keep_lease(lease, tally, job), name="pass-lease")
        outcome: Outcome = "completed"
        reason: str | None = None
        try:
            await job
        except asyncio.CancelledError:
            outcome, reason = (
                "failed",
                (
                    "the lease was lost (another replica may run a pass)"
                    if keeper.done() and not keeper.cancelled()
                    else "the reconciler stopped during the pass"
                ),
            )
        except PassAbortedError as error:
            outcome, reason = "failed", str(error)
        except Exception as error:
            outcome, reason = "failed", classify(error).message
            log.exception("reconciliation pass %s failed", tally.pass_id)
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
            if not job.done():
                job.cancel()
                await asyncio.gather(job, return_exceptions=True)
            metrics.PASS_SECONDS.observe(self.clock_s() - started)
            metrics.PASS_RUNNING.set(0)
            with contextlib.suppress(Exception):
                await self._record(tally, outcome, reason)
            await lease.release()
        if outcome == "completed":
            metrics.LAST_PASS.set(time.time())
        log.info(
            "reconciliation pass %s %s: %d scene(s), %d Plex item(s), gaps %s%s",
            tally.pass_id,
            outcome,
            tally.scenes_compared,
            tally.plex_items,
            tally.gaps,
            f" ({reason})" if reason else "",
        )

    async def _keep_lease(self, lease: PassLease, tally: Tally, job: asyncio.Task[None]) -> None:
        while True:
            await asyncio.sleep(LEASE_REFRESH_S)
            try:
                await lease.refresh(tally.progress(self.clock(), self.clock_s()))
            except LeaseLostError as error:
                log.error("reconciliation pass %s stops: %s", tally.pass_id, error)
                job.cancel()
                return
            except Exception as error:  # the broker is reconnecting: try again next second
                log.debug("could not refresh the reconciliation lease: %s", error)

    async def _record(self, tally: Tally, outcome: Outcome, reason: str | None) -> None:
        assert self.history is not None
        record = PassRecord(
            pass_id=tally.pass_id,
            scope=tally.scope,
            trigger=tally.trigger,
            holder=tally.holder,
            started_at=tally.started_at,
            ended_at=max(self.clock(), tally.started_at),
            outcome=outcome,
            reason=reason,
            plex_items=tally.plex_items,
            scenes_compared=tally.scenes_compared,
            gaps=dict(tally.gaps),
            ambiguous=tally.ambiguous,
            scans=tally.scans,
        )
        await self.history.append(record)
        metrics.PASSES.labels(outcome).inc()

    # -- the schedule ---------------------------------------------------------------------------
    async def _schedule(self) -> None:
        schedule = self.options.schedule
        while schedule.enabled:
            due = schedule.next_after(self.clock())
            assert due is not None
            await self._sleep_until(due)

            async def handled(history: PassHistory, moment: datetime = due) -> str | None:
                earlier = await history.any_started_since(moment - timedelta(seconds=SCHEDULE_SKEW_S))
                return None if earlier is None else f"pass {earlier.pass_id} already ran for {moment:%H:%M}"

            try:
                await self.request_pass(self.options.scope, "schedule", handled)
            except Exception:
                log.exception("the scheduled reconciliation pass could not start")

    async def _sleep_until(self, moment: datetime) -> None:
        """Short naps rather than one long sleep: a machine woken from suspend still fires on time."""
        wait = (moment - self.clock()).total_seconds()
        while wait > 0:
            await asyncio.sleep(min(wait, 60.0))
            wait = (moment - self.clock()).total_seconds()

    async def _startup(self) -> None:
        limit = timedelta(seconds=self.options.startup_after_s)

        async def recent(history: PassHistory) -> str | None:
            last = await history.last_completed()
            if last is not None and self.clock() - last.ended_at < limit:
                return f"pass {last.pass_id} completed at {last.ended_at:%H:%M:%S}, less than {limit} ago"
            return None

        try:
            await self.request_pass(self.options.scope, "startup", recent)
        except Exception:
            log.exception("the start-up reconciliation pass could not start")
