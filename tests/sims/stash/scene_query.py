"""``findScenes`` over the in-memory data: scene filter, ``q`` search, sort and paging as Stash does them.

A filter field this module does not implement is an error, never silently
ignored: a test must not pass because the simulator returned every scene.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from tests.sims.stash.filters import (
    FilterError,
    hierarchical_matches,
    int_matches,
    multi_matches,
    normalise_date,
    not_simulated,
    parse_ids,
    path_matches,
    search_terms,
    string_matches,
    text_compare_matches,
)
from tests.sims.stash.model import SimScene
from tests.sims.stash.store import StashData

# Stash's whitelist of scene sorts (pkg/sqlite/scene.go, CVE-2024-32231); anything else is rejected.
SCENE_SORTS = frozenset(
    {
        "bitrate", "created_at", "code", "date", "file_count", "filesize", "duration", "file_mod_time",
        "framerate", "group_scene_number", "id", "interactive", "interactive_speed", "last_o_at",
        "last_played_at", "movie_scene_number", "o_counter", "organized", "performer_count", "play_count",
        "play_duration", "resume_time", "path", "perceptual_similarity", "random", "rating", "resolution",
        "studio", "tag_count", "title", "updated_at", "performer_age",
    }
)  # fmt: skip

DEFAULT_PER_PAGE = 25

SceneTest = Callable[[SimScene, Any], bool]


def _natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Stash's NATURAL_CI collation: case-insensitive, digit runs compared as numbers."""
    return tuple((0, int(part)) if part.isdigit() else (1, part.lower()) for part in re.split(r"(\d+)", text) if part)


