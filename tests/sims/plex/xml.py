"""Render the simulator's state as PMS XML, shaped like recorded responses (see reference fixtures).

Only attributes plexapi reads, plus the ones that make a response recognisable, are
emitted. Callers hold ``library.lock`` while rendering so a concurrent edit from a test
never shows up half-applied.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from urllib.parse import quote
from xml.etree.ElementTree import _escape_attrib, _escape_cdata  # type: ignore[attr-defined]

from tests.sims.plex.model import Asset, Collection, Item, Library, Section

LIBRARY_IDENTIFIER = "com.plexapp.plugins.library"
MEDIA_TAG_PREFIX = "/system/bundle/media/flags/"
MEDIA_TAG_VERSION = "1730000000"

#: XML element per tag kind, and the ``filter=`` name PMS puts on it.
TAG_ELEMENTS: dict[str, str] = {
    "genre": "Genre",
    "country": "Country",
    "collection": "Collection",
    "director": "Director",
    "writer": "Writer",
    "producer": "Producer",
    "actor": "Role",
    "label": "Label",
}

#: How many tags of a kind a LISTING shows per item (details show all). PMS trims listings;
#: these numbers approximate what it does, and ``None`` means no limit.
LISTING_TAG_LIMITS: dict[str, int | None] = {
    "genre": 2,
    "country": 2,
    "collection": None,
    "director": 1,
    "writer": 1,
    "producer": 0,
    "actor": 3,
    "label": None,
}

_SEARCH_TYPES = {"movie": 1, "show": 2, "collection": 18}
_PLACEHOLDER_SECTION_ART = {"movie": "/:/resources/movie-fanart.jpg", "show": "/:/resources/show-fanart.jpg"}
_PLACEHOLDER_SECTION_THUMB = {"movie": "/:/resources/movie.png", "show": "/:/resources/show.png"}


def search_type(libtype: str) -> int:
    return _SEARCH_TYPES.get(libtype, 0)


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def el(tag: str, parent: ET.Element | None = None, /, **attrs: object) -> ET.Element:
    """An element with the non-None attributes, in the order given."""
    clean = {k: v if type(v) is str else _fmt(v) for k, v in attrs.items() if v is not None}
    return ET.SubElement(parent, tag, clean) if parent is not None else ET.Element(tag, clean)


def to_bytes(element: ET.Element) -> bytes:
    """The response body: ``ET.tostring``'s text (by :func:`_serialized` when it can), after PMS's declaration."""
    try:
        text = _serialized(element)
    except _NotPlain:
        text = ET.tostring(element, encoding="unicode")  # faster than encoding="utf-8" for big pages
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + text.encode("utf-8")


class _NotPlain(Exception):  # noqa: N818 - a signal: ElementTree's own serializer takes over
    """An element :func:`_serialized` leaves to ElementTree (a namespace, a comment, a value that is no text)."""


_NEEDS_ESCAPE = re.compile(r'[&<>"\r\n\t]')


def _serialized(element: ET.Element) -> str:
    """What ``ET.tostring(element, encoding="unicode")`` writes, for the plain elements the simulator builds.

    ElementTree's serializer first walks the tree for namespaces, then escapes every value with
    seven ``replace`` checks; a 2,500-item listing spends most of its answer there. Here a value is
    only escaped (by ElementTree's own functions) when it holds a character that needs it.
    """
    parts: list[str] = []
    _write(element, parts.append)
    return "".join(parts)


def _write(element: ET.Element, write: Callable[[str], object]) -> None:
    tag = element.tag
    if not isinstance(tag, str) or tag[:1] == "{":
        raise _NotPlain
    write("<" + tag)
    for key, value in element.attrib.items():
        if not isinstance(key, str) or key[:1] == "{" or not isinstance(value, str):
            raise _NotPlain
        write(f' {key}="{_escape_attrib(value) if _NEEDS_ESCAPE.search(value) else value}"')
    text = element.text
    if text or len(element):
        write(">")
        if text:
            write(_escape_cdata(text))
        for child in element:
            _write(child, write)
        write("</" + tag + ">")
    else:
        write(" />")
    if element.tail:
        write(_escape_cdata(element.tail))


def container(**attrs: object) -> ET.Element:
    return el("MediaContainer", **attrs)


# ---- server ----------------------------------------------------------------------------
def server_root(library: Library) -> ET.Element:
    root = container(
        size=4,
        allowCameraUpload=False,
        allowChannelAccess=True,
        allowMediaDeletion=True,
        allowSharing=True,
        allowSync=True,
        backgroundProcessing=True,
        certificate=False,
        companionProxy=True,
        countryCode="usa",
        diagnostics="logs,databases,streaminglogs",
        eventStream=True,
        friendlyName=library.friendly_name,
        hubSearch=True,
        itemClusters=True,
        machineIdentifier=library.machine_identifier,
        mediaProviders=True,
        multiuser=True,
        myPlex=True,
        myPlexMappingState="mapped",
        myPlexSigninState="ok",
        myPlexSubscription=True,
        myPlexUsername="sim@example.invalid",
        offlineTranscode=1,
        ownerFeatures="collections,federated-auth,hardware_transcoding,home,pass,webhooks",
        platform="Linux",
        platformVersion="6.8.0",
        pluginHost=True,
        pushNotifications=False,
        readOnlyLibraries=False,
        streamingBrainABRVersion=3,
        streamingBrainVersion=2,
        sync=True,
        transcoderActiveVideoSessions=0,
        transcoderAudio=True,
        transcoderLyrics=True,
        transcoderPhoto=True,
        transcoderSubtitles=True,
        transcoderVideo=True,
        updatedAt=library.now(),
        updater=True,
        version=library.version,
        voiceSearch=True,
    )
    for key, title in (
        ("activities", "activities"),
        ("library", "library"),
        ("media", "media"),
        ("metadata", "metadata"),
    ):
        el("Directory", root, count=1, key=key, title=title)
    return root


def identity(library: Library) -> ET.Element:
    return container(
        size=0, apiVersion="1.2.2", claimed=True, machineIdentifier=library.machine_identifier, version=library.version
    )


def library_root() -> ET.Element:
    root = container(
        size=3,
        allowSync=False,
        art="/:/resources/library-art.png",
        content="",
        identifier=LIBRARY_IDENTIFIER,
        mediaTagPrefix=MEDIA_TAG_PREFIX,
        mediaTagVersion=MEDIA_TAG_VERSION,
        title1="Plex Library",
        title2="",
    )
    for key, title in (
        ("sections", "Library Sections"),
        ("recentlyAdded", "Recently Added Content"),
        ("onDeck", "On Deck Content"),
    ):
        el("Directory", root, key=key, title=title)
    return root


def section_element(section: Section, parent: ET.Element | None = None) -> ET.Element:
    d = el(
        "Directory",
        parent,
        allowSync=True,
        art=_PLACEHOLDER_SECTION_ART.get(section.type),
        composite=f"/library/sections/{section.id}/composite/{section.updated_at}",
        filters=True,
        refreshing=False,
        thumb=_PLACEHOLDER_SECTION_THUMB.get(section.type),
        key=section.id,
        type=section.type,
        title=section.title,
        agent=section.agent,
        scanner=section.scanner,
        language=section.language,
        uuid=section.uuid,
        updatedAt=section.updated_at,
        createdAt=section.created_at,
        scannedAt=section.scanned_at,
        content=True,
        directory=True,
        contentChangedAt=section.version,
        hidden=0,
    )
    for index, path in enumerate(section.locations, start=1):
        el("Location", d, id=section.id * 100 + index, path=path)
    return d


def sections(library: Library) -> ET.Element:
    root = container(
        size=len(library.sections),
        allowSync=False,
        identifier=LIBRARY_IDENTIFIER,
        mediaTagPrefix=MEDIA_TAG_PREFIX,
        mediaTagVersion=MEDIA_TAG_VERSION,
        title1="Plex Library",
    )
    for section in library.sections.values():
        section_element(section, root)
    return root


def section_container(section: Section, **attrs: object) -> ET.Element:
    return container(
        **attrs,
        allowSync=True,
        art=_PLACEHOLDER_SECTION_ART.get(section.type),
        identifier=LIBRARY_IDENTIFIER,
        librarySectionID=section.id,
        librarySectionTitle=section.title,
        librarySectionUUID=section.uuid,
        mediaTagPrefix=MEDIA_TAG_PREFIX,
        mediaTagVersion=MEDIA_TAG_VERSION,
        thumb=_PLACEHOLDER_SECTION_THUMB.get(section.type),
        title1=section.title,
        viewGroup=section.type,
    )


# ---- items -----------------------------------------------------------------------------
def item_element(
    library: Library,
    item: Item,
    parent: ET.Element | None = None,
    *,
    detail: bool,
    guids: bool = False,
    exclude_elements: frozenset[str] = frozenset(),
    exclude_fields: frozenset[str] = frozenset(),
) -> ET.Element:
    """One ``<Video>``; ``exclude_*`` are PMS's response customization (``excludeElements=Genre,Role``)."""
    section = library.sections.get(item.section_id)
    v = el(
        "Video",
        parent,
        ratingKey=item.rating_key,
        key=item.key,
        guid=item.guid,
        studio=item.studio,
        type=item.type,
        title=item.title,
        titleSort=item.sort_title if item.sort_title != item.title else None,
        originalTitle=item.original_title,
        editionTitle=item.edition_title,
        librarySectionTitle=section.title if section else None,
        librarySectionID=item.section_id,
        librarySectionKey=f"/library/sections/{item.section_id}",
        contentRating=item.content_rating,
        summary=item.summary,
        rating=item.rating,
        audienceRating=item.audience_rating,
        userRating=item.user_rating,
        year=item.year,
        tagline=item.tagline,
        thumb=item.thumb,
        art=item.art,
        duration=item.duration,
        originallyAvailableAt=item.originally_available_at,
        addedAt=item.added_at,
        updatedAt=item.updated_at,
    )
    for name in exclude_fields:
        v.attrib.pop(name, None)
    for media in () if "Media" in exclude_elements else item.media:
        m = el(
            "Media",
            v,
            id=media.id,
            duration=media.duration,
            bitrate=media.bitrate,
            width=media.width,
            height=media.height,
            aspectRatio=round(media.width / media.height, 2) if media.width and media.height else None,
            audioChannels=2,
            audioCodec=media.audio_codec,
            videoCodec=media.video_codec,
            videoResolution=media.video_resolution,
            container=media.container,
            videoFrameRate="24p",
            videoProfile="high",
        )
        for part in media.parts:
            el(
                "Part",
                m,
                id=part.id,
                key=f"/library/parts/{part.id}/{item.added_at}/file.{part.container}",
                duration=part.duration,
                file=part.file,
                size=part.size,
                container=part.container,
                videoProfile="high",
            )
    for kind, tag_name in TAG_ELEMENTS.items():
        if tag_name in exclude_elements:
            continue
        values = item.tags.get(kind, [])
        limit = None if detail else LISTING_TAG_LIMITS.get(kind)
        for value in values if limit is None else values[:limit]:
            tag_id = library.tag_id(kind, value.tag)
            el(tag_name, v, id=tag_id, filter=f"{kind}={tag_id}", role=value.role, tag=value.tag, thumb=value.thumb)
    if (detail or guids) and "Guid" not in exclude_elements:
        for guid in item.external_guids:
            el("Guid", v, id=guid)
    if detail:
        for name in sorted(item.locks):
            el("Field", v, locked=True, name=name)
    return v


def collection_element(
    library: Library, coll: Collection, parent: ET.Element | None = None, *, detail: bool = False
) -> ET.Element:
    section = library.sections.get(coll.section_id)
    members = library.collection_members(coll)
    years = [m.year for m in members if m.year]
    d = el(
        "Directory",
        parent,
        ratingKey=coll.rating_key,
        key=f"{coll.key}/children",
        guid=coll.guid,
        type="collection",
        title=coll.title,
        titleSort=coll.sort_title if coll.sort_title != coll.title else None,
        librarySectionTitle=section.title if section else None,
        librarySectionID=coll.section_id,
        librarySectionKey=f"/library/sections/{coll.section_id}",
        contentRating=coll.content_rating,
        subtype=section.type if section else "movie",
        summary=coll.summary or "",
        index=coll.tag_id,
        thumb=coll.thumb,
        art=coll.art,
        addedAt=coll.added_at,
        updatedAt=coll.updated_at,
        childCount=len(members),
        maxYear=max(years) if years else None,
        minYear=min(years) if years else None,
        smart=False,
    )
    for value in coll.tags.get("label", []):
        tag_id = library.tag_id("label", value.tag)
        el("Label", d, id=tag_id, filter=f"label={tag_id}", tag=value.tag)
    if detail:
        for name in sorted(coll.locks):
            el("Field", d, locked=True, name=name)
    return d


def assets(rk: int, element: str, items: Iterable[Asset], selected: Asset | None) -> ET.Element:
    listed = list(items)
    root = container(size=len(listed))
    for asset in listed:
        if asset.data is not None:
            key = f"/library/metadata/{rk}/file?url={quote(asset.id, safe='')}"
        else:
            key = asset.url or ""
        el("Photo", root, key=key, ratingKey=asset.id, selected=asset is selected, thumb=key)
    return root


# ---- search metadata (plexapi validates filters and sorts against this) -------------------
_MOVIE_FIELDS = (
    ("title", "Title", "string"),
    ("titleSort", "Sort Title", "string"),
    ("originalTitle", "Original Title", "string"),
    ("studio", "Studio", "string"),
    ("contentRating", "Content Rating", "string"),
    ("year", "Year", "integer"),
    ("guid", "Guid", "guid"),
    ("genre", "Genre", "tag"),
    ("collection", "Collection", "tag"),
    ("actor", "Actor", "tag"),
    ("director", "Director", "tag"),
    ("writer", "Writer", "tag"),
    ("producer", "Producer", "tag"),
    ("country", "Country", "tag"),
    ("label", "Label", "tag"),
)
_MOVIE_SORTS = (
    ("titleSort", "Title", "asc"),
    ("addedAt", "Date Added", "desc"),
    ("updatedAt", "Date Updated", "desc"),
    ("originallyAvailableAt", "Release Date", "desc"),
    ("year", "Year", "desc"),
    ("rating", "Critic Rating", "desc"),
    ("audienceRating", "Audience Rating", "desc"),
    ("userRating", "Rating", "desc"),
)
_OPERATORS = {
    "string": (
        ("=", "contains"),
        ("!=", "does not contain"),
        ("==", "is"),
        ("!==", "is not"),
        ("<=", "begins with"),
        (">=", "ends with"),
    ),
    "integer": (("=", "is"), ("!=", "is not"), (">>=", "is greater than"), ("<<=", "is less than")),
    "tag": (("=", "is"), ("!=", "is not")),
}


def search_meta(section: Section, libtype: str) -> ET.Element:
    """The ``<Meta>`` block PMS adds to ``/all?includeMeta=1`` (Types with Filters, Sorts, Fields)."""
    meta = el("Meta")
    if libtype == "collection":
        t = el(
            "Type",
            meta,
            key=f"/library/sections/{section.id}/collections",
            type="collection",
            title="Collections",
            active=False,
        )
        el("Sort", t, default="asc", defaultDirection="asc", descKey="titleSort:desc", key="titleSort", title="Title")
        el("Field", t, key="title", title="Title", type="string")
    else:
        stype = search_type(section.type)
        t = el(
            "Type",
            meta,
            key=f"/library/sections/{section.id}/all?type={stype}",
            type=section.type,
            title=section.title,
            active=True,
        )
        for key, title, ftype in _MOVIE_FIELDS:
            if ftype == "tag":
                el(
                    "Filter",
                    t,
                    filter=key,
                    filterType="string",
                    key=f"/library/sections/{section.id}/{key}?type={stype}",
                    title=title,
                    type="filter",
                )
        for key, title, direction in _MOVIE_SORTS:
            el(
                "Sort",
                t,
                default=direction if key == "titleSort" else None,
                defaultDirection=direction,
                descKey=f"{key}:desc",
                key=key,
                title=title,
            )
        for key, title, ftype in _MOVIE_FIELDS:
            el("Field", t, key=key, title=title, type=ftype)
    for ftype, operators in _OPERATORS.items():
        ft = el("FieldType", meta, type=ftype)
        for key, title in operators:
            el("Operator", ft, key=key, title=title)
    return meta


def filter_choices(section: Section, kind: str, choices: Iterable[tuple[int, str]]) -> ET.Element:
    listed = list(choices)
    root = section_container(section, size=len(listed))
    stype = search_type(section.type)
    for tag_id, title in listed:
        el(
            "Directory",
            root,
            fastKey=f"/library/sections/{section.id}/all?type={stype}&{kind}={tag_id}",
            key=tag_id,
            title=title,
            type=kind,
        )
    return root
