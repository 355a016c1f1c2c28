"""One sync job, end to end: read the scene and its sync record, skip it when nothing changed,
else let the writer bring Plex in step (in a worker thread) and store the new record.

Reads are shared between the jobs in flight: the scenes wanted at the same moment come from
Stash in one query, and the Plex items of jobs whose match the index already knows in one
``GET /library/metadata/1,2,3`` (see :mod:`stash2plex.common.batching`). Each job still writes
its own items, with its own batched edit.

Images come from Stash through the async Stash client, but only the writer, in its thread, knows
which it needs (a new item, or a cover whose URL changed), and only after matching. So the writer
is handed a blocking fetcher that runs the client's coroutine on the event loop
(``run_coroutine_threadsafe``) and waits: nothing is fetched that is not uploaded or compared,
and the loop stays free while the thread waits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from concurrent.futures import Executor
from functools import partial

from stash2plex.common.batching import Batcher
from stash2plex.common.contracts import SyncJob, SyncReason
from stash2plex.common.stash.client import StashClient
from stash2plex.common.stash.models import Scene
from stash2plex.syncer import metrics
from stash2plex.syncer.errors import SceneGone
from stash2plex.syncer.mapping import DesiredMetadata
from stash2plex.syncer.plex_item import PlexItemState
from stash2plex.syncer.sync_options import WriteOptions
from stash2plex.syncer.sync_record import SyncRecords
from stash2plex.syncer.writer import PlexWriter, WriteContext

log = logging.getLogger(__name__)

CREATE_HOOK = "Scene.Create.Post"
SCENES_PER_QUERY = 50
STASH_QUERIES_IN_FLIGHT = 2
ITEMS_PER_READ = 20
ITEM_READS_IN_FLIGHT = 2
"""Items wanted while two reads are out go together in the next: a slow Plex gets fewer, larger reads
(one at a time made every job wait out a whole read before its own)."""


class SceneSync:
    """Shared by every job of one syncer; stateless between jobs (state is in KV and the writer's index)."""

    def __init__(
        self,
        writer: PlexWriter,
        stash: StashClient,
        records: SyncRecords,
        executor: Executor,
        options: WriteOptions,
        image_timeout_s: float = 30.0,
    ) -> None:
        self.writer, self.stash, self.records = writer, stash, records
        self.executor, self.options = executor, options
        self.image_timeout_s = image_timeout_s
        self._scenes: Batcher[Scene | None] = Batcher(
            stash.find_scenes_by_ids, max_batch=SCENES_PER_QUERY, in_flight=STASH_QUERIES_IN_FLIGHT
        )
        self._items: Batcher[PlexItemState | None] = Batcher(
            self._read_items, max_batch=ITEMS_PER_READ, in_flight=ITEM_READS_IN_FLIGHT
        )

    def read_scene(self, scene_id: str) -> asyncio.Future[Scene | None]:
        """Start reading the scene from Stash now (the worker does it while it takes the scene's lock)."""
        return asyncio.ensure_future(self._scene(scene_id))

    async def run(self, job: SyncJob, scene_read: Awaitable[Scene | None] | None = None) -> int:
        """Sync one scene; returns how many Plex items were written (0: nothing differed).

        The sync record is read here, under the scene's lock, never before: another replica may
        have written it just before the lock was free.
        """
        reading = scene_read if scene_read is not None else self._scene(job.scene_id)
        scene, record = await asyncio.gather(reading, self.records.get(job.scene_id))
        loop = asyncio.get_running_loop()
        if scene is None:
            if self.options.unlock_on_destroy and (record is not None or job.destroyed_paths):
                with metrics.EXTERNAL_SECONDS.labels("plex").time():
                    unlocked = await loop.run_in_executor(
                        self.executor, self.writer.unlock, job.scene_id, record, job.destroyed_paths
                    )
                log.info("scene %s was deleted in Stash: unlocked its %d Plex item(s)", job.scene_id, unlocked)
            if record is not None:
                await self.records.delete(job.scene_id)
            raise SceneGone(f"scene {job.scene_id} is not in Stash")
        desired = self.writer.prepare(scene)
        # A gap says Plex differs from what the record claims (the reconciler looked): read Plex then.
        if job.reason is not SyncReason.GAP and self.writer.up_to_date(desired, record):
            return 0
        context = WriteContext(
            fetch=partial(self._fetch_image, loop),
            stash_updated_at=scene.updated_at,
            new_scene=job.hook == CREATE_HOOK,
        )
        with metrics.EXTERNAL_SECONDS.labels("plex").time():
            read = await self._known_items(desired)
            outcome = await loop.run_in_executor(self.executor, self.writer.write, desired, record, context, read)
        if outcome.record is not None and outcome.record != record:
            await self.records.put(outcome.record)
        if outcome.error is not None:
            raise outcome.error
        return outcome.edited

    async def _scene(self, scene_id: str) -> Scene | None:
        with metrics.EXTERNAL_SECONDS.labels("stash").time():
            return await self._scenes.get(scene_id)

    async def _known_items(self, desired: DesiredMetadata) -> dict[str, PlexItemState | None] | None:
        """The scene's Plex items, read together with other jobs' when the index already knows them.

        None when it does not (not built yet, a miss, an ambiguity): the writer then matches and
        reads in its thread, refreshing the index as it must.
        """
        seen = self.writer.matcher.peek(self.writer.query(desired))
        if seen is None or seen.ambiguous or not seen.found:
            return None
        keys = list(seen.rating_keys)
        states = await asyncio.gather(*(self._items.get(key) for key in keys))
        return dict(zip(keys, states, strict=True))

    async def _read_items(self, rating_keys: list[str]) -> dict[str, PlexItemState | None]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self.writer.read_items, rating_keys)

    def _fetch_image(self, loop: asyncio.AbstractEventLoop, url: str) -> bytes:
        """Called from the writer's thread: the image bytes, fetched by the loop's Stash client."""
        future = asyncio.run_coroutine_threadsafe(self.stash.fetch_image(url), loop)
        return future.result(timeout=self.image_timeout_s)
