"""The circuit breaker, shared by every syncer replica through one key in NATS KV.

CLOSED → OPEN after ``threshold`` consecutive failures of Plex itself → HALF_OPEN once a
health probe succeeds → CLOSED after the first job that succeeds. A configuration failure
(Plex rejects the token) opens it at once. While it is not CLOSED, replicas stop fetching
jobs, so an outage burns no retries and sends nothing to the dead-letter queue.

Every transition is a compare-and-swap on the key's revision, so two replicas seeing the
same failures agree on one state, and the state survives restarts of any process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Literal

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from pydantic import BaseModel

from stash2plex.common import topology
from stash2plex.syncer import metrics

log = logging.getLogger(__name__)

State = Literal["closed", "open", "half_open"]
STATE_VALUE = {"closed": 0, "half_open": 1, "open": 2}
STOP_TIMEOUT_S = 2.0
CAS_TRIES = 20


class CircuitState(BaseModel):
    state: State = "closed"
    failures: int = 0
    reason: str = ""
    configuration: bool = False
    """Opened because of something only the operator can fix (a wrong token)."""
    opened_at: float | None = None
    updated_at: float = 0.0


class Transition(BaseModel):
    before: CircuitState
    after: CircuitState

    @property
    def opened(self) -> bool:
        return self.before.state != "open" and self.after.state == "open"

    @property
    def closed(self) -> bool:
        return self.before.state != "closed" and self.after.state == "closed"


class Circuit:
    """One replica's view of the shared breaker; ``state`` follows the KV key through a watcher."""

    def __init__(self, kv: KeyValue, threshold: int, clock: Callable[[], float] = time.time) -> None:
        self.kv, self.threshold, self.clock = kv, threshold, clock
        self.state = CircuitState()
        self.changed = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None

    @property
    def key(self) -> str:
        return topology.CIRCUIT_KEY

    @property
    def allows_work(self) -> bool:
        return self.state.state != "open"

    async def start(self) -> None:
        self.state = await self._read()
        self._publish_metrics()
        self._watcher = asyncio.create_task(self._watch(), name="circuit-watch")

    async def stop(self) -> None:
        """Stop following the shared state; bounded, so a broker that stopped answering cannot hold up a shutdown."""
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError, Exception):
                await asyncio.wait_for(asyncio.shield(self._watcher), STOP_TIMEOUT_S)

    async def _read(self) -> CircuitState:
        try:
            entry = await self.kv.get(self.key)
        except KeyNotFoundError:
            return CircuitState()
        return CircuitState.model_validate_json(entry.value or b"{}")

    async def _watch(self) -> None:
        watcher = await self.kv.watch(self.key)
        try:
            async for entry in watcher:
                if entry is None or not entry.value:
                    continue
                self._set(CircuitState.model_validate_json(entry.value))
        finally:
            with contextlib.suppress(Exception):
                await watcher.stop()  # type: ignore[no-untyped-call]

    def _set(self, state: CircuitState) -> None:
        if state != self.state:
            self.state = state
            self._publish_metrics()
            self.changed.set()
            self.changed = asyncio.Event()

    def _publish_metrics(self) -> None:
        metrics.CIRCUIT_STATE.set(STATE_VALUE[self.state.state])

    async def wait_for_change(self, timeout_s: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.changed.wait(), timeout_s)

    async def _update(self, change: Callable[[CircuitState], CircuitState | None]) -> Transition | None:
        """Apply ``change`` with compare-and-swap; None when it decided nothing changes."""
        for _ in range(CAS_TRIES):
            try:
                entry = await self.kv.get(self.key)
                current = CircuitState.model_validate_json(entry.value or b"{}")
                revision: int | None = entry.revision
            except KeyNotFoundError:
                current, revision = CircuitState(), None
            wanted = change(current)
            if wanted is None:
                self._set(current)
                return None
            wanted = wanted.model_copy(update={"updated_at": self.clock()})
            try:
                if revision is None:
                    await self.kv.create(self.key, wanted.model_dump_json().encode())
                else:
                    await self.kv.update(self.key, wanted.model_dump_json().encode(), last=revision)
            except KeyWrongLastSequenceError:
                continue  # another replica changed it first: decide again on its value
            self._set(wanted)
            return Transition(before=current, after=wanted)
        raise RuntimeError("the circuit key changes too fast to update")

    async def record_success(self) -> Transition | None:
        def change(current: CircuitState) -> CircuitState | None:
            if current.state == "closed" and current.failures == 0:
                return None
            return CircuitState(state="closed")

        if self.state.state == "closed" and self.state.failures == 0:
            return None  # the common case costs no KV round trip
        return await self._update(change)

    async def record_failure(self, reason: str) -> Transition | None:
        def change(current: CircuitState) -> CircuitState | None:
            failures = current.failures + 1
            if current.state == "open":
                return None
            if current.state == "half_open" or failures >= self.threshold:
                return CircuitState(state="open", failures=failures, reason=reason, opened_at=self.clock())
            return current.model_copy(update={"failures": failures, "reason": reason})

        return await self._update(change)

    async def block(self, reason: str) -> Transition | None:
        """Open at once for a configuration failure (a wrong token): retrying would not help."""

        def change(current: CircuitState) -> CircuitState | None:
            if current.state == "open" and current.configuration and current.reason == reason:
                return None
            opened_at = current.opened_at if current.state == "open" else self.clock()
            return CircuitState(state="open", reason=reason, configuration=True, opened_at=opened_at)

        return await self._update(change)

    async def probe_succeeded(self) -> Transition | None:
        """OPEN → HALF_OPEN: let a trickle of jobs through to confirm recovery."""

        def change(current: CircuitState) -> CircuitState | None:
            if current.state != "open":
                return None
            return current.model_copy(update={"state": "half_open", "configuration": False, "failures": 0})

        return await self._update(change)
