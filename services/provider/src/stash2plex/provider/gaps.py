"""Gaps the provider sees while Plex scans, published to the GAPS stream without delaying Plex.

* ``missing_in_stash``: Plex scanned a file no Stash scene has. A match request does not
  carry the Plex item's ratingKey, so the gap's item id is derived from the file path
  (``file-<hash>``) and the path itself is in ``plex_path``.
* ``plex_empty``: the file matched a scene Stash knows nothing about yet (no title, date,
  details, studio, performers or tags), so the Plex item will show only a file name.

The same gap is not published again within ``gap_repeat_s`` (a library rescan asks about
every file again). Publishing never fails a request: when NATS is away the gap is counted
as failed, logged, and dropped (the reconciler finds it on its next pass).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict

from stash2plex.common.contracts import Gap
from stash2plex.common.runtime import ServiceRuntime
from stash2plex.common.subjects import GapKind
from stash2plex.provider import metrics

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT_S = 2.0
REMEMBERED = 10_000


def file_key(plex_path: str) -> str:
    """A stable subject token for a file Plex knows by ``plex_path``."""
    return "file-" + hashlib.sha256(plex_path.encode("utf-8", "surrogatepass")).hexdigest()[:24]


class GapPublisher:
    """Publishes gaps in the background through the service's JetStream connection."""

    def __init__(self, runtime: ServiceRuntime, enabled: bool, repeat_s: float) -> None:
        self._runtime = runtime
        self._enabled = enabled
        self._repeat_s = repeat_s
        self._published: OrderedDict[str, float] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    def missing_in_stash(self, plex_path: str, stash_path: str | None) -> None:
        detail = "no Stash scene has this file"
        if stash_path and stash_path != plex_path:
            detail += f" (looked for it in Stash at {stash_path})"
        self._submit(Gap(kind=GapKind.MISSING_IN_STASH, plex_rating_key=file_key(plex_path), plex_path=plex_path,
                         detail=detail))  # fmt: skip

    def empty_scene(self, scene_id: str, plex_path: str | None) -> None:
        detail = "Stash has no metadata for this scene yet; Plex shows only the file name"
        self._submit(Gap(kind=GapKind.PLEX_EMPTY, scene_id=scene_id, plex_path=plex_path, detail=detail))

    async def drain(self) -> None:
        """Wait for gaps being published (at shutdown, while NATS is still connected)."""
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=PUBLISH_TIMEOUT_S)

    def _submit(self, gap: Gap) -> None:
        if not self._enabled:
            return
        key = f"{gap.kind.value}:{gap.item_id}"
        now = time.monotonic()
        last = self._published.get(key)
        if last is not None and now - last < self._repeat_s:
            return
        self._published[key] = now
        self._published.move_to_end(key)
        while len(self._published) > REMEMBERED:
            self._published.popitem(last=False)
        task = asyncio.create_task(self._publish(gap, key), name="provider-gap")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self, gap: Gap, key: str) -> None:
        js, nc = self._runtime.js, self._runtime.nc
        try:
            if js is None or nc is None or not nc.is_connected:
                raise ConnectionError("not connected to NATS")
            await js.publish(
                gap.subject, gap.to_bytes(), timeout=PUBLISH_TIMEOUT_S, headers={"Nats-Msg-Id": gap.msg_id}
            )
        except Exception as problem:
            self._published.pop(key, None)  # try again the next time Plex asks
            metrics.GAPS.labels(gap.kind.value, "failed").inc()
            log.warning("could not publish a %s gap: %s: %s", gap.kind.value, type(problem).__name__, problem)
            return
        metrics.GAPS.labels(gap.kind.value, "published").inc()
        log.info("gap %s published for %s", gap.kind.value, gap.item_id)
