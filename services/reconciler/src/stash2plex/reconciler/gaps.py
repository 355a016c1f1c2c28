"""Publishing a pass's gaps on ``GAPS``: one message per gap, deduplicated per pass, a bounded number in flight.

The ``Nats-Msg-Id`` is ``gap:<kind>:<item>:<pass id>`` (:attr:`Gap.msg_id`): a publish retried after a
timeout (which may have been stored) is dropped as a duplicate, while the next pass's gap for the same
item is a new message that replaces the old one (one message per subject).
"""

from __future__ import annotations

import asyncio
import logging

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext

from stash2plex.common.contracts import Gap
from stash2plex.reconciler import metrics

log = logging.getLogger(__name__)

PUBLISH_TRIES = 5


class GapPublisher:
    """Publishes in the background, at most ``limit`` awaiting their acknowledgement; :meth:`flush` waits."""

    def __init__(self, js: JetStreamContext, limit: int) -> None:
        self.js = js
        self.slots = asyncio.Semaphore(limit)
        self.tasks: set[asyncio.Task[None]] = set()
        self.failed: BaseException | None = None
        self.published = 0

    async def publish(self, gap: Gap) -> None:
        if self.failed is not None:
            raise self.failed
        await self.slots.acquire()
        task = asyncio.create_task(self._send(gap))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _send(self, gap: Gap) -> None:
        try:
            for attempt in range(1, PUBLISH_TRIES + 1):
                try:
                    await self.js.publish(gap.subject, gap.to_bytes(), headers={"Nats-Msg-Id": gap.msg_id})
                    break
                except (NatsTimeoutError, TimeoutError):
                    if attempt == PUBLISH_TRIES:
                        raise
                    await asyncio.sleep(0.2 * attempt)  # same id again: a stored first try is a duplicate
            self.published += 1
            metrics.GAPS_FOUND.labels(gap.kind.value).inc()
        except Exception as error:
            log.warning("could not publish a %s gap: %s", gap.kind.value, error)
            self.failed = self.failed or error
        finally:
            self.slots.release()

    async def flush(self) -> None:
        """Wait for every publish; raise the first failure."""
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.failed is not None:
            raise self.failed
