"""The simulated server's state: sections, items, collections, images and files waiting for a scan.

Everything the HTTP layer shows is read from here, and tests change it directly
(``sim.library``), so one re-entrant lock guards it: the server thread and the test
thread may touch it at the same time.

Generated sections are lazy: an item that nobody changed is rebuilt from its index on
every read, so a 100,000-item library costs a list of ints until something is edited.
"""

from __future__ import annotations

import bisect
import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

#: Tag lists a movie carries, by the name the edit API uses (``genre[0].tag.tag``).
TAG_KINDS: tuple[str, ...] = ("genre", "collection", "actor", "director", "writer", "producer", "country", "label")

#: Scalar fields the edit API may set on a movie, by their ``<field>.value`` name.
TEXT_FIELDS: frozenset[str] = frozenset(
    {"title", "titleSort", "originalTitle", "summary", "tagline", "studio", "contentRating", "editionTitle"}
)
DATE_FIELDS: frozenset[str] = frozenset({"originallyAvailableAt"})
INT_FIELDS: frozenset[str] = frozenset({"year", "addedAt"})
FLOAT_FIELDS: frozenset[str] = frozenset({"rating", "userRating", "audienceRating"})
#: Fields that can only be locked (their value changes through uploads), e.g. ``thumb.locked=1``.
LOCK_ONLY_FIELDS: frozenset[str] = frozenset({"thumb", "art", "clearLogo", "squareArt"})
MOVIE_FIELDS: frozenset[str] = TEXT_FIELDS | DATE_FIELDS | INT_FIELDS | FLOAT_FIELDS

_ARTICLES = ("the ", "a ", "an ")


def derive_sort_title(title: str) -> str:
    """PMS sorts English titles without a leading article ("The Matrix" under M)."""
    lowered = title.lower()
    for article in _ARTICLES:
        if lowered.startswith(article) and len(title) > len(article):
            return title[len(article) :]
    return title


@dataclass(frozen=True)
class TagValue:
    """One tag on an item; ``thumb`` and ``role`` only mean something for actors."""

    tag: str
    thumb: str | None = None
    role: str | None = None


@dataclass
class Part:
    id: int
    file: str
    size: int = 0
    container: str = "mp4"
    duration: int | None = None


@dataclass
class Media:
    id: int
    parts: list[Part]
    duration: int | None = None
    bitrate: int | None = 8000
    width: int | None = 1920
    height: int | None = 1080
    container: str = "mp4"
    video_codec: str = "h264"
    audio_codec: str = "aac"
    video_resolution: str = "1080"


@dataclass
class Item:
    """A movie as PMS stores it; ``title_sort=None`` means derived from the title."""

    rating_key: int
    section_id: int
    title: str
    type: str = "movie"
    guid: str = ""
    title_sort: str | None = None
    original_title: str | None = None
    summary: str | None = None
    tagline: str | None = None
    studio: str | None = None
    content_rating: str | None = None
    edition_title: str | None = None
    originally_available_at: str | None = None
    year: int | None = None
    rating: float | None = None
    audience_rating: float | None = None
    user_rating: float | None = None
    thumb: str | None = None
    art: str | None = None
    duration: int | None = None
    added_at: int = 0
    updated_at: int = 0
    media: list[Media] = field(default_factory=list)
    tags: dict[str, list[TagValue]] = field(default_factory=dict)
    locks: set[str] = field(default_factory=set)
    external_guids: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"/library/metadata/{self.rating_key}"

    @property
    def sort_title(self) -> str:
        return self.title_sort if self.title_sort else derive_sort_title(self.title)

    @property
    def files(self) -> list[str]:
        return [part.file for media in self.media for part in media.parts]

    def tag_list(self, kind: str) -> list[TagValue]:
        return list(self.tags.get(kind, []))

    def tag_names(self, kind: str) -> list[str]:
        return [t.tag for t in self.tags.get(kind, [])]

    def get_field(self, name: str) -> object:
        return getattr(self, FIELD_ATTRS[name])

    def set_field(self, name: str, value: object) -> None:
        setattr(self, FIELD_ATTRS[name], value)


