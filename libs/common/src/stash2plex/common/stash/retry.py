"""How often and how long the Stash client retries a request Stash could not answer.

The budget is small on purpose: the services above have their own, slower retry
(the broker redelivers, the circuit breaker opens). This one only rides out a
blip: a busy SQLite database, a restart, one dropped connection.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from stash2plex.common.stash.errors import StashUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter, for transient failures only."""

    attempts: int = 4
    """Tries in all, the first one included (1 = never retry)."""
    initial_wait_s: float = 0.25
    max_wait_s: float = 2.0
    budget_s: float = 10.0
    """No new attempt starts once this much time has passed since the first."""

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.initial_wait_s < 0 or self.max_wait_s < self.initial_wait_s or self.budget_s <= 0:
            raise ValueError("waits must satisfy 0 <= initial_wait_s <= max_wait_s and budget_s > 0")

    def retrying(self, what: str) -> AsyncRetrying:
        """A tenacity loop that retries :class:`StashUnavailable` and re-raises anything else at once."""

        def _log(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome is not None else None
            wait = state.next_action.sleep if state.next_action is not None else 0.0
            log.warning(
                "stash request %s failed (attempt %d/%d), retrying in %.2fs: %s",
                what,
                state.attempt_number,
                self.attempts,
                wait,
                error,
            )

        return AsyncRetrying(
            retry=retry_if_exception_type(StashUnavailable),
            stop=stop_after_attempt(self.attempts) | stop_after_delay(self.budget_s),
            wait=wait_exponential_jitter(
                multiplier=self.initial_wait_s, max=self.max_wait_s, jitter=self.initial_wait_s
            ),
            before_sleep=_log,
            reraise=True,
        )
