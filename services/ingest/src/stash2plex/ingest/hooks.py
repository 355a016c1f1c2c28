"""What a Stash hook event is, and which jobs it becomes.

A scene hook becomes one sync job for that scene. A performer, studio, tag or group hook
becomes an :class:`EntityChange`, fanned out to the scenes it touches by
:mod:`stash2plex.ingest.entities`, never on the request path.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from stash2plex.common.contracts import EntityChange, SyncJob, SyncReason

_HOOK_TYPE = re.compile(r"^(?P<object>[A-Za-z]+)\.(?P<op>Create|Update|Destroy|Merge)\.Post$")
SCENE_HOOKS = {"Scene.Create.Post", "Scene.Update.Post", "Scene.Destroy.Post"}
ENTITY_OBJECTS: dict[str, Literal["performer", "studio", "tag", "group"]] = {
    "Performer": "performer",
    "Studio": "studio",
    "Tag": "tag",
    "Group": "group",
}


class Destroyed(BaseModel):
    """What Stash still tells about a scene it just deleted."""

    model_config = ConfigDict(extra="ignore")

    path: str | None = Field(default=None, max_length=4096)
    checksum: str | None = Field(default=None, max_length=128)
    oshash: str | None = Field(default=None, max_length=64)


class HookEvent(BaseModel):
    """The body the Stash plugin posts: a slimmed hook context (``input`` is never kept)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    event_id: str = Field(pattern=r"^[A-Za-z0-9_\-]{8,64}$", description="Made once by the plugin; a replay keeps it.")
    type: str = Field(max_length=64, description="The hook, e.g. Scene.Update.Post.")
    id: str | None = Field(default=None, pattern=r"^[0-9]{1,18}$", description="Id of the changed object.")
    input_fields: list[str] = Field(default_factory=list, alias="inputFields", max_length=500)
    received_at: float | None = Field(default=None, description="When the plugin saw the hook (epoch seconds).")
    spooled_at: float | None = Field(default=None, description="Set when the event waited in the plugin's spool.")
    destroyed: Destroyed | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("type")
    @classmethod
    def _known_shape(cls, value: str) -> str:
        if not _HOOK_TYPE.match(value):
            raise ValueError("not a Stash hook type (expected <Object>.<Create|Update|Destroy|Merge>.Post)")
        return value

    @model_validator(mode="after")
    def _id_when_needed(self) -> HookEvent:
        if self.id is None and (self.type in SCENE_HOOKS or self.entity_kind is not None):
            raise ValueError(f"{self.type} needs the id of the changed object")
        return self

    @property
    def entity_kind(self) -> Literal["performer", "studio", "tag", "group"] | None:
        match = _HOOK_TYPE.match(self.type)
        if match is None or match["op"] == "Create":
            return None  # a new performer/studio/tag/group has no scenes yet
        return ENTITY_OBJECTS.get(match["object"])


Job = SyncJob | EntityChange


def jobs_for(event: HookEvent) -> Job | None:
    """The one job this event becomes, or None for hooks Stash2Plex has no use for."""
    if event.type in SCENE_HOOKS:
        assert event.id is not None
        destroyed = event.type == "Scene.Destroy.Post"
        paths = [event.destroyed.path] if destroyed and event.destroyed and event.destroyed.path else []
        return SyncJob(
            scene_id=event.id,
            reason=SyncReason.DESTROY if destroyed else SyncReason.HOOK,
            event_id=event.event_id,
            hook=event.type,
            destroyed_paths=paths,
        )
    kind = event.entity_kind
    if kind is not None:
        assert event.id is not None
        return EntityChange(kind=kind, entity_id=event.id, event_id=event.event_id, hook=event.type)
    return None
