"""The syncer's concurrency bound is on Plex requests, not on jobs.

What a home Plex feels is how many requests it is answering at once, so that is what the
adaptive limit (:mod:`.concurrency`) counts: every request of the syncer's Plex session waits
here for a slot, and its answer moves the limit — a fast answer counts towards a raise, a
slow one or an overload (a 429, a 5xx, a timeout, a refused connection) lowers it. A job
spends part of its life on Stash, NATS and its own work; because those moments hold no Plex
slot, the slots stay busy and throughput approaches ``limit / Plex latency`` requests per second.

The gate sits in the ``requests`` transport adapter, below plexapi, so every path to Plex
(plexapi's own calls and the raw reads) passes it. Requests run in worker threads, hence a
``threading.Condition``; the asyncio side only reads the limit.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import requests
import requests.adapters

from stash2plex.syncer import metrics
from stash2plex.syncer.concurrency import AdaptiveLimit


def overloaded(status: int) -> bool:
    """A status by which Plex says it cannot keep up (or is failing)."""
    return status == 429 or status >= 500


class PlexGate:
    """At most ``limit.limit`` Plex requests at once across threads; each outcome feeds the limit."""

    def __init__(self, limit: AdaptiveLimit) -> None:
        self.limit = limit
        self._changed = threading.Condition()
        self._in_flight = 0
        self._local = threading.local()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def enter(self) -> None:
        with self._changed:
            while self._in_flight >= self.limit.limit:
                self._changed.wait()
            self._in_flight += 1

    def leave(self, latency_s: float, overload: bool) -> None:
        metrics.PLEX_REQUEST_SECONDS.observe(latency_s)
        with self._changed:
            self._in_flight -= 1
            if overload:
                self.limit.on_failure()
            elif getattr(self._local, "measured", True):
                self.limit.on_success(latency_s)
            self._changed.notify_all()

    @contextlib.contextmanager
    def unmeasured(self) -> Iterator[None]:
        """Requests made in this block take slots but say nothing of Plex's speed (a 2,500-item page
        is slow by nature); overloads still count."""
        before = getattr(self._local, "measured", True)
        self._local.measured = False
        try:
            yield
        finally:
            self._local.measured = before


class GatedAdapter(requests.adapters.HTTPAdapter):
    """An HTTP adapter whose every request passes a :class:`PlexGate`."""

    def __init__(self, gate: PlexGate, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gate = gate

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        self.gate.enter()
        started = time.perf_counter()
        overload = True  # an exception (refused, timed out) is an overload unless the answer says otherwise
        try:
            response = super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies)
            overload = overloaded(response.status_code)
            return response
        finally:
            self.gate.leave(time.perf_counter() - started, overload)
