"""Adaptive concurrency: as many jobs in flight as Plex handles quickly, within configured bounds.

AIMD, as in TCP and Netflix's concurrency-limits: the limit grows by one after a run of fast
successes and shrinks multiplicatively on congestion, so it settles just below the point
where Plex starts to slow down. The rules:

* ``increase_every`` consecutive successes faster than the target latency: +1.
* A success slower than twice the target (congestion): limit × 3/4.
* A failure: limit ÷ 2.
* A success between the target and twice the target: no change, but it breaks the run.
* After a decrease from ``n``, the next ``n - 1`` outcomes (the other jobs that may have been
  in flight when Plex slowed down) cannot decrease it again: one congestion event costs one decrease,
  like TCP's once per round trip, instead of collapsing the limit to the minimum.
"""

from __future__ import annotations

import asyncio
import contextlib
import math


class AdaptiveLimit:
    """The limit itself, without any waiting: feed it outcomes, read ``limit``."""

    def __init__(
        self,
        *,
        minimum: int,
        maximum: int,
        initial: int | None = None,
        target_latency_s: float,
        increase_every: int = 10,
    ) -> None:
        if minimum < 1:
            raise ValueError(f"minimum must be at least 1, not {minimum}")
        if maximum < minimum:
            raise ValueError(f"maximum ({maximum}) must not be below minimum ({minimum})")
        if initial is not None and not minimum <= initial <= maximum:
            raise ValueError(f"initial ({initial}) must lie between {minimum} and {maximum}")
        if not (math.isfinite(target_latency_s) and target_latency_s > 0):
            raise ValueError(f"target_latency_s must be positive, not {target_latency_s}")
        if increase_every < 1:
            raise ValueError(f"increase_every must be at least 1, not {increase_every}")
        self.minimum, self.maximum = minimum, maximum
        self.target_latency_s, self.increase_every = target_latency_s, increase_every
        self._limit = minimum if initial is None else initial  # start gently; grow while Plex keeps up
        self._fast_run = 0
        self._shield = 0

    @property
    def limit(self) -> int:
        return self._limit

    def on_success(self, latency_s: float) -> None:
        """A job succeeded after ``latency_s`` seconds."""
        shielded = self._take_shield()
        if latency_s > 2 * self.target_latency_s:
            self._fast_run = 0
            if not shielded:
                self._decrease(self._limit * 3 // 4)
        elif latency_s < self.target_latency_s:
            self._fast_run += 1
            if self._fast_run >= self.increase_every:
                self._fast_run = 0
                self._limit = min(self.maximum, self._limit + 1)
        else:
            self._fast_run = 0

    def on_failure(self) -> None:
        """A job failed in a way that says Plex is overloaded (timeout, 5xx, 429)."""
        shielded = self._take_shield()
        self._fast_run = 0
        if not shielded:
            self._decrease(self._limit // 2)

    def _take_shield(self) -> bool:
        """Whether this outcome belongs to a job already in flight at the last decrease."""
        if self._shield > 0:
            self._shield -= 1
            return True
        return False

    def _decrease(self, to: int) -> None:
        before, self._limit = self._limit, max(self.minimum, to)
        if self._limit < before:
            self._shield = before - 1  # the other jobs that may have been running at the time


class AdaptiveSemaphore:
    """An asyncio gate that never lets more than ``per_unit × limit.limit`` jobs run at once.

    When the limit shrinks below the jobs in flight, nobody is interrupted: new jobs wait
    until enough have finished. Waiters are served first come, first served.
    """

    def __init__(self, limit: AdaptiveLimit, per_unit: int = 1) -> None:
        if per_unit < 1:
            raise ValueError(f"per_unit must be at least 1, not {per_unit}")
        self.limit = limit
        self.per_unit = per_unit
        self._in_flight = 0
        self._waiters: list[asyncio.Future[None]] = []
        self._watchers: list[asyncio.Future[None]] = []

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def capacity(self) -> int:
        return self.limit.limit * self.per_unit

    def _has_room(self) -> bool:
        return self._in_flight < self.capacity

    async def acquire(self) -> None:
        """Wait for a free slot and take it."""
        if self._has_room() and not self._waiters:
            self._in_flight += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter  # release() takes the slot on our behalf before waking us
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # granted a slot, then cancelled: give it back
                self._in_flight -= 1
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)
            self._wake()
            raise

    def release(self, latency_s: float | None, ok: bool) -> None:
        """Free a slot and tell the limit how the job went.

        ``ok=False`` is a sign of overload and lowers the limit; ``ok=True`` with a latency may
        raise or lower it; ``ok=True`` without one (the outcome says nothing about Plex's load)
        leaves it alone.
        """
        if self._in_flight <= 0:
            raise RuntimeError("release() without a matching acquire()")
        self._in_flight -= 1
        if not ok:
            self.limit.on_failure()
        elif latency_s is not None:
            self.limit.on_success(latency_s)
        self._wake()

    async def wait_for_slot(self) -> None:
        """Wait until a slot is free, without taking it (to size the next fetch)."""
        while not self._has_room() or self._waiters:
            watcher = asyncio.get_running_loop().create_future()
            self._watchers.append(watcher)
            try:
                await watcher
            finally:
                with contextlib.suppress(ValueError):
                    self._watchers.remove(watcher)

    def _wake(self) -> None:
        while self._waiters and self._has_room():
            waiter = self._waiters.pop(0)
            if not waiter.done():
                self._in_flight += 1
                waiter.set_result(None)
        if self._has_room() and not self._waiters:
            for watcher in self._watchers:
                if not watcher.done():
                    watcher.set_result(None)
            self._watchers.clear()
