"""Typed answers of the Stash GraphQL queries in ``queries/``.

Field names follow Stash's schema (already snake_case), so the models parse the
JSON as it comes. Models are frozen: a scene read from Stash is a snapshot, and the
syncer compares snapshots rather than mutating them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class _StashModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class Version(_StashModel):
    """What ``version`` answers: the release (``v0.30.1``), the git hash and the build time."""

    version: str | None = None
    hash: str
    build_time: str


class Fingerprint(_StashModel):
    """One file hash; Stash's types are ``oshash``, ``md5`` and ``phash``."""

    type: str
    value: str


class Folder(_StashModel):
    path: str


class SceneFile(_StashModel):
    """One video file of a scene, as Stash's host sees it (its path separator, its mount points)."""

    id: str
    path: str
    basename: str
    parent_folder: Folder | None = None
    duration: float | None = None
    fingerprints: tuple[Fingerprint, ...] = ()

    def fingerprint(self, kind: str) -> str | None:
        """The value of one fingerprint type, or None when Stash has not computed it."""
        for fingerprint in self.fingerprints:
            if fingerprint.type == kind:
                return fingerprint.value
        return None

    @property
    def oshash(self) -> str | None:
        return self.fingerprint("oshash")

    @property
    def md5(self) -> str | None:
        return self.fingerprint("md5")

    @property
    def phash(self) -> str | None:
        return self.fingerprint("phash")


class StudioRef(_StashModel):
    """A parent studio: enough to name a collection after it."""

    id: str
    name: str
    image_path: str | None = None


class Studio(_StashModel):
    id: str
    name: str
    image_path: str | None = None
    parent_studio: StudioRef | None = None


class Performer(_StashModel):
    id: str
    name: str
    disambiguation: str | None = None
    image_path: str | None = None
    gender: str | None = None


class Tag(_StashModel):
    id: str
    name: str


class Group(_StashModel):
    id: str
    name: str


class SceneGroup(_StashModel):
    """Membership of a scene in a group (formerly "movie"), with its position when set."""

    group: Group
    scene_index: int | None = None


class ScenePaths(_StashModel):
    """URLs Stash built for this scene, relative to the host name the client used."""

    screenshot: str | None = None


class Scene(_StashModel):
    """A scene with every field Stash2Plex syncs (fragment ``SceneFields``)."""

    id: str
    title: str | None = None
    code: str | None = None
    details: str | None = None
    date: str | None = Field(default=None, description="YYYY-MM-DD as Stash stores it.")
    rating100: int | None = None
    organized: bool = False
    urls: tuple[str, ...] = ()
    created_at: AwareDatetime
    updated_at: AwareDatetime
    files: tuple[SceneFile, ...] = ()
    paths: ScenePaths = ScenePaths()
    studio: Studio | None = None
    performers: tuple[Performer, ...] = ()
    tags: tuple[Tag, ...] = ()
    groups: tuple[SceneGroup, ...] = ()

    @property
    def primary_file(self) -> SceneFile | None:
        """The file Stash treats as the scene's own (it lists it first)."""
        return self.files[0] if self.files else None

    def has_file_path(self, path: str) -> bool:
        """Whether one of the scene's files is at exactly ``path`` (case and all).

        Stash's own path filter is a case-insensitive LIKE; this is the exact check
        that has to follow it before a Plex item is tied to this scene.
        """
        return any(file.path == path for file in self.files)

    def changed_since(self, moment: datetime) -> bool:
        """Whether Stash last changed the scene at or after ``moment`` (aware).

        Stash keeps whole seconds, so a change in the same second as ``moment`` counts.
        """
        return self.updated_at >= moment.replace(microsecond=0)


class ScenePage(_StashModel):
    """One page of ``findScenes``: ``count`` is Stash's total for the filter, ``scenes`` this page."""

    page: int
    per_page: int
    count: int
    scenes: tuple[Scene, ...] = ()

    @property
    def has_next(self) -> bool:
        return self.per_page > 0 and self.page * self.per_page < self.count


class SceneIdPage(_StashModel):
    """One page of scene ids for an entity (performer, studio, tag or group)."""

    page: int
    per_page: int
    count: int
    ids: tuple[str, ...] = ()


PluginSettings = dict[str, Any]