class SceneQuery:
    """Evaluates one ``findScenes`` call against a data snapshot (call under ``data.lock``)."""

    def __init__(self, data: StashData) -> None:
        self.data = data
        self.default_upper = data.timestamp_text(data.now() + timedelta(days=1))
        self.tests: dict[str, SceneTest] = {
            "id": lambda s, c: int_matches([s.id], c),
            "title": lambda s, c: string_matches([s.title], c),
            "code": lambda s, c: string_matches([s.code], c),
            "details": lambda s, c: string_matches([s.details], c),
            "director": lambda s, c: string_matches([s.director], c),
            "url": lambda s, c: string_matches(s.urls, c),
            "path": lambda s, c: path_matches([data.file_path(f) for f in s.files], c),
            "oshash": lambda s, c: string_matches([f.fingerprints.get("oshash") for f in s.files], c),
            "checksum": lambda s, c: string_matches([f.fingerprints.get("md5") for f in s.files], c),
            "file_count": lambda s, c: int_matches([len(s.files)], c),
            "tag_count": lambda s, c: int_matches([len(s.tag_ids)], c),
            "performer_count": lambda s, c: int_matches([len(s.performer_ids)], c),
            "rating100": lambda s, c: int_matches([s.rating100], c),
            "o_counter": lambda s, c: int_matches([s.o_counter], c),
            "play_count": lambda s, c: int_matches([s.play_count], c),
            "duration": lambda s, c: int_matches([int(f.duration) for f in s.files], c),
            "organized": lambda s, c: s.organized == bool(c),
            "date": lambda s, c: text_compare_matches(
                s.date, {**c, "value": normalise_date(c.get("value", ""))}, self.default_upper
            ),
            "created_at": lambda s, c: text_compare_matches(data.timestamp_text(s.created_at), c, self.default_upper),
            "updated_at": lambda s, c: text_compare_matches(data.timestamp_text(s.updated_at), c, self.default_upper),
            "performers": lambda s, c: multi_matches(set(s.performer_ids), c),
            "studios": lambda s, c: hierarchical_matches(
                set() if s.studio_id is None else {s.studio_id}, c, self._expander("studio")
            ),
            "tags": lambda s, c: hierarchical_matches(set(s.tag_ids), c, self._expander("tag")),
            "groups": lambda s, c: hierarchical_matches({g.group_id for g in s.groups}, c, self._expander("group")),
            "movies": lambda s, c: multi_matches({g.group_id for g in s.groups}, c),
            "files_filter": self._files_filter,
            "is_missing": self._is_missing,
        }

    def _expander(self, kind: Any) -> Callable[[list[int], int | None], set[int]]:
        return lambda roots, depth: self.data.descendants(kind, roots, depth)

    # -- filtering -----------------------------------------------------------------------

    def matches(self, scene: SimScene, scene_filter: Mapping[str, Any] | None) -> bool:
        """Stash's filter tree: own criteria AND'ed, then ``AND`` / ``OR`` / ``NOT`` sub-filters."""
        if not scene_filter:
            return True
        own = True
        for name, criterion in scene_filter.items():
            if name in ("AND", "OR", "NOT") or criterion is None:
                continue
            test = self.tests.get(name)
            if test is None:
                raise not_simulated(f"scene filter field {name!r}")
            own = own and test(scene, criterion)
        if scene_filter.get("AND") is not None:
            own = own and self.matches(scene, scene_filter["AND"])
        if scene_filter.get("OR") is not None:
            own = own or self.matches(scene, scene_filter["OR"])
        if scene_filter.get("NOT") is not None:
            own = own and not self.matches(scene, scene_filter["NOT"])
        return own

    def _files_filter(self, scene: SimScene, file_filter: Mapping[str, Any]) -> bool:
        for name, value in file_filter.items():
            if value is not None and name != "hashes":
                raise not_simulated(f"files_filter field {name!r}")
        wanted = file_filter.get("hashes") or []
        return any(all(file.fingerprints.get(h["type"]) == h["value"] for h in wanted) for file in scene.files)

    def _is_missing(self, scene: SimScene, what: str) -> bool:
        checks: dict[str, Callable[[], bool]] = {
            "title": lambda: not (scene.title or "").strip(),
            "details": lambda: not (scene.details or "").strip(),
            "date": lambda: scene.date is None,
            "url": lambda: not scene.urls,
            "studio": lambda: scene.studio_id is None,
            "performers": lambda: not scene.performer_ids,
            "tags": lambda: not scene.tag_ids,
            "groups": lambda: not scene.groups,
            "movie": lambda: not scene.groups,
            "file": lambda: not scene.files,
            "code": lambda: not (scene.code or "").strip(),
        }
        if what not in checks:
            raise not_simulated(f"is_missing value {what!r}")
        return checks[what]()

    def search(self, scene: SimScene, q: str) -> bool:
        """The ``q`` box: every term must appear in the title, details, a path or a fingerprint.

        ``-term`` must not appear; a double-quoted value is one phrase.
        """
        columns = [scene.title, scene.details]
        columns += [self.data.file_path(f) for f in scene.files]
        columns += [v for f in scene.files for v in f.fingerprints.values()]
        terms, phrase = search_terms(q)
        if phrase:
            return string_matches(columns, {"modifier": "INCLUDES", "value": f'"{terms[0]}"'})
        for term in filter(None, terms):
            negate = term.startswith("-") and len(term) > 1
            word = term[1:] if negate else term
            found = string_matches(columns, {"modifier": "INCLUDES", "value": f'"{word}"'})
            if found == negate:
                return False
        return True

    # -- sorting and paging ------------------------------------------------------------------

    def _sort_key(self, sort: str) -> Callable[[SimScene], Any]:
        data = self.data

        def primary(scene: SimScene, attr: str) -> Any:
            return getattr(scene.files[0], attr) if scene.files else None

        keys: dict[str, Callable[[SimScene], Any]] = {
            "id": lambda s: s.id,
            "title": lambda s: _natural_key(s.title or (s.files[0].basename if s.files else "")),
            "created_at": lambda s: data.timestamp_text(s.created_at),
            "updated_at": lambda s: data.timestamp_text(s.updated_at),
            "date": lambda s: s.date,
            "code": lambda s: s.code,
            "rating": lambda s: s.rating100,
            "organized": lambda s: s.organized,
            "o_counter": lambda s: s.o_counter,
            "play_count": lambda s: s.play_count,
            "path": lambda s: _natural_key(s.files[0].folder + s.files[0].basename) if s.files else None,
            "duration": lambda s: primary(s, "duration"),
            "filesize": lambda s: primary(s, "size"),
            "bitrate": lambda s: primary(s, "bit_rate"),
            "framerate": lambda s: primary(s, "frame_rate"),
            "file_mod_time": lambda s: data.timestamp_text(s.files[0].mod_time) if s.files else None,
            "resolution": lambda s: min(s.files[0].width, s.files[0].height) if s.files else None,
            "studio": lambda s: self.data.studios[s.studio_id].name if s.studio_id in self.data.studios else None,
            "tag_count": lambda s: len(s.tag_ids),
            "performer_count": lambda s: len(s.performer_ids),
            "file_count": lambda s: len(s.files),
        }
        if sort == "random" or sort.startswith("random_"):
            seed = sort.removeprefix("random").lstrip("_") or "0"
            return lambda s: hashlib.sha256(f"{seed}:{s.id}".encode()).digest()
        if sort not in keys:
            raise not_simulated(f"sort {sort!r}")
        key = keys[sort]
        # SQLite puts NULLs first in ascending order.
        return lambda s: (0, 0) if key(s) is None else (1, key(s))

    def sort(self, scenes: list[SimScene], sort: str | None, direction: str | None) -> list[SimScene]:
        """Stash's order: the requested one, then ``COALESCE(title, id)`` (natural, case-insensitive)."""
        ordered = sorted(scenes, key=lambda s: s.id)
        if not sort:
            return ordered  # no ORDER BY at all: SQLite hands rows back in id order
        if sort.startswith("random_"):
            seed = sort.removeprefix("random_")
            if not seed.isdigit():
                raise FilterError(f"invalid random seed: {seed}")
        elif sort not in SCENE_SORTS:
            raise FilterError(f"invalid sort: {sort}")
        if sort == "id":  # unique: the title tie-break could never change the order
            return ordered[::-1] if direction == "DESC" else ordered
        key = self._sort_key(sort)
        ordered.sort(key=lambda s: _natural_key(s.title if s.title is not None else str(s.id)))
        ordered.sort(key=key, reverse=direction == "DESC")
        return ordered

    def run(
        self,
        scene_filter: Mapping[str, Any] | None,
        find_filter: Mapping[str, Any] | None,
        ids: Sequence[Any] | None = None,
    ) -> tuple[int, list[SimScene]]:
        """(count, page of scenes) for ``findScenes``."""
        find_filter = find_filter or {}
        wanted = set(parse_ids(ids)) if ids else None
        q = find_filter.get("q")
        unfiltered = wanted is None and not q and not any(v is not None for v in (scene_filter or {}).values())
        if unfiltered and find_filter.get("sort") == "id":
            return self._by_id(find_filter)
        matched = [
            scene
            for scene in self.data.scenes.values()
            if (wanted is None or scene.id in wanted)
            and self.matches(scene, scene_filter)
            and (not q or self.search(scene, q))
        ]
        ordered = self.sort(matched, find_filter.get("sort"), find_filter.get("direction"))
        per_page = find_filter.get("per_page")
        per_page = DEFAULT_PER_PAGE if per_page is None else per_page
        if per_page < 0:
            return len(ordered), ordered
        page = max(find_filter.get("page") or 1, 1)
        start = (page - 1) * per_page
        return len(ordered), ordered[start : start + per_page]

    def _by_id(self, find_filter: Mapping[str, Any]) -> tuple[int, list[SimScene]]:
        """Every scene in id order, one page of them: the walk a full sync or reconciliation makes.

        Same answer as the general path, without filtering and sorting every scene for each page.
        """
        ids = self.data.sorted_scene_ids()
        if find_filter.get("direction") == "DESC":
            ids = ids[::-1]
        per_page = find_filter.get("per_page")
        per_page = DEFAULT_PER_PAGE if per_page is None else per_page
        if per_page >= 0:
            start = (max(find_filter.get("page") or 1, 1) - 1) * per_page
            ids = ids[start : start + per_page]
        scenes = self.data.scenes
        return len(self.data.scenes), [scenes[i] for i in ids]
