"""What the syncer writes to Plex and how it finds the item: three nested setting groups.

``STASH2PLEX_SYNCER__FIELDS__*`` switches each Plex field on or off, ``STASH2PLEX_SYNCER__MATCH__*``
says which libraries are searched and how strictly, ``STASH2PLEX_SYNCER__WRITE__*`` holds the
safety and timing rules of a write. Kept apart from the delivery settings so each group reads
as one concern.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, Field, field_validator
from pydantic_settings import NoDecode

from stash2plex.common.settings import blank_is_unset


class FieldToggles(BaseModel):
    """Which Stash fields reach Plex; a field switched off is never read, written, locked or cleared."""

    enabled: bool = Field(default=True, description="Master switch: false writes no metadata at all.")
    title: bool = Field(default=True, description="Title and sort title (the file name when Stash has no title).")
    summary: bool = Field(default=True, description="Summary from the scene's details.")
    tagline: bool = Field(default=True, description="Tagline from the scene's studio code.")
    date: bool = Field(default=True, description="Originally-available date and year from the scene's date.")
    studio: bool = Field(default=True, description="Studio.")
    performers: bool = Field(default=True, description="Performers as actors, with their photos.")
    tags: bool = Field(default=True, description="Tags as genres (up to WRITE__TAG_LIMIT).")
    rating: bool = Field(default=True, description="Stash rating (0-100) as the Plex user rating (0-10).")
    poster: bool = Field(default=True, description="Poster uploaded from the scene's cover image.")
    background: bool = Field(default=True, description="Background uploaded from the scene's cover image.")
    collections: bool = Field(default=True, description="Studio and groups as collections.")


class MatchOptions(BaseModel):
    """How a scene's Plex item is found."""

    libraries: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Plex libraries searched, by name, comma separated. Empty: every movie library.",
    )
    strict: bool = Field(
        default=True,
        description="Never pick between candidates: an ambiguous basename or title match is reported, not written; "
        "a title match also needs the durations to agree.",
    )
    full_rebuild_s: float = Field(
        default=3600,
        gt=0,
        description="A miss re-reads every configured library when the index is older than this "
        "(otherwise only items changed since the last read).",
    )

    @field_validator("libraries", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


class WriteOptions(BaseModel):
    """Safety and timing rules of a write."""

    tag_limit: int = Field(default=100, ge=1, le=1000, description="Most genres written for one scene.")
    preserve_plex_edits: bool = Field(
        default=False,
        description="Fill only Plex fields that are empty or still hold what Stash2Plex wrote; "
        "values edited in Plex are kept.",
    )
    unlock_on_destroy: bool = Field(
        default=False,
        description="When a scene is deleted in Stash, unlock the fields Stash2Plex locked on its Plex item "
        "(the item itself is always left in place).",
    )
    scan_on_create: bool = Field(
        default=True,
        description="A new scene whose file Plex does not know yet triggers a scan of that file's folder in Plex.",
    )
    screenshot_wait_s: float = Field(
        default=30,
        ge=0,
        description="A scene younger than this gets its poster and background later: Stash is still "
        "generating the cover.",
    )
    actor_photo_base_url: AnyHttpUrl | None = Field(
        default=None,
        description="Where Plex fetches performer photos: Stash as Plex reaches it, or an image proxy; the "
        "path and query of Stash's image URL are kept. Empty: the configured Stash URL.",
    )

    _blank_url = field_validator("actor_photo_base_url", mode="before")(blank_is_unset)
