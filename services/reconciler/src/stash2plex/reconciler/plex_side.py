"""The Plex side of a pass: every movie of the configured libraries, read page by page, kept small.

Each item goes into the syncer's own index (:class:`~stash2plex.syncer.plex_index.PlexIndex`, so
a scene finds exactly the items the syncer would write) plus a few facts the comparison needs:
whether Plex shows identifying metadata (studio, actors, genres, summary, date: the
``plex_empty`` test) and a short digest of each field the syncer writes and a listing shows
(title, sort title, summary, tagline, date, year, studio, user rating). Long texts are not kept:
8 bytes a field are enough to tell whether Plex still holds what was written.

Requests go through plexapi's session (the token, the stable client identity, the error hook),
one page at a time: a worker thread only fetches, and asks for the next page as soon as one has
arrived, so Plex builds page n+1 while page n is parsed here. The listing keeps the tag elements
whose presence matters (``Genre``, ``Role``) and leaves out the rest, and the item attributes no
comparison reads.
"""

from __future__ import annotations

import hashlib
import struct
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import quote_plus

from stash2plex.common.pathmap import PathMapper
from stash2plex.syncer.mapping import DATE, STUDIO, SUMMARY, TAGLINE, TITLE, TITLE_SORT, USER_RATING, YEAR
from stash2plex.syncer.matching import choose_sections
from stash2plex.syncer.plex_index import PlexIndex
from stash2plex.syncer.plex_item import _rating
from stash2plex.syncer.plex_listing import IndexedItem, LibrarySection, PlexListing, parse_items
from stash2plex.syncer.sync_options import MatchOptions

LEFT_OUT_ELEMENTS = "Country,Director,Writer,Producer,Collection,Label,Guid,Field,Image,UltraBlurColors"
LEFT_OUT_FIELDS = "key,type,librarySectionTitle,librarySectionKey,contentRating,rating,audienceRating,thumb,art"
"""Attributes a pass never reads (a fifth of a listing); a server that ignores this just sends them."""
COMPARED_FIELDS: tuple[str, ...] = (TITLE, TITLE_SORT, SUMMARY, TAGLINE, DATE, YEAR, STUDIO, USER_RATING)
"""Fields the syncer writes whose values a listing shows in full (tag lists are trimmed there)."""
DIGEST_SIZE = 8
PARSE_CHUNK = 1 << 16
"""Bytes of a listing handed to the parser at a time."""
_TAGS_THAT_IDENTIFY = frozenset({"Genre", "Role"})
_DIGEST_AT = {name: n * DIGEST_SIZE for n, name in enumerate(COMPARED_FIELDS)}
_HEAD = struct.Struct("<?q")
"""A packed :class:`ItemFacts`: ``meaningful`` and ``added_at``, then the digests."""
_LATEST = 2**63 - 1


