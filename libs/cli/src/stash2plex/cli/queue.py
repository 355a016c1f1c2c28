"""``stash2plex queue``: the pending work, and dropping it."""

from __future__ import annotations

from stash2plex.cli.broker import jetstream
from stash2plex.common import queue
from stash2plex.common.queue import PendingWork


async def pending(url: str) -> PendingWork:
    async with jetstream(url) as js:
        return await queue.pending(js)


async def clear(url: str) -> PendingWork:
    async with jetstream(url) as js:
        return await queue.clear(js)
