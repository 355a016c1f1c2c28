"""Request handling: one method per endpoint, each turning a request into an :class:`Answer`.

The ASGI fast path (:mod:`.fastpath`) and the documented FastAPI routes (:mod:`.routes`)
both call these, so they cannot drift apart. Finished answers are cached as bytes (for
``cache_ttl_s``): a repeated match or metadata request costs a dictionary lookup, and
identical requests in flight at once are answered by one computation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import get_args

from stash2plex.common import plexguid
from stash2plex.common.pathmap import PathMapper
from stash2plex.common.stash.errors import StashError
from stash2plex.provider import metadata, metrics
from stash2plex.provider.answers import Answer, NotFoundError, RequestError, error, ok, unavailable
from stash2plex.provider.cache import SingleFlight, TtlCache
from stash2plex.provider.gaps import GapPublisher
from stash2plex.provider.images import ImageKind, ImageProxy
from stash2plex.provider.links import ImageLinks
from stash2plex.provider.lookups import SceneLookups
from stash2plex.provider.match import Matcher, MatchOutcome, parse_body
from stash2plex.provider.paging import Page
from stash2plex.provider.root import media_provider
from stash2plex.provider.settings import ProviderOptions
from stash2plex.provider.stash import ProviderScene

log = logging.getLogger(__name__)

IDENTIFIER = plexguid.IDENTIFIER
MAX_ID_DIGITS = 20
"""Stash ids are 64-bit integers: longer "ids" are not worth a request to Stash."""


@dataclass(frozen=True)
class MatchAnswer:
    answer: Answer
    method: MatchOutcome


class ProviderHandlers:
    """Everything an endpoint needs: options, Stash lookups, path rules, gaps, image proxy."""

    def __init__(
        self,
        options: ProviderOptions,
        lookups: SceneLookups,
        mapper: PathMapper,
        gaps: GapPublisher,
        images: ImageProxy,
    ) -> None:
        self.options = options
        self.lookups = lookups
        self.gaps = gaps
        self.image_proxy = images
        self.matcher = Matcher(lookups, mapper, options.auto_min_score, options.manual_max_results)
        size, ttl = options.cache_max_entries, options.cache_ttl_s
        self._matches: TtlCache[tuple[bytes, int, int, str], MatchAnswer] = TtlCache("match_answer", size, ttl)
        self._metadata: TtlCache[tuple[str, str], Answer] = TtlCache("metadata_answer", size, ttl)
        self._match_flight: SingleFlight[tuple[bytes, int, int, str], MatchAnswer] = SingleFlight("match")
        self._metadata_flight: SingleFlight[tuple[str, str], Answer] = SingleFlight("metadata")
        self._root = ok(media_provider(options.title))
        self._methods = {method: metrics.MATCHES.labels(method) for method in get_args(MatchOutcome)}

    def root(self) -> Answer:
        return self._root

    # -- match ----------------------------------------------------------------------------

    async def match(self, body: bytes, page: Page, base: str) -> Answer:
        """Matches for the file or title in ``body``; counted by method (guid, path, basename, title, none)."""
        key = (body, page.start, page.size, base)
        cached = self._matches.get(key)
        if cached is None:
            try:
                cached = await self._match_flight.run(key, lambda: self._compute_match(body, page, base))
            except RequestError as problem:
                return problem.answer()
            except StashError as problem:
                return unavailable(f"cannot match now, Stash did not answer: {problem}")
        self._methods[cached.method].inc()
        return cached.answer

    async def _compute_match(self, raw: bytes, page: Page, base: str) -> MatchAnswer:
        body = parse_body(raw)
        result = await self.matcher.match(body)
        links = self._links(base)
        items = [metadata.match_item(c.scene, links, c.score) for c in result.candidates]
        shown = items[page.start : page.start + page.size]
        answer = MatchAnswer(ok(metadata.container(IDENTIFIER, len(items), page.start, Metadata=shown)), result.method)
        self._matches.put((raw, page.start, page.size, base), answer)
        if not body.manual and body.filename:
            if not result.candidates:
                self.gaps.missing_in_stash(body.filename, result.stash_path)
            elif metadata.is_empty(result.candidates[0].scene):
                self.gaps.empty_scene(result.candidates[0].scene.id, body.filename)
        return answer

    # -- metadata -------------------------------------------------------------------------

    async def metadata(self, rating_key: str, base: str) -> Answer:
        """The full Metadata of one scene; 400 for a ratingKey we never hand out, 404 for a scene Stash lacks."""
        key = (rating_key, base)
        cached = self._metadata.get(key)
        if cached is not None:
            return cached
        try:
            return await self._metadata_flight.run(key, lambda: self._compute_metadata(rating_key, base))
        except RequestError as problem:
            return problem.answer()
        except StashError as problem:
            return unavailable(f"cannot read the scene now, Stash did not answer: {problem}")

    async def _compute_metadata(self, rating_key: str, base: str) -> Answer:
        scene = await self._scene(rating_key)
        item = metadata.movie(
            scene, self._links(base), content_rating=self.options.content_rating, is_adult=self.options.is_adult
        )
        answer = ok(metadata.container(IDENTIFIER, 1, Metadata=[item]))
        self._metadata.put((rating_key, base), answer)
        return answer

    async def images(self, rating_key: str, base: str) -> Answer:
        """``/images``: every image of the scene (poster and background)."""
        try:
            scene = await self._scene(rating_key)
        except RequestError as problem:
            return problem.answer()
        except StashError as problem:
            return unavailable(f"cannot read the scene now, Stash did not answer: {problem}")
        found = metadata.images(scene, self._links(base))
        return ok(metadata.container(IDENTIFIER, len(found), Image=found))

    async def extras(self, rating_key: str) -> Answer:
        """``/extras``: Stash has no trailers or featurettes; an empty list for a known scene."""
        try:
            await self._scene(rating_key)
        except RequestError as problem:
            return problem.answer()
        except StashError as problem:
            return unavailable(f"cannot read the scene now, Stash did not answer: {problem}")
        return ok(metadata.container(IDENTIFIER, 0, Metadata=[]))

    async def image(self, kind: ImageKind, entity_id: str, version: str | None) -> Answer:
        """An image through the proxy; ``version`` (``?v=``, from the links we hand out) only keys the caches."""
        if not (entity_id.isascii() and entity_id.isdigit() and len(entity_id) < MAX_ID_DIGITS):
            return error(404, f"no image with id {entity_id[:40]!r}: ids are numbers", "not_found")
        return await self.image_proxy.answer(kind, entity_id, version if version and version.isdigit() else "0")

    # -- helpers --------------------------------------------------------------------------

    async def _scene(self, rating_key: str) -> ProviderScene:
        try:
            scene_id = plexguid.scene_id(rating_key)
        except plexguid.MalformedRatingKeyError as problem:
            raise _BadKeyError(str(problem)) from None
        scene = await self.lookups.scene(scene_id)
        if scene is None:
            raise NotFoundError(f"Stash has no scene {scene_id} (ratingKey {rating_key})")
        return scene

    def _links(self, base: str) -> ImageLinks:
        return ImageLinks(base, self.options.poster_mode)

    async def close(self) -> None:
        await self.gaps.drain()
        await self.lookups.close()
        await self.image_proxy.close()


class _BadKeyError(RequestError):
    """A ratingKey of a shape this provider never hands out."""
