"""Reading Plex's library listings for the path index: sections, then items page by page.

At 100,000 items this is the syncer's biggest read, so it skips plexapi's objects: one raw GET
per page (through plexapi's session, so the token, client identifier and the error hook apply),
only the attributes the index needs taken from the XML, the tag elements and long texts left out
with PMS's response customization (``excludeElements``/``excludeFields``; a server that ignores
them just sends more), and the next pages fetched while the current one is parsed.
"""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from stash2plex.syncer.plex_gate import PlexGate

PAGE_SIZE = 2500
PARALLEL_PAGES = 2
LEFT_OUT_ELEMENTS = "Genre,Country,Director,Writer,Producer,Role,Collection,Label,Guid,Field,Image,UltraBlurColors"
LEFT_OUT_FIELDS = "summary,tagline"


@dataclass(frozen=True, slots=True)
class IndexedItem:
    """What the index keeps of one Plex movie."""

    rating_key: str
    section_id: str
    title: str
    guid: str
    files: tuple[str, ...]
    duration_ms: int | None
    updated_at: int


class LibrarySection(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    type: str
    locations: tuple[str, ...] = ()


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def parse_items(root: ET.Element, section_id: str) -> list[IndexedItem]:
    """The movies of one listing page (``<Video>`` elements with their ``<Part file>``)."""
    items: list[IndexedItem] = []
    for video in root.iter("Video"):
        get = video.attrib.get
        files = tuple(part.attrib["file"] for part in video.iter("Part") if part.attrib.get("file"))
        items.append(
            IndexedItem(
                rating_key=get("ratingKey", ""),
                section_id=get("librarySectionID") or section_id,
                title=get("title", ""),
                guid=get("guid", ""),
                files=files,
                duration_ms=_int(get("duration")),
                updated_at=max(_int(get("updatedAt")) or 0, _int(get("addedAt")) or 0),
            )
        )
    return items


def parse_sections(root: ET.Element) -> list[LibrarySection]:
    return [
        LibrarySection(
            id=d.attrib.get("key", ""),
            title=d.attrib.get("title", ""),
            type=d.attrib.get("type", ""),
            locations=tuple(loc.attrib["path"] for loc in d.iter("Location") if loc.attrib.get("path")),
        )
        for d in root.iter("Directory")
    ]


class PlexListing:
    """Raw listing reads; ``server`` returns the (shared) plexapi server to talk through."""

    def __init__(
        self,
        server: Callable[[], Any],
        page_size: int = PAGE_SIZE,
        parallel: int = PARALLEL_PAGES,
        gate: PlexGate | None = None,
    ) -> None:
        self.server = server
        self.gate = gate
        self.page_size = page_size
        self.parallel = parallel

    def get(self, key: str, params: dict[str, str] | None = None) -> ET.Element:
        return ET.fromstring(self.get_bytes(key, params))  # noqa: S314 - the operator's own Plex, parsed as plexapi does

    def get_bytes(self, key: str, params: dict[str, str] | None = None) -> bytes:
        """What Plex answers, unparsed, through plexapi's session and headers (for callers with their own parser)."""
        server = self.server()
        response = server._session.get(
            server.url(key), headers=server._headers(), params=params, timeout=server._timeout
        )
        content: bytes = response.content
        return content

    def sections(self) -> list[LibrarySection]:
        return parse_sections(self.get("/library/sections"))

    def _page(self, section_id: str, start: int, filters: dict[str, str]) -> tuple[list[IndexedItem], int]:
        params = {
            "type": "1",
            "excludeElements": LEFT_OUT_ELEMENTS,
            "excludeFields": LEFT_OUT_FIELDS,
            "X-Plex-Container-Start": str(start),
            "X-Plex-Container-Size": str(self.page_size),
            **filters,
        }
        with self.gate.unmeasured() if self.gate is not None else contextlib.nullcontext():
            root = self.get(f"/library/sections/{section_id}/all", params)
        items = parse_items(root, section_id)
        total = _int(root.attrib.get("totalSize"))
        return items, total if total is not None else start + len(items)

    def items(self, section_id: str, *, changed_since: int | None = None) -> Iterator[IndexedItem]:
        """Every movie of the section (or those updated at or after ``changed_since``, Plex's clock)."""
        filters = {"updatedAt>>": str(changed_since - 1)} if changed_since is not None else {}
        first, total = self._page(section_id, 0, filters)
        yield from first
        if len(first) < self.page_size or total <= len(first):
            return
        starts = range(self.page_size, total, self.page_size)
        with ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="plex-listing") as pool:
            pages: list[Future[tuple[list[IndexedItem], int]]] = [
                pool.submit(self._page, section_id, start, filters) for start in starts
            ]
            try:
                for page in pages:
                    yield from page.result()[0]
            finally:
                for page in pages:
                    page.cancel()
