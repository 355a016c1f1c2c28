"""Messages the services exchange over JetStream, as versioned pydantic models.

Every message carries ``v`` (its schema version). A reader refuses a version newer than it
knows with a clear error instead of guessing, so a rolling upgrade never misreads a job.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from stash2plex.common.subjects import GapKind, dlq_subject, entity_subject, gap_subject, sync_subject, token


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_trace_id() -> str:
    return uuid.uuid4().hex


class ContractError(ValueError):
    """A message on the wire that this version cannot read."""


class Message(BaseModel):
    """Base of every contract: versioned, immutable, JSON on the wire."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    VERSION: ClassVar[int] = 1

    v: int = Field(default=1, description="Schema version of this message.")
    trace_id: str = Field(default_factory=new_trace_id, description="Follows one change through every service.")

    @field_validator("v")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value > cls.VERSION:
            raise ValueError(f"message version {value} is newer than this service understands ({cls.VERSION})")
        return value

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        try:
            return cls.model_validate_json(data)
        except ValidationError as error:
            raise ContractError(f"not a valid {cls.__name__}: {error}") from error


class SyncReason(StrEnum):
    """Why a scene should be synced; the syncer always reads the scene's current state anyway."""

    HOOK = "hook"
    ENTITY = "entity"
    GAP = "gap"
    MANUAL = "manual"
    REQUEUE = "requeue"
    DESTROY = "destroy"


class SyncJob(Message):
    """Bring one scene's Plex item(s) in step with Stash."""

    scene_id: str
    reason: SyncReason
    event_id: str = Field(default_factory=new_trace_id, description="Dedup key of the event that caused the job.")
    hook: str | None = Field(default=None, description="The Stash hook type, e.g. Scene.Update.Post.")
    requested_at: datetime = Field(default_factory=utcnow)
    destroyed_paths: list[str] = Field(default_factory=list, description="Paths Stash sent with a destroy hook.")

    @field_validator("scene_id")
    @classmethod
    def _id_is_token(cls, value: str) -> str:
        return token(value)

    @property
    def subject(self) -> str:
        return sync_subject(self.scene_id)

    @property
    def msg_id(self) -> str:
        """A replayed event is a duplicate; a newer edit of the same scene is not."""
        return f"sync:{self.scene_id}:{self.event_id}"


EntityKind = Literal["performer", "studio", "tag", "group", "library"]


class EntityChange(Message):
    """A change that touches many scenes: resolved to one sync job per scene, off the request path.

    ``kind="library"`` with ``entity_id`` ``all`` or ``recent`` is a backfill request.
    """

    kind: EntityKind
    entity_id: str
    event_id: str = Field(default_factory=new_trace_id)
    hook: str | None = None
    since_hours: float | None = Field(default=None, gt=0, description="For a 'recent' backfill: how far back.")
    requested_at: datetime = Field(default_factory=utcnow)

    @field_validator("entity_id")
    @classmethod
    def _id_is_token(cls, value: str) -> str:
        return token(value)

    @property
    def subject(self) -> str:
        return entity_subject(self.kind, self.entity_id)

    @property
    def msg_id(self) -> str:
        return f"entity:{self.kind}:{self.entity_id}:{self.event_id}"

    @property
    def job_event_id(self) -> str:
        """The event id of every sync job this change fans out to (so a redelivery dedups, and a
        watcher can tell its jobs from others)."""
        return f"{self.event_id}-{self.kind[0]}{self.entity_id}"


class Gap(Message):
    """One difference between the two libraries found by a reconciliation pass or the provider."""

    kind: GapKind
    scene_id: str | None = None
    plex_rating_key: str | None = None
    plex_path: str | None = None
    detail: str = ""
    pass_id: str | None = Field(default=None, description="The reconciliation pass that found it.")
    detected_at: datetime = Field(default_factory=utcnow)

    @property
    def item_id(self) -> str:
        """The id the subject carries: the scene for Stash-side gaps, the Plex item otherwise."""
        item = self.scene_id if self.kind is not GapKind.MISSING_IN_STASH else self.plex_rating_key
        if item is None:
            raise ContractError(
                f"a {self.kind.value} gap needs {'a Plex rating key' if self.scene_id else 'a scene id'}"
            )
        return item

    @property
    def subject(self) -> str:
        return gap_subject(self.kind, self.item_id)

    @property
    def msg_id(self) -> str:
        return f"gap:{self.kind.value}:{self.item_id}:{self.pass_id or self.trace_id}"


class ErrorClass(StrEnum):
    """How a failure should be handled; decided in one place by the syncer."""

    TRANSIENT = "transient"
    NOT_FOUND = "not_found"
    PERMANENT = "permanent"
    CONFIGURATION = "configuration"


class DeadLetter(Message):
    """A job the syncer gave up on, with everything needed to understand and requeue it."""

    job: SyncJob
    error_class: ErrorClass
    error: str
    attempts: int = Field(ge=1)
    first_failure_at: datetime
    last_failure_at: datetime
    source: Literal["sync", "gap"] = "sync"
    extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def subject(self) -> str:
        return dlq_subject(self.job.scene_id)

    @property
    def msg_id(self) -> str:
        return f"dlq:{self.job.scene_id}:{self.job.event_id}:{self.attempts}"