#: Edit-API field name -> attribute on :class:`Item` (and :class:`Collection` for the shared ones).
FIELD_ATTRS: dict[str, str] = {
    "title": "title",
    "titleSort": "title_sort",
    "originalTitle": "original_title",
    "summary": "summary",
    "tagline": "tagline",
    "studio": "studio",
    "contentRating": "content_rating",
    "editionTitle": "edition_title",
    "originallyAvailableAt": "originally_available_at",
    "year": "year",
    "addedAt": "added_at",
    "rating": "rating",
    "userRating": "user_rating",
    "audienceRating": "audience_rating",
}


@dataclass
class Collection:
    """A regular (not smart) collection; its members are the items carrying its tag."""

    rating_key: int
    section_id: int
    title: str
    tag_id: int
    guid: str
    title_sort: str | None = None
    summary: str | None = None
    content_rating: str | None = None
    thumb: str | None = None
    art: str | None = None
    added_at: int = 0
    updated_at: int = 0
    locks: set[str] = field(default_factory=set)
    tags: dict[str, list[TagValue]] = field(default_factory=dict)
    type: str = "collection"

    @property
    def key(self) -> str:
        return f"/library/collections/{self.rating_key}"

    @property
    def sort_title(self) -> str:
        return self.title_sort if self.title_sort else derive_sort_title(self.title)

    def get_field(self, name: str) -> object:
        return getattr(self, FIELD_ATTRS[name])

    def set_field(self, name: str, value: object) -> None:
        setattr(self, FIELD_ATTRS[name], value)


COLLECTION_FIELDS: frozenset[str] = frozenset({"title", "titleSort", "summary", "contentRating"})


@dataclass
class Section:
    id: int
    title: str
    type: str = "movie"
    agent: str = "tv.plex.agents.movie"
    scanner: str = "Plex Movie"
    language: str = "en-US"
    uuid: str = ""
    locations: list[str] = field(default_factory=list)
    created_at: int = 0
    updated_at: int = 0
    scanned_at: int = 0
    rating_keys: list[int] = field(default_factory=list)
    version: int = 0

    @property
    def key(self) -> str:
        return f"/library/sections/{self.id}"


@dataclass
class Asset:
    """One poster or background PMS knows for an item (uploaded bytes or a remote URL)."""

    id: str
    element: str  # "thumb" or "art"
    data: bytes | None
    url: str | None
    created_at: int
    content_type: str = "image/jpeg"


@dataclass
class StagedFile:
    """A file that "appears on disk": the next scan covering its folder adds it as an item."""

    section_id: int
    file: str
    title: str
    fields: dict[str, object] = field(default_factory=dict)


@dataclass
class _Generated:
    section_id: int
    first_rk: int
    count: int
    build: Callable[[int, int], Item]
    title_of: Callable[[int], str]


def sniff_image_type(data: bytes) -> str:
    """Good enough to serve uploaded bytes back with a sensible Content-Type."""
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"GIF8"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "image/jpeg"


def is_under(path: str, root: str) -> bool:
    """Whether ``path`` lies in folder ``root``, POSIX or Windows style (case-insensitive there)."""

    def norm(p: str) -> tuple[str, bool]:
        windows = "\\" in p or (len(p) > 1 and p[1] == ":")
        p = p.replace("\\", "/")
        return (p.casefold() if windows else p), windows

    p, _ = norm(path)
    r, _ = norm(root)
    r = r.rstrip("/")
    return p == r or p.startswith(r + "/")


