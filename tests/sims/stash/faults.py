"""Failures a test can switch on while the simulator runs (thread-safe).

"Down" is not here: a refused connection needs the listener closed, which the
server object does (:meth:`tests.sims.stash.server.StashSim.stop`).
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

DATABASE_LOCKED = "database is locked"


class Faults:
    """Switches read by every request; each setter returns ``self`` so calls chain."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = 0
        self.reset()

    def reset(self) -> Faults:
        """Everything off; also wakes requests sleeping in a ``slow`` fault."""
        with self._lock:
            self.latency_s = 0.0
            self.unauthorized = False
            self.db_locked_remaining = 0
            self.error_status: int | None = None
            self.error_remaining = 0
            self._generation += 1
        return self

    def slow(self, seconds: float) -> Faults:
        """Answer every request (GraphQL and images) only after ``seconds``."""
        with self._lock:
            self.latency_s = seconds
        return self

    def reject_all(self, on: bool = True) -> Faults:
        """Answer 401 to everything, whatever key is sent (a revoked key)."""
        with self._lock:
            self.unauthorized = on
        return self

    def lock_database(self, times: int | None = None) -> Faults:
        """Answer GraphQL requests with Stash's "database is locked" error: the next ``times``, or all (None)."""
        with self._lock:
            self.db_locked_remaining = -1 if times is None else times
        return self

    def fail_with_status(self, status: int, times: int | None = None) -> Faults:
        """Answer the next ``times`` requests (or all) with this HTTP status, e.g. 502 from a proxy."""
        with self._lock:
            self.error_status = status
            self.error_remaining = -1 if times is None else times
        return self

    def update(self, settings: dict[str, Any]) -> Faults:
        """Apply the JSON body of ``POST /__sim/faults``."""
        if settings.get("reset"):
            self.reset()
        if "slow_s" in settings:
            self.slow(float(settings["slow_s"]))
        if "unauthorized" in settings:
            self.reject_all(bool(settings["unauthorized"]))
        if "db_locked" in settings:
            value = settings["db_locked"]
            self.lock_database(None if value is True or value == -1 else int(value or 0))
        if "status" in settings:
            if settings["status"] is None:
                with self._lock:
                    self.error_status, self.error_remaining = None, 0
            else:
                self.fail_with_status(int(settings["status"]), settings.get("status_times"))
        return self

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "slow_s": self.latency_s,
                "unauthorized": self.unauthorized,
                "db_locked": self.db_locked_remaining,
                "status": self.error_status,
                "status_times": self.error_remaining,
            }

    # -- used by the server ------------------------------------------------------------------

    def take_db_locked(self) -> bool:
        """Whether this request gets the locked-database error (counts it down)."""
        with self._lock:
            if self.db_locked_remaining == 0:
                return False
            if self.db_locked_remaining > 0:
                self.db_locked_remaining -= 1
            return True

    def take_error_status(self) -> int | None:
        with self._lock:
            if self.error_status is None or self.error_remaining == 0:
                return None
            if self.error_remaining > 0:
                self.error_remaining -= 1
            return self.error_status

    async def delay(self) -> None:
        """Sleep for the ``slow`` latency; cut short when the faults are reset or the server stops."""
        with self._lock:
            seconds, generation = self.latency_s, self._generation
        deadline = time.monotonic() + seconds
        # Polled, not an asyncio.Event: the wake-up comes from other threads (tests, shutdown).
        while time.monotonic() < deadline and self._generation == generation:  # noqa: ASYNC110
            await asyncio.sleep(min(0.02, max(0.0, deadline - time.monotonic())))

    def release_sleepers(self) -> None:
        """Wake requests sleeping in :meth:`delay` (before a shutdown) without changing the settings."""
        with self._lock:
            self._generation += 1
