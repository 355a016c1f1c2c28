"""Lookups that arrive together go to Stash (or Plex) together.

A library scan makes Plex ask about many files at once. A :class:`Batcher` sends the first
key at once, on the next turn of the event loop, with every key that arrived in the same
turn; while ``in_flight`` queries run, new keys wait and go out together in the next one.
So a lone request waits for nothing, and fifty concurrent ones cost a handful of queries.

A burst reaches the batcher over a few milliseconds, a few keys per turn, while the process
parses and routes the rest of it. With ``settle_turns`` set, a new batch goes out only once
that many turns of the loop brought no new key (or it is full, or ``max_linger_s`` passed):
one query for the whole burst instead of a small one, a middling one and the rest waiting
for a free slot. A lone key waits those few turns only, microseconds on an idle loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

V = TypeVar("V")

FetchMany = Callable[[list[str]], Awaitable[dict[str, V]]]


class Batcher(Generic[V]):
    """Collects keys and fetches them with ``fetch_many`` (which answers every key it was given)."""

    def __init__(
        self,
        fetch_many: FetchMany[V],
        *,
        max_batch: int,
        in_flight: int,
        settle_turns: int = 0,
        max_linger_s: float = 0.005,
    ) -> None:
        if max_batch < 1 or in_flight < 1:
            raise ValueError("max_batch and in_flight must be at least 1")
        if settle_turns < 0 or max_linger_s < 0:
            raise ValueError("settle_turns and max_linger_s cannot be negative")
        self._fetch_many = fetch_many
        self._max_batch = max_batch
        self._in_flight = in_flight
        self._settle_turns = settle_turns
        self._max_linger_s = max_linger_s
        self._waiting: dict[str, asyncio.Future[V]] = {}
        self._running = 0
        self._scheduled = False
        self._arrivals = 0  # keys ever added: a change between two turns means keys are still coming
        self._seen = 0
        self._quiet_turns = 0
        self._opened_at = 0.0

    async def get(self, key: str) -> V:
        """The value for ``key``; concurrent callers of one key must be coalesced by the caller."""
        future = self._waiting.get(key)
        if future is None:
            loop = asyncio.get_running_loop()
            future = self._waiting[key] = loop.create_future()
            self._arrivals += 1
            if not self._scheduled and self._running < self._in_flight:
                self._scheduled = True
                if self._settle_turns:
                    self._seen, self._quiet_turns, self._opened_at = self._arrivals, 0, time.monotonic()
                    loop.call_soon(self._settle)
                else:
                    loop.call_soon(self._send)
        return await asyncio.shield(future)

    def _settle(self) -> None:
        """Once a turn: send when keys stopped coming, the batch is full or it lingered long enough."""
        if self._arrivals != self._seen:
            self._seen, self._quiet_turns = self._arrivals, 0
        else:
            self._quiet_turns += 1
        if (
            self._quiet_turns < self._settle_turns
            and len(self._waiting) < self._max_batch
            and time.monotonic() - self._opened_at < self._max_linger_s
        ):
            asyncio.get_running_loop().call_soon(self._settle)
            return
        self._send()

    def _send(self) -> None:
        self._scheduled = False
        while self._waiting and self._running < self._in_flight:
            keys = list(self._waiting)[: self._max_batch]
            futures = {key: self._waiting.pop(key) for key in keys}
            self._running += 1
            task = asyncio.ensure_future(self._run(futures))
            task.add_done_callback(self._done)

    def _done(self, _task: asyncio.Future[None]) -> None:
        self._running -= 1
        if self._waiting and not self._scheduled:
            self._send()

    async def _run(self, futures: dict[str, asyncio.Future[V]]) -> None:
        try:
            values = await self._fetch_many(list(futures))
        except Exception as error:
            for future in futures.values():
                if not future.done():
                    future.set_exception(error)
                    future.exception()  # retrieved: a caller that went away leaves no warning behind
            return
        except BaseException:
            for future in futures.values():
                future.cancel()
            raise
        for key, future in futures.items():
            if not future.done():
                future.set_result(values[key])