class Library:
    """All server state. Mutating methods bump the section version that sorted views cache on."""

    def __init__(
        self,
        *,
        friendly_name: str = "Stash2Plex Sim",
        machine_identifier: str | None = None,
        version: str = "1.43.0.10389-8be686aa6",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.lock = threading.RLock()
        self.friendly_name = friendly_name
        self.machine_identifier = machine_identifier or hashlib.sha1(uuid.uuid4().bytes).hexdigest()
        self.version = version
        self.clock = clock
        self.sections: dict[int, Section] = {}
        self.collections: dict[int, Collection] = {}
        self.staged: list[StagedFile] = []
        self._items: dict[int, Item] = {}
        self._generated: list[_Generated] = []
        self._generated_starts: list[int] = []
        self._deleted: set[int] = set()
        self._assets: dict[tuple[int, str], list[Asset]] = {}
        self._selected: dict[tuple[int, str], str] = {}
        self._tag_ids: dict[tuple[str, str], int] = {}
        self._order_cache: dict[tuple[int, str, bool], tuple[int, list[int]]] = {}
        self._next_rk = 1
        self._next_id = 1

    # ---- identifiers -------------------------------------------------------------------
    def now(self) -> int:
        return int(self.clock())

    def new_rating_key(self) -> int:
        with self.lock:
            rk = self._next_rk
            self._next_rk += 1
            return rk

    def reserve_rating_keys(self, upto: int) -> None:
        """Never hand out keys up to ``upto`` (a seed file chose them itself)."""
        with self.lock:
            self._next_rk = max(self._next_rk, upto + 1)

    def new_id(self) -> int:
        """Ids for media, parts and the like (PMS keeps separate counters; one is enough here)."""
        with self.lock:
            value = self._next_id
            self._next_id += 1
            return value

    def tag_id(self, kind: str, name: str) -> int:
        """PMS gives each distinct tag an id, used in ``filter="genre=12"``."""
        with self.lock:
            key = (kind, name.casefold())
            if key not in self._tag_ids:
                self._tag_ids[key] = len(self._tag_ids) + 1
            return self._tag_ids[key]

    def rename_tag(self, kind: str, old: str, new: str) -> None:
        """A renamed tag keeps its id, so ``filter="collection=7"`` still finds its items."""
        with self.lock:
            tag_id = self.tag_id(kind, old)
            self._tag_ids[(kind, new.casefold())] = tag_id

    # ---- sections ----------------------------------------------------------------------
    def add_section(
        self,
        title: str,
        type: str = "movie",
        *,
        locations: Iterable[str] = (),
        agent: str | None = None,
        scanner: str | None = None,
        language: str = "en-US",
        section_id: int | None = None,
    ) -> Section:
        with self.lock:
            sid = section_id if section_id is not None else max(self.sections, default=0) + 1
            if sid in self.sections:
                raise ValueError(f"section {sid} exists")
            default_agent = {"movie": "tv.plex.agents.movie", "show": "tv.plex.agents.series"}.get(type, "")
            default_scanner = {"movie": "Plex Movie", "show": "Plex TV Series"}.get(type, "")
            now = self.now()
            section = Section(
                id=sid,
                title=title,
                type=type,
                agent=agent or default_agent,
                scanner=scanner or default_scanner,
                language=language,
                uuid=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.machine_identifier}/{sid}")),
                locations=list(locations),
                created_at=now,
                updated_at=now,
                scanned_at=now,
            )
            self.sections[sid] = section
            return section

    def section(self, section_id: int) -> Section:
        with self.lock:
            return self.sections[section_id]

    def section_by_title(self, title: str) -> Section:
        with self.lock:
            for section in self.sections.values():
                if section.title.casefold() == title.casefold():
                    return section
        raise KeyError(title)

    def touch(self, section_id: int) -> None:
        with self.lock:
            section = self.sections.get(section_id)
            if section is not None:
                section.version += 1

    # ---- items -------------------------------------------------------------------------
    def add_item(
        self,
        section_id: int,
        title: str,
        *,
        files: Iterable[str] = (),
        tags: Mapping[str, Iterable[str | TagValue]] | None = None,
        rating_key: int | None = None,
        **fields: object,
    ) -> Item:
        """Add a movie with one Media per file; ``fields`` are :class:`Item` attribute names."""
        with self.lock:
            section = self.sections[section_id]
            rk = rating_key if rating_key is not None else self.new_rating_key()
            if rating_key is not None:
                if self.find(rk) is not None or rk in self.collections:
                    raise ValueError(f"ratingKey {rk} exists")
                self.reserve_rating_keys(rk)
            now = self.now()
            item = Item(rating_key=rk, section_id=section_id, title=title, added_at=now, updated_at=now)
            item.guid = f"local://{rk}"
            for name, value in fields.items():
                if not hasattr(item, name) or name in {"rating_key", "section_id", "tags", "media"}:
                    raise TypeError(f"unknown item field {name!r}")
                setattr(item, name, value)
            item.media = [self.make_media(file) for file in files]
            for kind, values in (tags or {}).items():
                if kind not in TAG_KINDS:
                    raise TypeError(f"unknown tag kind {kind!r}")
                item.tags[kind] = [v if isinstance(v, TagValue) else TagValue(v) for v in values]
            self._items[rk] = item
            section.rating_keys.append(rk)
            for name in item.tag_names("collection"):
                self.ensure_collection(section_id, name)
            section.version += 1
            return item

    def make_media(self, file: str, *, size: int = 1_500_000_000, duration: int = 1_800_000) -> Media:
        container = file.rsplit(".", 1)[-1].lower() if "." in file else "mp4"
        part = Part(id=self.new_id(), file=file, size=size, container=container, duration=duration)
        return Media(id=self.new_id(), parts=[part], duration=duration, container=container)

    def add_generated(
        self, section_id: int, count: int, build: Callable[[int, int], Item], title_of: Callable[[int], str]
    ) -> range:
        """Reserve ``count`` rating keys whose items ``build(index, rating_key)`` makes on demand."""
        with self.lock:
            section = self.sections[section_id]
            first = self._next_rk
            self._next_rk += count
            gen = _Generated(section_id, first, count, build, title_of)
            self._generated.append(gen)
            self._generated_starts.append(first)
            keys = range(first, first + count)
            section.rating_keys.extend(keys)
            section.version += 1
            return keys

    def _generated_for(self, rk: int) -> _Generated | None:
        pos = bisect.bisect_right(self._generated_starts, rk) - 1
        if pos < 0:
            return None
        gen = self._generated[pos]
        return gen if rk < gen.first_rk + gen.count else None

    def find(self, rk: int) -> Item | None:
        """The item, without keeping a generated one in memory (reads use this)."""
        with self.lock:
            if rk in self._deleted:
                return None
            item = self._items.get(rk)
            if item is not None:
                return item
            gen = self._generated_for(rk)
            return gen.build(rk - gen.first_rk, rk) if gen is not None else None

    def get(self, rk: int) -> Item:
        """The item, kept from now on so changes to it stick (writes and tests use this)."""
        with self.lock:
            item = self._items.get(rk)
            if item is None:
                item = self.find(rk)
                if item is None:
                    raise KeyError(rk)
                self._items[rk] = item
            return item

    def sort_title_of(self, rk: int) -> str:
        with self.lock:
            item = self._items.get(rk)
            if item is not None:
                return item.sort_title
            gen = self._generated_for(rk)
            if gen is not None:
                return derive_sort_title(gen.title_of(rk - gen.first_rk))
            found = self.find(rk)
            return found.sort_title if found else ""

    def title_of(self, rk: int) -> str:
        """An item's title without building a generated item (title searches over huge sections)."""
        with self.lock:
            item = self._items.get(rk)
            if item is not None:
                return item.title
            gen = self._generated_for(rk)
            if gen is not None:
                return gen.title_of(rk - gen.first_rk)
            found = self.find(rk)
            return found.title if found else ""

    def items_in(self, section_id: int) -> Iterator[Item]:
        with self.lock:
            keys = list(self.sections[section_id].rating_keys)
        for rk in keys:
            item = self.find(rk)
            if item is not None:
                yield item

    def all_items(self) -> Iterator[Item]:
        with self.lock:
            ids = list(self.sections)
        for sid in ids:
            yield from self.items_in(sid)

    def materialized(self, section_id: int | None = None) -> list[Item]:
        with self.lock:
            return [i for i in self._items.values() if section_id is None or i.section_id == section_id]

    def count(self, section_id: int) -> int:
        with self.lock:
            return len(self.sections[section_id].rating_keys)

    def delete_item(self, rk: int) -> Item:
        with self.lock:
            item = self.get(rk)
            del self._items[rk]
            self._deleted.add(rk)
            section = self.sections[item.section_id]
            section.rating_keys.remove(rk)
            section.version += 1
            return item

    def ordered_keys(self, section_id: int, sort: str = "titleSort", desc: bool = False) -> list[int]:
        """Rating keys in ``sort`` order, cached until the section changes (paging stays cheap)."""
        with self.lock:
            section = self.sections[section_id]
            cache_key = (section_id, sort, desc)
            cached = self._order_cache.get(cache_key)
            if cached is not None and cached[0] == section.version:
                return cached[1]
            keys = list(section.rating_keys)
            if sort in {"titleSort", "title"}:
                if sort == "titleSort":
                    values = {rk: self.sort_title_of(rk).casefold() for rk in keys}
                else:
                    values = {rk: (self.find(rk) or _MISSING).title.casefold() for rk in keys}
                ordered = sorted(keys, key=lambda rk: (values[rk], rk), reverse=desc)
            elif sort == "ratingKey":
                ordered = sorted(keys, reverse=desc)
            else:
                attr = FIELD_ATTRS.get(sort, "updated_at" if sort == "updatedAt" else sort)

                def sort_value(rk: int) -> tuple[int, object, int]:
                    value = getattr(self.find(rk) or _MISSING, attr, None)
                    # Missing values sort first ascending, last descending (assumed, not checked against PMS).
                    return (0, 0, rk) if value is None else (1, value, rk)

                ordered = sorted(keys, key=sort_value, reverse=desc)
            self._order_cache[cache_key] = (section.version, ordered)
            return ordered

    # ---- collections -------------------------------------------------------------------
    def collection_by_title(self, section_id: int, title: str) -> Collection | None:
        with self.lock:
            for coll in self.collections.values():
                if coll.section_id == section_id and coll.title.casefold() == title.casefold():
                    return coll
            return None

    def ensure_collection(self, section_id: int, title: str) -> Collection:
        """PMS creates a collection the moment an item gets a collection tag it hasn't seen."""
        with self.lock:
            existing = self.collection_by_title(section_id, title)
            if existing is not None:
                return existing
            rk = self.new_rating_key()
            now = self.now()
            coll = Collection(
                rating_key=rk,
                section_id=section_id,
                title=title,
                tag_id=self.tag_id("collection", title),
                guid=f"collection://{uuid.uuid4()}",
                added_at=now,
                updated_at=now,
            )
            self.collections[rk] = coll
            self.touch(section_id)
            return coll

    def collection(self, rk: int) -> Collection | None:
        with self.lock:
            return self.collections.get(rk)

    def collection_members(self, coll: Collection) -> list[Item]:
        """Items carrying the tag; generated items never carry collection tags until edited."""
        with self.lock:
            name = coll.title.casefold()
            members = [
                item
                for item in self._items.values()
                if item.section_id == coll.section_id
                and item.rating_key not in self._deleted
                and any(t.tag.casefold() == name for t in item.tags.get("collection", []))
            ]
            return sorted(members, key=lambda i: (i.sort_title.casefold(), i.rating_key))

    def section_collections(self, section_id: int) -> list[Collection]:
        with self.lock:
            colls = [c for c in self.collections.values() if c.section_id == section_id]
            return sorted(colls, key=lambda c: (c.sort_title.casefold(), c.rating_key))

    def delete_collection(self, rk: int) -> Collection:
        with self.lock:
            coll = self.collections.pop(rk)
            name = coll.title.casefold()
            for item in self.materialized(coll.section_id):
                tags = item.tags.get("collection", [])
                kept = [t for t in tags if t.tag.casefold() != name]
                if len(kept) != len(tags):
                    item.tags["collection"] = kept
            self.touch(coll.section_id)
            return coll

    # ---- images ------------------------------------------------------------------------
    def add_asset(self, rk: int, element: str, *, data: bytes | None = None, url: str | None = None) -> Asset:
        """Store an upload and select it, as PMS does: the item's thumb/art now points at it."""
        with self.lock:
            if url:
                asset_id = url  # PMS lists a poster taken from a URL under that URL
            elif data is not None:
                digest = hashlib.sha1(data).hexdigest()
                asset_id = f"upload://{'posters' if element == 'thumb' else 'art'}/{digest}"
            else:
                raise ValueError("an asset needs bytes or a URL")
            assets = self._assets.setdefault((rk, element), [])
            asset = next((a for a in assets if a.id == asset_id), None)
            if asset is not None and data is not None:
                asset.data = data  # the same URL fetched again may return a new image
                asset.content_type = sniff_image_type(data)
            if asset is None:
                asset = Asset(
                    id=asset_id,
                    element=element,
                    data=data,
                    url=url,
                    created_at=self.now(),
                    content_type=sniff_image_type(data) if data is not None else "image/jpeg",
                )
                assets.append(asset)
            self.select_asset(rk, element, asset.id)
            return asset

    def select_asset(self, rk: int, element: str, asset_id: str) -> bool:
        with self.lock:
            if not any(a.id == asset_id for a in self._assets.get((rk, element), [])):
                return False
            self._selected[(rk, element)] = asset_id
            target: Item | Collection | None = self.collections.get(rk) or self.get(rk)
            previous = getattr(target, element) or ""
            stamp = self.now()
            old_stamp = previous.rsplit("/", 1)[-1]
            if old_stamp.isdigit() and int(old_stamp) >= stamp:
                stamp = int(old_stamp) + 1  # a new URL each time, so clients don't show a cached image
            base = "/library/collections" if rk in self.collections else "/library/metadata"
            setattr(target, element, f"{base}/{rk}/{element}/{stamp}")
            if isinstance(target, Item):
                target.updated_at = max(target.updated_at, stamp)
                self.touch(target.section_id)
            return True

    def clear_asset(self, rk: int, element: str) -> None:
        with self.lock:
            self._selected.pop((rk, element), None)
            target: Item | Collection | None = self.collections.get(rk) or self.get(rk)
            setattr(target, element, None)

    def assets(self, rk: int, element: str) -> list[Asset]:
        with self.lock:
            return list(self._assets.get((rk, element), []))

    def selected_asset(self, rk: int, element: str) -> Asset | None:
        with self.lock:
            chosen = self._selected.get((rk, element))
            return next((a for a in self._assets.get((rk, element), []) if a.id == chosen), None)

    def asset_by_id(self, rk: int, asset_id: str) -> Asset | None:
        with self.lock:
            for (key, _element), assets in self._assets.items():
                if key == rk:
                    for asset in assets:
                        if asset.id == asset_id:
                            return asset
            return None

    # ---- scanning ----------------------------------------------------------------------
    def stage_file(self, section_id: int, file: str, title: str | None = None, **fields: object) -> StagedFile:
        """Put a file "on disk"; it becomes an item when a scan of its folder runs."""
        with self.lock:
            if section_id not in self.sections:
                raise KeyError(section_id)
            if title is None:
                base = file.replace("\\", "/").rsplit("/", 1)[-1]
                title = base.rsplit(".", 1)[0]
            staged = StagedFile(section_id, file, title, dict(fields))
            self.staged.append(staged)
            return staged

    def scan(self, section_id: int, path: str | None = None) -> list[Item]:
        """Add staged files of the section (under ``path`` if given); return the new items."""
        with self.lock:
            section = self.sections[section_id]
            found = [s for s in self.staged if s.section_id == section_id and (path is None or is_under(s.file, path))]
            added = []
            for staged in found:
                self.staged.remove(staged)
                added.append(self.add_item(section_id, staged.title, files=[staged.file], **staged.fields))  # type: ignore[arg-type]
            section.scanned_at = self.now()
            return added


_MISSING = Item(rating_key=0, section_id=0, title="")
