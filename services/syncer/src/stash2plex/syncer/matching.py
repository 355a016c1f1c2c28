"""Finding a scene's Plex items: the index kept fresh, the configured libraries, and the miss path.

The index (:mod:`.plex_index`) is built once by paging through the configured libraries, then
kept fresh incrementally: a lookup that finds nothing (or only an ambiguous answer) re-reads the
items Plex changed since the newest one seen, at most once per ``index_refresh_min_s``, and
re-reads everything when the index is older than ``full_rebuild_s`` (deleted items leave then).
An item that answers 404 is dropped from the index at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from prometheus_client import Counter

from stash2plex.common.pathmap import PathMapper
from stash2plex.syncer.errors import ConfigurationProblem
from stash2plex.syncer.plex_index import MatchQuery, MatchResult, PlexIndex
from stash2plex.syncer.plex_listing import LibrarySection, PlexListing
from stash2plex.syncer.sync_options import MatchOptions

log = logging.getLogger(__name__)

MATCHES = Counter(
    "stash2plex_syncer_matches",
    "Scene lookups in the Plex index, by result (guid, path, basename, title, ambiguous, none).",
    ["result"],
)
INDEX_BUILDS = Counter("stash2plex_syncer_index_reads", "Reads of Plex's listings for the index.", ["kind"])


def choose_sections(sections: list[LibrarySection], wanted: list[str]) -> list[LibrarySection]:
    """The configured libraries (by name, ignoring case), or every movie library when none is named."""
    movies = [s for s in sections if s.type == "movie"]
    if not wanted:
        return movies
    by_name = {s.title.casefold(): s for s in sections}
    chosen: list[LibrarySection] = []
    for name in wanted:
        section = by_name.get(name.casefold())
        if section is None:
            known = ", ".join(s.title for s in movies) or "none"
            raise ConfigurationProblem(
                f"Plex has no library named {name!r} (STASH2PLEX_SYNCER__MATCH__LIBRARIES); "
                f"its movie libraries: {known}"
            )
        if section.type != "movie":
            raise ConfigurationProblem(f"Plex library {name!r} holds {section.type}s, not movies")
        chosen.append(section)
    return chosen


class Matcher:
    """Shared by the writer's threads; one listing of Plex at a time, misses share it."""

    def __init__(
        self,
        listing: PlexListing,
        mapper: PathMapper,
        options: MatchOptions,
        refresh_min_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.listing, self.mapper, self.options = listing, mapper, options
        self.refresh_min_s, self.clock = refresh_min_s, clock
        self.index: PlexIndex | None = None
        self.sections: list[LibrarySection] = []
        self._built_at = float("-inf")
        self._refreshed_at = float("-inf")
        self._building = threading.Lock()

    @property
    def built(self) -> bool:
        return self.index is not None

    def rebuild(self) -> PlexIndex:
        """Read every configured library into a fresh index and swap it in."""
        sections = choose_sections(self.listing.sections(), self.options.libraries)
        index = PlexIndex(self.mapper)
        for section in sections:
            index.put_many(self.listing.items(section.id))
        INDEX_BUILDS.labels("full").inc()
        log.info("indexed %d Plex item(s) in %d library(ies)", len(index), len(sections))
        self.index, self.sections = index, sections
        self._built_at = self._refreshed_at = self.clock()
        return index

    def refresh(self) -> None:
        """Add what Plex changed since the newest item seen (or rebuild when the index is old)."""
        index = self.index
        if index is None or self.clock() - self._built_at >= self.options.full_rebuild_s:
            self.rebuild()
            return
        since = index.high_water
        changed = sum(index.put_many(self.listing.items(s.id, changed_since=since)) for s in self.sections)
        INDEX_BUILDS.labels("incremental").inc()
        log.debug("index refresh: %d item(s) changed in Plex since %d", changed, since)
        self._refreshed_at = self.clock()

    def _ensure(self) -> PlexIndex:
        if self.index is None:
            with self._building:
                if self.index is None:
                    return self.rebuild()
        assert self.index is not None
        return self.index

    def peek(self, query: MatchQuery) -> MatchResult | None:
        """A lookup without any Plex request; None while the index has not been built."""
        index = self.index
        return index.lookup(query, strict=self.options.strict) if index is not None else None

    def match(self, query: MatchQuery) -> MatchResult:
        """The scene's items; a miss or an ambiguity first refreshes the index (rate-limited) and looks again."""
        result = self._ensure().lookup(query, strict=self.options.strict)
        if not result.found and self.clock() - self._refreshed_at >= self.refresh_min_s:
            with self._building:
                # Another thread may have refreshed while this one waited for the lock.
                if self.clock() - self._refreshed_at >= self.refresh_min_s:
                    self.refresh()
            result = self._ensure().lookup(query, strict=self.options.strict)
        label = "ambiguous" if result.ambiguous else result.confidence.value if result.confidence else "none"
        MATCHES.labels(label).inc()
        return result

    def forget(self, rating_key: str) -> None:
        """Plex no longer has this item (it answered 404)."""
        if self.index is not None:
            self.index.remove(rating_key)

    def section_for_folder(self, folder: str, case_sensitive: bool) -> list[LibrarySection]:
        """The configured libraries whose locations hold ``folder`` (for a partial scan)."""
        target = PathMapper.key(folder, case_sensitive=case_sensitive).replace("\\", "/").rstrip("/")
        found = []
        for section in self.sections:
            for location in section.locations:
                root = PathMapper.key(location, case_sensitive=case_sensitive).replace("\\", "/").rstrip("/")
                if target == root or target.startswith(root + "/"):
                    found.append(section)
                    break
        return found
