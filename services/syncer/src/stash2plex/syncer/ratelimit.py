"""A token bucket whose rate ramps up after an outage.

When Plex comes back, every job held during the outage is waiting. Sending them all at once
can knock Plex over again, so on recovery the rate starts low and climbs linearly to its
steady value (or, when the bucket is normally unlimited, to ``ramp_to_rate``, after which
it is unlimited again).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

MIN_WAIT_S = 0.001
"""Shortest wait handed out, so rounding can never make a caller spin."""
TOKEN_EPSILON = 1e-9
"""A token short by less than this is whole: waiting exactly as told must yield one."""


class RampingTokenBucket:
    """Rate limiting in tokens per second; one token per job.

    The bucket holds at most ``burst`` tokens and is full when a ramp starts, so ``burst``
    jobs may go at once on recovery before the start rate applies.
    """

    def __init__(
        self,
        *,
        steady_rate: float | None,
        start_rate: float,
        ramp_s: float,
        burst: float,
        ramp_to_rate: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if steady_rate is not None and not steady_rate > 0:
            raise ValueError(f"steady_rate must be positive or None, not {steady_rate}")
        if steady_rate is not None and ramp_to_rate is not None:
            raise ValueError("ramp_to_rate applies only to an unlimited bucket: the ramp climbs to steady_rate")
        if not (math.isfinite(start_rate) and start_rate > 0):
            raise ValueError(f"start_rate must be positive, not {start_rate}")
        if not (math.isfinite(ramp_s) and ramp_s >= 0):
            raise ValueError(f"ramp_s must not be negative, not {ramp_s}")
        if not burst >= 1:
            raise ValueError(f"burst must be at least one token, not {burst}")
        if steady_rate is not None:
            target = steady_rate
        else:
            target = ramp_to_rate if ramp_to_rate is not None else 10 * start_rate
        if not target >= start_rate:
            raise ValueError(f"the ramp must climb: start_rate {start_rate} is above its target {target}")
        self.steady_rate, self.start_rate, self.target_rate = steady_rate, start_rate, target
        self.ramp_s, self.burst = ramp_s, burst
        self._clock, self._sleep = clock, sleep
        self._ramp_end: float | None = None
        self._tokens = burst
        self._updated = clock()

    # -- the rate over time --------------------------------------------------------------------
    def start_ramp(self) -> None:
        """Plex has recovered: restart from ``start_rate`` with a full bucket."""
        now = self._clock()
        self._ramp_end = now + self.ramp_s if self.ramp_s > 0 else None
        self._tokens, self._updated = self.burst, now

    @property
    def ramping(self) -> bool:
        return self._in_ramp(self._clock())

    def current_rate(self) -> float | None:
        """Tokens per second right now; ``None`` when unlimited."""
        now = self._clock()
        return self._ramp_rate(now) if self._in_ramp(now) else self.steady_rate

    def _in_ramp(self, t: float) -> bool:
        return self._ramp_end is not None and t < self._ramp_end

    def _ramp_rate(self, t: float) -> float:
        assert self._ramp_end is not None
        into = min(self.ramp_s, max(0.0, t - (self._ramp_end - self.ramp_s)))
        return self.start_rate + self._slope() * into

    def _slope(self) -> float:
        return (self.target_rate - self.start_rate) / self.ramp_s

    # -- tokens --------------------------------------------------------------------------------
    def _earned(self, t0: float, t1: float) -> float:
        """Tokens earned between ``t0`` and ``t1``: the integral of the rate (infinite if unlimited)."""
        earned = 0.0
        if self._ramp_end is not None and t0 < self._ramp_end:
            until = min(t1, self._ramp_end)
            earned += (until - t0) * (self._ramp_rate(t0) + self._ramp_rate(until)) / 2  # the rate is linear
            t0 = until
        if t1 > t0:
            earned += math.inf if self.steady_rate is None else (t1 - t0) * self.steady_rate
        return earned

    def try_acquire(self) -> float:
        """Take a token: 0.0 when one was taken, else the seconds until one is available."""
        now = self._clock()
        if now > self._updated:
            self._tokens = min(self.burst, self._tokens + self._earned(self._updated, now))
            self._updated = now
        if not self._in_ramp(now) and self.steady_rate is None:
            return 0.0  # unlimited: tokens are not counted
        if self._tokens >= 1 - TOKEN_EPSILON:
            self._tokens = max(0.0, self._tokens - 1)
            return 0.0
        return max(MIN_WAIT_S, self._wait_for(1 - self._tokens, now))

    def _wait_for(self, deficit: float, now: float) -> float:
        """Seconds until ``deficit`` more tokens have been earned, following the ramp."""
        if self._ramp_end is not None and now < self._ramp_end:
            left = self._ramp_end - now
            during_ramp = self._earned(now, self._ramp_end)
            if deficit <= during_ramp:
                # solve rate·w + slope·w²/2 = deficit for w, in the form that stays exact for slope → 0
                rate, slope = self._ramp_rate(now), self._slope()
                return 2 * deficit / (math.sqrt(rate * rate + 2 * slope * deficit) + rate)
            if self.steady_rate is None:
                return left  # unlimited once the ramp ends
            return left + (deficit - during_ramp) / self.steady_rate
        assert self.steady_rate is not None  # an unlimited bucket never waits
        return deficit / self.steady_rate

    async def acquire(self) -> None:
        """Wait until a token is available and take it."""
        while (wait := self.try_acquire()) > 0:
            await self._sleep(wait)
