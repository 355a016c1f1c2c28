"""What one Plex item shows now, read from ``GET /library/metadata/<ratingKey>`` XML.

Only the attributes the diff compares are read, straight from the XML: building plexapi's
objects would cost more than the whole rest of a job.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pydantic import BaseModel, ConfigDict

from stash2plex.syncer.mapping import (
    DATE,
    STUDIO,
    SUMMARY,
    TAGLINE,
    TITLE,
    TITLE_SORT,
    USER_RATING,
    YEAR,
    Actor,
)


class PlexItemState(BaseModel):
    """The current values of one item, in the terms of :class:`~.mapping.DesiredMetadata`."""

    model_config = ConfigDict(frozen=True)

    rating_key: str
    section_id: str
    fields: dict[str, str]
    genres: tuple[str, ...] = ()
    actors: tuple[Actor, ...] = ()
    collections: tuple[str, ...] = ()
    locks: frozenset[str] = frozenset()
    thumb: str | None = None
    art: str | None = None

    @property
    def meaningful(self) -> bool:
        """Plex holds identifying metadata (what the metadata gate protects)."""
        fields = self.fields
        return bool(self.genres or self.actors or fields.get(STUDIO) or fields.get(SUMMARY) or fields.get(DATE))

    def image(self, element: str) -> str | None:
        return self.thumb if element == "thumb" else self.art if element == "art" else None


def _rating(text: str | None) -> str:
    if not text:
        return ""
    try:
        return f"{float(text):.1f}"
    except ValueError:
        return ""


def parse_item(video: ET.Element) -> PlexItemState:
    """The state of one ``<Video>`` element of a detail response."""
    attrs = video.attrib
    title = attrs.get("title", "")
    fields = {
        TITLE: title,
        TITLE_SORT: attrs.get("titleSort") or title,
        SUMMARY: attrs.get("summary", ""),
        TAGLINE: attrs.get("tagline", ""),
        DATE: attrs.get("originallyAvailableAt", ""),
        YEAR: attrs.get("year", ""),
        STUDIO: attrs.get("studio", ""),
        USER_RATING: _rating(attrs.get("userRating")),
    }
    genres: list[str] = []
    actors: list[Actor] = []
    collections: list[str] = []
    locks: set[str] = set()
    for child in video:
        tag = child.tag
        if tag == "Genre":
            genres.append(child.get("tag", ""))
        elif tag == "Role":
            actors.append(Actor(name=child.get("tag", ""), photo=child.get("thumb") or None))
        elif tag == "Collection":
            collections.append(child.get("tag", ""))
        elif tag == "Field" and child.get("locked") in ("1", "true"):
            locks.add(child.get("name", ""))
    return PlexItemState(
        rating_key=attrs.get("ratingKey", ""),
        section_id=attrs.get("librarySectionID", ""),
        fields=fields,
        genres=tuple(genres),
        actors=tuple(actors),
        collections=tuple(collections),
        locks=frozenset(locks),
        thumb=attrs.get("thumb") or None,
        art=attrs.get("art") or None,
    )


def parse_detail(root: ET.Element | None) -> PlexItemState | None:
    """The first item of a detail response, or None when it holds none."""
    if root is None:
        return None
    video = root.find("Video")
    return parse_item(video) if video is not None else None
