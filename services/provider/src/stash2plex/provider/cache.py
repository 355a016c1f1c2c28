"""Bounded answer caches and request coalescing, so a Plex scan does not become a Stash load test.

:class:`TtlCache` keeps at most ``max_entries`` values for at most ``ttl_s`` seconds, evicting
the least recently used first. :class:`SingleFlight` makes concurrent callers with the same
key share one computation: fifty identical lookups during a scan cost Stash one query.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from stash2plex.provider import metrics

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MISSING = object()


class TtlCache(Generic[K, V]):
    """LRU with a time to live; counts hits and misses under ``name`` (``ttl_s=0`` keeps nothing)."""

    def __init__(self, name: str, max_entries: int, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.name = name
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._hits = metrics.CACHE_LOOKUPS.labels(name, "hit")
        self._misses = metrics.CACHE_LOOKUPS.labels(name, "miss")

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K, default: V | None = None) -> V | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self._clock():
            if entry is not None:
                del self._entries[key]
            self._misses.inc()
            return default
        self._entries.move_to_end(key)
        self._hits.inc()
        return entry[1]

    def lookup(self, key: K) -> tuple[bool, V | None]:
        """(found, value): for caches that also remember "Stash has none" as ``None``."""
        value = self.get(key, _MISSING)  # type: ignore[arg-type]
        if value is _MISSING:
            return False, None
        return True, value

    def put(self, key: K, value: V) -> None:
        if self.ttl_s <= 0:
            return
        self._entries[key] = (self._clock() + self.ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


class SingleFlight(Generic[K, V]):
    """At most one computation per key at a time; callers that arrive meanwhile await its result.

    The computation runs as its own task, so a caller that gives up (Plex closed the
    connection) cancels neither it nor the others waiting for it.
    """

    def __init__(self, name: str) -> None:
        self._pending: dict[K, asyncio.Future[V]] = {}
        self._shared = metrics.COALESCED.labels(name)

    def __len__(self) -> int:
        return len(self._pending)

    async def run(self, key: K, compute: Callable[[], Awaitable[V]]) -> V:
        pending = self._pending.get(key)
        if pending is not None:
            self._shared.inc()
            return await asyncio.shield(pending)
        task: asyncio.Future[V] = asyncio.ensure_future(compute())
        self._pending[key] = task
        task.add_done_callback(lambda done: self._finished(key, done))
        return await asyncio.shield(task)

    def _finished(self, key: K, task: asyncio.Future[V]) -> None:
        if self._pending.get(key) is task:
            del self._pending[key]
        if not task.cancelled():
            task.exception()  # retrieved: no "never retrieved" warning when every caller went away
