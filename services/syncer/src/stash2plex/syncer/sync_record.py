"""The per-scene sync record in NATS KV (bucket ``s2p_sync``): what was last written, and where.

It lets a job for an unchanged scene finish without asking Plex anything (the content hash),
lets a retry redo only what failed (``pending``), remembers which Plex values are Stash2Plex's
own (``written``: the emptied-field rule and ``preserve_plex_edits`` depend on it) and which
image bytes each item already has (``images``: an upload happens only when they change).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime

from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

log = logging.getLogger(__name__)

FIELDS_PENDING = "fields"
"""In ``pending``: the batched edit itself did not go through."""


def value_hash(value: str) -> str:
    """Short and stable: enough to tell whether Plex still holds what was written."""
    return hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def content_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class ItemRecord(BaseModel):
    """One Plex item of the scene."""

    model_config = ConfigDict(frozen=True)

    rating_key: str
    section_id: str
    written: dict[str, str] = Field(default_factory=dict)
    """Field or tag kind → hash of the value Stash2Plex last wrote (or found equal and locked)."""
    collections: tuple[str, ...] = ()
    """Collections Stash2Plex put the item in; others on the item are the user's and stay."""
    images: dict[str, str] = Field(default_factory=dict)
    """``thumb``/``art`` → digest of the bytes last uploaded."""
    image_urls: dict[str, str] = Field(default_factory=dict)
    """``thumb``/``art`` → the Stash URL those bytes came from (same URL: no need to fetch again)."""
    pending: tuple[str, ...] = ()
    """What is still to do: ``fields`` and/or image elements (a failure, or a cover not generated yet)."""


class SyncRecord(BaseModel):
    """What the last sync of one scene achieved."""

    model_config = ConfigDict(frozen=True)

    v: int = 1
    scene_id: str
    stash_updated_at: AwareDatetime
    content_hash: str
    items: tuple[ItemRecord, ...] = ()
    confidence: str | None = None
    """How the items were found (guid, path, basename, title)."""
    scan_requested_at: float | None = None
    """When a Plex scan of the scene's folder was asked for (once per new scene)."""
    synced_at: AwareDatetime

    @property
    def complete(self) -> bool:
        """Every item holds everything: a job with the same content hash has nothing to do."""
        return bool(self.items) and not any(item.pending for item in self.items)

    @property
    def rating_keys(self) -> tuple[str, ...]:
        return tuple(sorted(item.rating_key for item in self.items))

    def item(self, rating_key: str) -> ItemRecord | None:
        return next((item for item in self.items if item.rating_key == rating_key), None)


def record_key(scene_id: str) -> str:
    return f"scene.{scene_id}"


class SyncRecords:
    """Reads and writes records; an unreadable record counts as none (the next sync rewrites it)."""

    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    async def get(self, scene_id: str) -> SyncRecord | None:
        try:
            entry = await self.kv.get(record_key(scene_id))
        except KeyNotFoundError:
            return None
        if not entry.value:
            return None
        try:
            return SyncRecord.model_validate_json(entry.value)
        except ValidationError as error:
            log.warning("ignoring the unreadable sync record of scene %s: %s", scene_id, error)
            return None

    async def put(self, record: SyncRecord) -> None:
        await self.kv.put(record_key(record.scene_id), record.model_dump_json(exclude_defaults=False).encode())

    async def delete(self, scene_id: str) -> None:
        try:
            await self.kv.delete(record_key(scene_id))
        except KeyNotFoundError:
            return


def now_utc() -> datetime:
    return datetime.now(UTC)
