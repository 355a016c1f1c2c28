"""The in-memory index of Plex movies, and the matching rules: a lookup is a few dictionary hits.

Order of evidence, strongest first, each with its confidence:

1. **guid** (1.0): the item is bound to the Stash2Plex provider with this scene's GUID;
2. **path** (1.0): a file of the scene, mapped to Plex's view by the path rules, is the item's file
   (compared with case when the rule says so, else ignoring case and separator style);
3. **basename** (0.8): exactly one item in the configured libraries has a file of that name;
4. **title** (0.5): exactly one item has the scene's title (strict matching also wants the
   durations to agree within :data:`DURATION_TOLERANCE_S`).

Several items found by guid or path are all the scene's (one scene in several libraries). Several
candidates found by basename or title are a question nobody can answer: with strict matching the
result is *ambiguous* and nothing is written; without it, a single candidate whose folder path
ends like the scene's (or, for titles, whose duration agrees) is taken, and ties stay ambiguous.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from stash2plex.common.pathmap import PathMapper
from stash2plex.common.plexguid import scene_id_from_guid
from stash2plex.syncer.plex_listing import IndexedItem

DURATION_TOLERANCE_S = 2.0


class Confidence(StrEnum):
    GUID = "guid"
    PATH = "path"
    BASENAME = "basename"
    TITLE = "title"


SCORES: dict[Confidence, float] = {
    Confidence.GUID: 1.0,
    Confidence.PATH: 1.0,
    Confidence.BASENAME: 0.8,
    Confidence.TITLE: 0.5,
}


class MatchQuery(BaseModel):
    """What identifies a scene to the index."""

    model_config = ConfigDict(frozen=True)

    scene_id: str
    files: tuple[str, ...]
    """Stash paths, primary first."""
    title: str | None = None
    duration_s: float | None = None


class MatchResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    confidence: Confidence | None = None
    rating_keys: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()
    """With ``ambiguous``: every item that could have been it."""
    ambiguous: bool = False
    detail: str = ""

    @property
    def found(self) -> bool:
        return bool(self.rating_keys)

    @property
    def score(self) -> float:
        return SCORES[self.confidence] if self.confidence else 0.0


def basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _folders(path: str) -> list[str]:
    return [part.casefold() for part in path.replace("\\", "/").split("/")[:-1] if part]


def common_tail(a: str, b: str) -> int:
    """How many trailing folder names two paths share (ignoring case): a tie-breaker, never proof."""
    count = 0
    for x, y in zip(reversed(_folders(a)), reversed(_folders(b)), strict=False):
        if x != y:
            break
        count += 1
    return count


def _add(table: dict[str, list[str]], key: str, rating_key: str) -> None:
    keys = table.setdefault(key, [])
    if rating_key not in keys:
        keys.append(rating_key)


def _drop(table: dict[str, list[str]], key: str, rating_key: str) -> None:
    keys = table.get(key)
    if keys and rating_key in keys:
        keys.remove(rating_key)
        if not keys:
            del table[key]


class PlexIndex:
    """Thread-safe for one writer and many readers (writes hold a lock; reads are dict hits)."""

    def __init__(self, mapper: PathMapper | None = None) -> None:
        self.mapper = mapper or PathMapper()
        self.items: dict[str, IndexedItem] = {}
        self._exact: dict[str, list[str]] = {}
        self._folded: dict[str, list[str]] = {}
        self._basenames: dict[str, list[str]] = {}
        self._titles: dict[str, list[str]] = {}
        self._guids: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self.high_water = 0
        """Newest ``updatedAt`` seen (Plex's clock): where an incremental refresh starts."""

    def __len__(self) -> int:
        return len(self.items)

    # -- writing -----------------------------------------------------------------------------
    def put_many(self, items: Iterable[IndexedItem]) -> int:
        count = 0
        with self._lock:
            for item in items:
                self._remove(item.rating_key)
                self._insert(item)
                count += 1
        return count

    def remove(self, rating_key: str) -> None:
        with self._lock:
            self._remove(rating_key)

    def _insert(self, item: IndexedItem) -> None:
        rk = item.rating_key
        self.items[rk] = item
        for file in item.files:
            _add(self._exact, PathMapper.key(file, case_sensitive=True), rk)
            _add(self._folded, PathMapper.key(file, case_sensitive=False), rk)
            _add(self._basenames, PathMapper.key(basename(file), case_sensitive=False), rk)
        if item.title:
            _add(self._titles, item.title.casefold(), rk)
        scene = scene_id_from_guid(item.guid) if item.guid else None
        if scene is not None:
            _add(self._guids, scene, rk)
        self.high_water = max(self.high_water, item.updated_at)

    def _remove(self, rating_key: str) -> None:
        old = self.items.pop(rating_key, None)
        if old is None:
            return
        for file in old.files:
            _drop(self._exact, PathMapper.key(file, case_sensitive=True), rating_key)
            _drop(self._folded, PathMapper.key(file, case_sensitive=False), rating_key)
            _drop(self._basenames, PathMapper.key(basename(file), case_sensitive=False), rating_key)
        if old.title:
            _drop(self._titles, old.title.casefold(), rating_key)
        scene = scene_id_from_guid(old.guid) if old.guid else None
        if scene is not None:
            _drop(self._guids, scene, rating_key)

    # -- reading -----------------------------------------------------------------------------
    def lookup(self, query: MatchQuery, *, strict: bool = True) -> MatchResult:
        """The scene's items by the strongest evidence the index has (see the module doc)."""
        by_guid = self._guids.get(query.scene_id)
        if by_guid:
            return MatchResult(confidence=Confidence.GUID, rating_keys=tuple(sorted(by_guid)))
        mapped = [self.mapper.to_plex(path) for path in query.files]
        by_path: set[str] = set()
        for target in mapped:
            table = self._exact if target.case_sensitive else self._folded
            by_path.update(table.get(PathMapper.key(target.path, case_sensitive=target.case_sensitive), ()))
        if by_path:
            return MatchResult(confidence=Confidence.PATH, rating_keys=tuple(sorted(by_path)))
        by_name: set[str] = set()
        for target in mapped:
            by_name.update(self._basenames.get(PathMapper.key(basename(target.path), case_sensitive=False), ()))
        if by_name:
            return self._one_of(Confidence.BASENAME, by_name, query, strict, [t.path for t in mapped])
        if query.title:
            by_title = self._titles.get(query.title.casefold())
            if by_title:
                return self._by_title(set(by_title), query, strict)
        return MatchResult(detail="no Plex item has the scene's files" + (" or title" if query.title else ""))

    def _one_of(
        self, confidence: Confidence, keys: set[str], query: MatchQuery, strict: bool, paths: list[str]
    ) -> MatchResult:
        if len(keys) == 1:
            return MatchResult(confidence=confidence, rating_keys=tuple(keys))
        ranked = sorted(keys)
        if not strict:
            scores = {rk: max(common_tail(p, f) for p in paths for f in self._files(rk)) for rk in keys}
            best = max(scores.values())
            winners = [rk for rk, score in scores.items() if score == best]
            if len(winners) == 1 and best > 0:
                return MatchResult(confidence=confidence, rating_keys=(winners[0],), candidates=tuple(ranked))
        return self._ambiguous(confidence, ranked)

    def _by_title(self, keys: set[str], query: MatchQuery, strict: bool) -> MatchResult:
        agreeing = {rk for rk in keys if self._durations_agree(rk, query.duration_s)}
        if len(keys) == 1 and (agreeing or not strict):
            return MatchResult(confidence=Confidence.TITLE, rating_keys=tuple(keys))
        if len(keys) == 1:
            (rk,) = keys
            return MatchResult(
                detail=f"only Plex item {rk} has the scene's title, but strict matching needs its duration "
                "to agree with the scene's"
            )
        if not strict and len(agreeing) == 1:
            return MatchResult(confidence=Confidence.TITLE, rating_keys=tuple(agreeing), candidates=tuple(sorted(keys)))
        return self._ambiguous(Confidence.TITLE, sorted(keys))

    def _durations_agree(self, rating_key: str, duration_s: float | None) -> bool:
        item = self.items.get(rating_key)
        if item is None or item.duration_ms is None or not duration_s:
            return False
        return abs(item.duration_ms / 1000 - duration_s) <= DURATION_TOLERANCE_S

    def _files(self, rating_key: str) -> tuple[str, ...]:
        item = self.items.get(rating_key)
        return item.files if item else ()

    def _ambiguous(self, confidence: Confidence, keys: list[str]) -> MatchResult:
        shown = "; ".join(f"{rk} ({', '.join(self._files(rk)) or self.items[rk].title})" for rk in keys[:5])
        more = f" and {len(keys) - 5} more" if len(keys) > 5 else ""
        return MatchResult(
            ambiguous=True,
            candidates=tuple(keys),
            detail=f"{len(keys)} Plex items share the scene's {confidence.value}: {shown}{more}; "
            "add a path rule (STASH2PLEX_PATHS__RULES) so the full path decides",
        )