def field_digest(value: str) -> bytes:
    """The same hash the sync record keeps of a written value (``value_hash``), as raw bytes."""
    return hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=DIGEST_SIZE).digest()


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What a pass keeps of one Plex item besides its index entry."""

    meaningful: bool
    digests: bytes
    """``field_digest`` of each of :data:`COMPARED_FIELDS`, in that order."""
    added_at: int

    def digest(self, name: str) -> bytes:
        at = _DIGEST_AT[name]
        return self.digests[at : at + DIGEST_SIZE]

    def packed(self) -> bytes:
        # An absurd addedAt (past 2^63) stays later than any scope's start.
        return _HEAD.pack(self.meaningful, min(self.added_at, _LATEST)) + self.digests

    @classmethod
    def unpack(cls, packed: bytes) -> ItemFacts:
        meaningful, added_at = _HEAD.unpack_from(packed)
        return cls(meaningful=meaningful, digests=packed[_HEAD.size :], added_at=added_at)


class FactsTable(Mapping[str, ItemFacts]):
    """:class:`ItemFacts` by rating key, each stored as one ``bytes`` (~80 bytes an item less than the object)."""

    def __init__(self) -> None:
        self._packed: dict[str, bytes] = {}

    def __setitem__(self, rating_key: str, facts: ItemFacts) -> None:
        self._packed[rating_key] = facts.packed()

    def __getitem__(self, rating_key: str) -> ItemFacts:
        return ItemFacts.unpack(self._packed[rating_key])

    def __contains__(self, rating_key: object) -> bool:
        return rating_key in self._packed

    def __iter__(self) -> Iterator[str]:
        return iter(self._packed)

    def __len__(self) -> int:
        return len(self._packed)


def listed_fields(attrs: dict[str, str]) -> tuple[str, ...]:
    """The values of :data:`COMPARED_FIELDS` as the syncer's ``parse_item`` reads them (unit-tested against it).

    ``parse_item`` builds a model with every tag of the item; a pass only needs these few texts.
    """
    get = attrs.get
    title = get("title", "")
    return (
        title,
        get("titleSort") or title,
        get(SUMMARY, ""),
        get(TAGLINE, ""),
        get(DATE, ""),
        get(YEAR, ""),
        get(STUDIO, ""),
        _rating(get("userRating")),
    )


def item_facts(video: ET.Element) -> ItemFacts:
    attrs = video.attrib
    values = listed_fields(attrs)
    # parse_item's ``meaningful``: genres or actors, or a studio, a summary or a date.
    meaningful = bool(attrs.get(STUDIO) or attrs.get(SUMMARY) or attrs.get(DATE)) or any(
        child.tag in _TAGS_THAT_IDENTIFY for child in video
    )
    digests = b"".join(map(field_digest, values))
    added = attrs.get("addedAt") or "0"
    return ItemFacts(meaningful=meaningful, digests=digests, added_at=int(added) if added.isdigit() else 0)


@dataclass
class PlexLibrary:
    """The configured libraries as one pass saw them."""

    sections: list[LibrarySection]
    index: PlexIndex
    facts: FactsTable = field(default_factory=FactsTable)

    def __len__(self) -> int:
        return len(self.index)


Progress = Callable[[int, int | None], None]


class PlexReader:
    """Reads the libraries through a :class:`PlexListing` (its ``get`` is one raw request)."""

    def __init__(self, listing: PlexListing, mapper: PathMapper, options: MatchOptions, page_size: int) -> None:
        self.listing, self.mapper, self.options, self.page_size = listing, mapper, options, page_size

    def read(self, progress: Progress) -> PlexLibrary:
        """Every movie of the configured libraries (blocking: run it in a thread)."""
        sections = choose_sections(self.listing.sections(), self.options.libraries)
        library = PlexLibrary(sections=sections, index=PlexIndex(self.mapper))
        seen, totals = 0, 0
        for section in sections:
            first = True
            for items, facts, total in self._pages(section.id):
                if first:
                    totals += total
                    first = False
                library.index.put_many(items)
                for item, fact in zip(items, facts, strict=True):
                    library.facts[item.rating_key] = fact
                seen += len(items)
                progress(seen, totals)
        return library

    def _fetch(self, section_id: str, start: int) -> bytes:
        """One listing page as Plex sent it (what ``PlexListing.get`` parses: the same session and headers)."""
        params = {
            "type": "1",
            "excludeElements": LEFT_OUT_ELEMENTS,
            "excludeFields": LEFT_OUT_FIELDS,
            "X-Plex-Container-Start": str(start),
            "X-Plex-Container-Size": str(self.page_size),
        }
        return self.listing.get_bytes(f"/library/sections/{section_id}/all", params)

    def _pages(self, section_id: str) -> Iterator[tuple[list[IndexedItem], list[ItemFacts], int]]:
        """The section's pages in order; once the total is known, page n+1 is fetched while page n is parsed."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="plex-page") as pool:
            start, total = 0, None
            pending: Future[bytes] = pool.submit(self._fetch, section_id, 0)
            while True:
                content = pending.result()
                following = start + self.page_size
                ahead = pool.submit(self._fetch, section_id, following) if total and following < total else None
                items, facts, total = parse_page(content, section_id, start)
                del content
                more = len(items) >= self.page_size and following < total
                yield items, facts, total
                if not more:
                    if ahead is not None:
                        ahead.cancel()
                    return
                pending = ahead or pool.submit(self._fetch, section_id, following)
                start = following

    def scan(self, sections: list[LibrarySection], folder: str, case_sensitive: bool) -> list[str]:
        """Ask Plex to scan ``folder`` in the libraries whose locations hold it; their ids."""
        target = _folder_key(folder, case_sensitive)
        asked: list[str] = []
        for section in sections:
            if any(_under(target, _folder_key(loc, case_sensitive)) for loc in section.locations):
                server = self.listing.server()  # a scan answers with no body: plexapi's query copes
                server.query(f"/library/sections/{section.id}/refresh?path={quote_plus(folder)}")
                asked.append(section.id)
        return asked


def parse_page(content: bytes, section_id: str, start: int) -> tuple[list[IndexedItem], list[ItemFacts], int]:
    """A listing page's items (as the syncer's ``parse_items`` reads them), their facts, and the section's total.

    Read as it parses: each ``<Video>`` is indexed and emptied at its end tag, so a page never
    stands as a whole tree (2,500 items are ~20 MB of elements, and their holes stay in the heap).
    """
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
    items: list[IndexedItem] = []
    facts: list[ItemFacts] = []
    root: ET.Element | None = None
    view = memoryview(content)
    for at in range(0, max(len(content), 1), PARSE_CHUNK):
        parser.feed(view[at : at + PARSE_CHUNK])
        for happened in parser.read_events():
            event, element = happened[0], happened[-1]
            if not isinstance(element, ET.Element):
                continue  # only start and end events were asked for: always elements
            if event == "start":
                if root is None:
                    root = element
            elif element.tag == "Video":
                items.extend(parse_items(element, section_id))
                facts.append(item_facts(element))
                element.clear()
    parser.close()
    assert root is not None  # close() raised otherwise: no element found
    total_text = root.attrib.get("totalSize")
    total = int(total_text) if total_text and total_text.isdigit() else start + len(items)
    return items, facts, total


def _folder_key(path: str, case_sensitive: bool) -> str:
    return PathMapper.key(path, case_sensitive=case_sensitive).replace("\\", "/").rstrip("/")


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root + "/")


def folder_of(path: str) -> str:
    """The folder part of a Plex path, whichever separator it uses."""
    cut = max(path.rfind("/"), path.rfind("\\"))
    return path[:cut] if cut > 0 else path
