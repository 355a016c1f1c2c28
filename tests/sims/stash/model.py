"""The simulator's in-memory records, shaped like Stash's tables rather than its GraphQL types.

Relations are ids (a scene holds ``studio_id``, ``performer_ids``…), as in Stash's
database, so renaming a performer changes every scene that shows them without
touching the scenes' ``updated_at``: exactly the case the project must handle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass
class SimFile:
    """A video file; its full path is ``folder + <server separator> + basename``, as in Stash."""

    id: int
    folder: str
    basename: str
    size: int = 0
    duration: float = 0.0
    width: int = 1920
    height: int = 1080
    format: str = "mp4"
    video_codec: str = "h264"
    audio_codec: str = "aac"
    frame_rate: float = 29.97
    bit_rate: int = 5_000_000
    fingerprints: dict[str, str] = field(default_factory=dict)
    mod_time: datetime = EPOCH
    created_at: datetime = EPOCH
    updated_at: datetime = EPOCH


@dataclass
class SimSceneGroup:
    group_id: int
    scene_index: int | None = None


@dataclass
class SimScene:
    id: int
    title: str | None = None
    code: str | None = None
    details: str | None = None
    director: str | None = None
    urls: list[str] = field(default_factory=list)
    date: str | None = None
    rating100: int | None = None
    organized: bool = False
    studio_id: int | None = None
    performer_ids: list[int] = field(default_factory=list)
    tag_ids: list[int] = field(default_factory=list)
    groups: list[SimSceneGroup] = field(default_factory=list)
    files: list[SimFile] = field(default_factory=list)
    """Primary file first, as Stash lists them."""
    o_counter: int = 0
    play_count: int = 0
    image_version: int = 0
    """Bump to make the screenshot bytes change (a new cover) without other edits."""
    created_at: datetime = EPOCH
    updated_at: datetime = EPOCH


@dataclass
class SimStudio:
    id: int
    name: str
    parent_id: int | None = None
    has_image: bool = True
    urls: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    details: str | None = None
    image_version: int = 0
    created_at: datetime = EPOCH
    updated_at: datetime = EPOCH


@dataclass
class SimPerformer:
    id: int
    name: str
    disambiguation: str | None = None
    gender: str | None = None
    """One of Stash's GenderEnum names (FEMALE, MALE, …) or None."""
    has_image: bool = True
    alias_list: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    favorite: bool = False
    image_version: int = 0
    created_at: datetime = EPOCH
    updated_at: datetime = EPOCH


@dataclass
class SimTag:
    id: int
    name: str
    parent_ids: list[int] = field(default_factory=list)
    description: str | None = None
    aliases: list[str] = field(default_factory=list)
    has_image: bool = False
    created_at: datetime = EPOCH
    updated_at: datetime = EPOCH


@dataclass
class SimGroup:
    id: int
    name: str
    studio_id: int | None = None
    sub_group_ids: list[int] = field(default_factory=list)
    date: str | None = None
    synopsis: str | None = None
    has_image: bool = True
    created_at: datetime = EPOCH
    updated_at: datetime = EPOCH
