"""What a sync job does to Plex — for now the minimum the delivery machinery needs: find the
scene's Plex item by its file path and write its title and summary, only when they differ.

The full mapping (path mapping rules, every field, images, collections, safety gates) is the
next step; it replaces :meth:`PlexWriter.write` without touching the delivery code.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from stash2plex.common.settings import PlexSettings
from stash2plex.common.stash.models import Scene
from stash2plex.syncer.errors import ItemNotInPlex
from stash2plex.syncer.plex import connect


class PlexWriter:
    """Thread-safe: plexapi is synchronous and runs in worker threads."""

    def __init__(
        self, settings: PlexSettings, index_refresh_min_s: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings, self.clock = settings, clock
        self.index_refresh_min_s = index_refresh_min_s
        """A miss refreshes the path index at most this often: a file Plex has not scanned is common."""
        self._server: Any = None
        self._index: dict[str, list[str]] = {}
        self._indexed_at = float("-inf")
        self._lock = threading.Lock()
        self._building = threading.Lock()
        """One listing of Plex at a time: threads that miss together share one rebuild."""

    def server(self) -> Any:
        with self._lock:
            if self._server is None:
                self._server = connect(self.settings)
            return self._server

    def reset(self) -> None:
        """Forget the connection (after an outage or a token change)."""
        with self._lock:
            self._server = None

    def _build_index(self) -> None:
        index: dict[str, list[str]] = {}
        for section in self.server().library.sections():
            if section.type != "movie":
                continue
            for item in section.all():
                for media in item.media:
                    for part in media.parts:
                        index.setdefault(part.file, []).append(str(item.ratingKey))
        with self._lock:
            self._index, self._indexed_at = index, self.clock()

    def _lookup(self, paths: list[str]) -> list[str]:
        return sorted({key for path in paths for key in self._index.get(path, [])})

    def rating_keys(self, paths: list[str]) -> list[str]:
        keys = self._lookup(paths)
        if keys or self.clock() - self._indexed_at < self.index_refresh_min_s:
            return keys
        with self._building:
            # Another thread may have rebuilt the index while this one waited for the lock.
            if self.clock() - self._indexed_at >= self.index_refresh_min_s:
                self._build_index()
        return self._lookup(paths)

    def write(self, scene: Scene) -> int:
        """Bring every Plex item of ``scene`` in step; returns how many items were edited."""
        paths = [f.path for f in scene.files]
        keys = self.rating_keys(paths)
        if not keys:
            raise ItemNotInPlex(f"no Plex item has the file(s) of scene {scene.id} yet")
        edited = 0
        for key in keys:
            item = self.server().fetchItem(int(key))
            item._autoReload = False  # the item is complete: an empty field must not cost another GET
            wanted = {
                "title": scene.title or (scene.files[0].basename if scene.files else ""),
                "summary": scene.details or "",
            }
            edits: dict[str, Any] = {}
            for field, value in wanted.items():
                if (getattr(item, field, None) or "") != value:
                    edits[f"{field}.value"] = value
                    edits[f"{field}.locked"] = 1
            if edits:
                item.edit(**edits)
                edited += 1
        return edited
