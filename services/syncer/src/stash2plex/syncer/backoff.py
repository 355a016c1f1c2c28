"""Retry delays with full jitter, and when to give up, per error class.

Full jitter (a uniform delay between 0 and the exponential ceiling) spreads the retries of
many jobs that failed together, so a recovering Plex is not hit by them all at the same
instant. Each error class gives up by its own measure: a transient failure after a number of
deliveries, "not found" after a time window (Plex may scan the file later), a permanent one
at once, and a configuration failure never (it stops the flow instead of dead-lettering).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass

from stash2plex.common.contracts import ErrorClass

_RNG = random.Random()  # noqa: S311 - jitter needs no cryptographic randomness


@dataclass(frozen=True)
class RetryPolicy:
    """How one error class is retried; ``None`` means no limit by that measure."""

    base_s: float
    cap_s: float
    max_attempts: int | None
    """Deliveries after which the job is given up (1 = never retried)."""
    window_s: float | None
    """Seconds after the first failure after which the job is given up."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.base_s) and self.base_s > 0):
            raise ValueError(f"base_s must be a positive number, not {self.base_s}")
        if not (math.isfinite(self.cap_s) and self.cap_s >= self.base_s):
            raise ValueError(f"cap_s must be at least base_s ({self.base_s}), not {self.cap_s}")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {self.max_attempts}")
        if self.window_s is not None and not self.window_s > 0:
            raise ValueError(f"window_s must be positive, not {self.window_s}")


DEFAULT_POLICIES: dict[ErrorClass, RetryPolicy] = {
    ErrorClass.TRANSIENT: RetryPolicy(base_s=2, cap_s=300, max_attempts=12, window_s=None),
    ErrorClass.NOT_FOUND: RetryPolicy(base_s=60, cap_s=900, max_attempts=None, window_s=2 * 3600),
    ErrorClass.PERMANENT: RetryPolicy(base_s=1, cap_s=1, max_attempts=1, window_s=None),
    ErrorClass.CONFIGURATION: RetryPolicy(base_s=30, cap_s=300, max_attempts=None, window_s=None),
}

_FAILING = {
    ErrorClass.TRANSIENT: "failing",
    ErrorClass.NOT_FOUND: "not found",
    ErrorClass.PERMANENT: "failing",
    ErrorClass.CONFIGURATION: "misconfigured",
}


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    delay_s: float
    reason: str
    """Why the job is given up, worded to follow "dead-lettered after …"; empty when retried."""


def full_jitter_delay(policy: RetryPolicy, attempt: int, rng: random.Random | None = None) -> float:
    """A delay drawn uniformly from [0, min(cap, base·2^(attempt-1))]; ``attempt`` counts from 1."""
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, not {attempt}")
    exponent = attempt - 1
    # Compare exponents rather than computing 2**exponent, which overflows for large attempts.
    if exponent >= math.log2(policy.cap_s / policy.base_s):
        ceiling = policy.cap_s
    else:
        ceiling = min(policy.cap_s, math.ldexp(policy.base_s, exponent))
    return (rng or _RNG).uniform(0.0, ceiling)


def decide(
    error_class: ErrorClass,
    attempt: int,
    first_failure_at: float,
    now: float,
    policies: Mapping[ErrorClass, RetryPolicy] = DEFAULT_POLICIES,
    retry_after_s: float | None = None,
    rng: random.Random | None = None,
) -> RetryDecision:
    """Whether the delivery ``attempt`` that just failed is retried, and after how long.

    A server's Retry-After is a floor on the delay; the policy's window is a ceiling. When the
    two cannot both hold, the job is given up rather than retried too early or too late.
    """
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, not {attempt}")
    policy = policies[error_class]
    if policy.max_attempts is not None and attempt >= policy.max_attempts:
        if policy.max_attempts == 1:
            return RetryDecision(False, 0.0, f"1 attempt ({error_class.value} failures are not retried)")
        return RetryDecision(False, 0.0, f"{attempt} attempts")
    elapsed = max(0.0, now - first_failure_at)  # clocks of different hosts may disagree slightly
    remaining = math.inf
    if policy.window_s is not None:
        remaining = policy.window_s - elapsed
        if remaining <= 0:
            return RetryDecision(False, 0.0, f"{_FAILING[error_class]} for {human_duration(elapsed)}")
    delay = full_jitter_delay(policy, attempt, rng)
    if retry_after_s is not None and retry_after_s > 0:
        if retry_after_s >= remaining:
            return RetryDecision(
                False,
                0.0,
                f"{_FAILING[error_class]} for {human_duration(elapsed)} "
                f"(Plex asked to wait {human_duration(retry_after_s)}, beyond the retry window)",
            )
        delay = max(delay, retry_after_s)
    return RetryDecision(True, min(delay, remaining), "")


def human_duration(seconds: float) -> str:
    """A duration as a person would say it in a log line: "45 s", "15 min", "2 h"."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h".replace(".0 h", " h")
