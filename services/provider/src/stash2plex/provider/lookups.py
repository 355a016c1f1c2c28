"""Every read of Stash the provider makes, cached and coalesced.

* Answers are kept for ``cache_ttl_s`` (at most ``cache_max_entries`` per kind), "no such
  scene" included, so a rescan of a library costs Stash nothing new.
* Identical lookups in flight at the same time share one query (:class:`SingleFlight`).
* Lookups that arrive together go to Stash together (:mod:`.batching`): scenes by id as one
  ``findScenes(ids: …)``, exact paths as one ``MATCHES_REGEX`` of the paths (one scan of
  Stash's files instead of one per path; a lone path uses ``EQUALS``).
* Every scene a lookup brings is also cached by id: the metadata request that follows a
  match finds its scene already there.

The Stash client is opened on first use, so the provider starts (and says what is missing
on ``/readyz``) before Stash is configured or reachable.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from stash2plex.common.batching import Batcher
from stash2plex.common.settings import StashSettings, env_name
from stash2plex.common.stash.errors import StashAuthError, StashError, StashUnavailable
from stash2plex.common.stash.retry import RetryPolicy
from stash2plex.provider import metrics
from stash2plex.provider.cache import SingleFlight, TtlCache
from stash2plex.provider.scoring import fold
from stash2plex.provider.settings import ProviderOptions
from stash2plex.provider.stash import (
    ProviderScene,
    ProviderStashClient,
    path_contains,
    path_equals,
    paths_regex,
    title_contains,
)

log = logging.getLogger(__name__)

IDS_PER_QUERY = 100
PATHS_PER_QUERY = 50
BATCHES_IN_FLIGHT = 2
"""Batch queries of one kind running at once; keys arriving meanwhile wait and go out together."""
SETTLE_TURNS = 4
"""Quiet event-loop turns before a batch goes (see :mod:`.batching`): about the turns a request
takes from the socket to its lookup, so a burst still being read joins the batch."""
SEARCH_LIMIT = 50
"""Scenes read for a basename or title search (a Fix Match lists at most 100)."""
PATH_LIMIT = 25
"""Scenes read for an exact path: more than one only when the path holds LIKE wildcards."""


class StashNotConfiguredError(StashError):
    """The provider has no Stash URL; it answers 503 naming the variable to set."""

    transient = True


Scenes = tuple[ProviderScene, ...]


class SceneLookups:
    """Cached, coalesced reads of scenes from one Stash."""

    def __init__(self, stash: StashSettings, options: ProviderOptions) -> None:
        self._stash = stash.model_copy(update={"timeout_s": options.stash_timeout_s})
        self._retry = RetryPolicy(
            attempts=options.stash_retries + 1,
            initial_wait_s=0.05,
            max_wait_s=0.5,
            budget_s=max(options.stash_timeout_s, 1.0),
        )
        size, ttl = options.cache_max_entries, options.cache_ttl_s
        self.scenes: TtlCache[str, ProviderScene | None] = TtlCache("scene", size, ttl)
        self.at_path: TtlCache[str, Scenes] = TtlCache("path", size, ttl)
        self.named: TtlCache[str, Scenes] = TtlCache("basename", size, ttl)
        self.titled: TtlCache[str, Scenes] = TtlCache("title", size, ttl)
        self._flight: SingleFlight[tuple[str, str], Any] = SingleFlight("stash")
        self._client: ProviderStashClient | None = None
        self._opening = asyncio.Lock()
        self._by_id: Batcher[ProviderScene | None] = Batcher(
            self._fetch_ids, max_batch=IDS_PER_QUERY, in_flight=BATCHES_IN_FLIGHT, settle_turns=SETTLE_TURNS
        )
        self._by_path: Batcher[Scenes] = Batcher(
            self._fetch_paths, max_batch=PATHS_PER_QUERY, in_flight=BATCHES_IN_FLIGHT, settle_turns=SETTLE_TURNS
        )

    # -- public lookups -------------------------------------------------------------------

    async def scene(self, scene_id: str) -> ProviderScene | None:
        """The scene with this id, or None when Stash has none."""
        found, scene = self.scenes.lookup(scene_id)
        if found:
            return scene
        result: ProviderScene | None = await self._flight.run(("scene", scene_id), lambda: self._by_id.get(scene_id))
        return result

    async def scenes_at_path(self, path: str) -> Scenes:
        """Scenes with a file at ``path`` ignoring case (callers confirm the exact path themselves)."""
        hit = self.at_path.get(path)
        if hit is not None:
            return hit
        result: Scenes = await self._flight.run(("path", path), lambda: self._by_path.get(path))
        return result

    async def scenes_named(self, basename: str) -> Scenes:
        """Scenes with a file whose path contains ``basename`` (callers keep those whose basename equals it)."""
        return await self._cached(
            self.named, "basename", basename, lambda: self._query(path_contains(basename), SEARCH_LIMIT)
        )

    async def scenes_titled(self, title: str) -> Scenes:
        """Scenes whose title contains ``title`` as a phrase."""
        return await self._cached(self.titled, "title", title, lambda: self._query(title_contains(title), SEARCH_LIMIT))

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.__aexit__(None, None, None)

    # -- plumbing -------------------------------------------------------------------------

    async def _cached(
        self, cache: TtlCache[str, Scenes], kind: str, key: str, query: Callable[[], Awaitable[Scenes]]
    ) -> Scenes:
        hit = cache.get(key)
        if hit is not None:
            return hit

        async def fetch() -> Scenes:
            scenes: Scenes = await self._timed(kind, query)
            cache.put(key, scenes)
            return scenes

        result: Scenes = await self._flight.run((kind, key), fetch)
        return result

    async def _query(self, scene_filter: dict[str, Any], limit: int) -> Scenes:
        client = await self._open()
        scenes = tuple(await client.provider_scenes(scene_filter=scene_filter, limit=limit))
        for scene in scenes:
            self.scenes.put(scene.id, scene)
        return scenes

    async def _fetch_ids(self, ids: list[str]) -> dict[str, ProviderScene | None]:
        client = await self._open()
        scenes = await self._timed("ids", lambda: client.provider_scenes(ids=ids, limit=len(ids)))
        by_id = {scene.id: scene for scene in scenes}
        for scene_id in ids:
            self.scenes.put(scene_id, by_id.get(scene_id))
        return {scene_id: by_id.get(scene_id) for scene_id in ids}

    async def _fetch_paths(self, paths: list[str]) -> dict[str, Scenes]:
        client = await self._open()
        if len(paths) == 1:
            scene_filter, limit = path_equals(paths[0]), PATH_LIMIT
        else:
            scene_filter, limit = paths_regex(paths), PATH_LIMIT * len(paths)
        found = await self._timed("path", lambda: client.provider_scenes(scene_filter=scene_filter, limit=limit))
        for scene in found:
            self.scenes.put(scene.id, scene)
        if len(paths) == 1:
            answer = {paths[0]: tuple(found)}
        else:
            at: dict[str, list[ProviderScene]] = {}
            for scene in found:
                for folded in {fold(f.path) for f in scene.files}:
                    at.setdefault(folded, []).append(scene)
            answer = {path: tuple(at.get(fold(path), ())) for path in paths}
        for path, scenes in answer.items():
            self.at_path.put(path, scenes)
        return answer

    async def _timed(self, kind: str, query: Callable[[], Awaitable[Any]]) -> Any:
        metrics.STASH_QUERIES.labels(kind).inc()
        started = time.perf_counter()
        try:
            return await query()
        except StashError as error:
            metrics.STASH_ERRORS.labels(_error_kind(error)).inc()
            log.warning("Stash lookup (%s) failed: %s", kind, error)
            raise
        finally:
            metrics.STASH_SECONDS.labels(kind).observe(time.perf_counter() - started)

    async def _open(self) -> ProviderStashClient:
        if self._client is not None:
            return self._client
        async with self._opening:
            if self._client is None:
                if self._stash.url is None:
                    raise StashNotConfiguredError(f"Stash is not configured: set {env_name('stash', 'url')}")
                client = ProviderStashClient(self._stash, retry=self._retry)
                await client.__aenter__()
                self._client = client
        return self._client


def _error_kind(error: StashError) -> str:
    if isinstance(error, StashNotConfiguredError):
        return "not_configured"
    if isinstance(error, StashAuthError):
        return "auth"
    if isinstance(error, StashUnavailable):
        text = str(error).lower()
        return "timeout" if "timeout" in text or "timed out" in text else "unavailable"
    return "query"
