"""Backfills: "sync every scene" or "sync the scenes changed recently".

A backfill is one :class:`EntityChange` of kind ``library`` on the ``ENTITY`` work queue;
ingest's fan-out turns it into one sync job per scene, durably, and reports its progress on
a core-NATS subject (:func:`progress_subject`) for whoever watches (``stash2plex sync``).
The plugin's *Sync* tasks and the CLI both build the change here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from stash2plex.common.contracts import EntityChange, Message
from stash2plex.common.subjects import PROGRESS_PREFIX, token

Scope = Literal["all", "recent"]


def backfill_change(scope: Scope, hours: float | None = None) -> EntityChange:
    """The change that queues every scene (``all``) or those changed in the last ``hours`` (``recent``)."""
    if scope == "recent":
        if hours is None or hours <= 0:
            raise ValueError("a recent backfill needs a positive number of hours")
        return EntityChange(kind="library", entity_id="recent", since_hours=hours)
    return EntityChange(kind="library", entity_id="all")


def describe(change: EntityChange) -> str:
    """What a backfill covers, in words."""
    if change.entity_id == "recent":
        return f"scenes changed in the last {change.since_hours:g} h"
    return "every scene"


def progress_subject(event_id: str) -> str:
    """Where the fan-out of the change with ``event_id`` reports its progress."""
    return f"{PROGRESS_PREFIX}.{token(event_id)}"


class FanOutProgress(Message):
    """One page of a fan-out done: the scenes it queued and how many there are in all."""

    event_id: str
    kind: str
    entity_id: str
    queued: int = Field(ge=0, description="Sync jobs published so far for this change.")
    total: int | None = Field(default=None, ge=0, description="Scenes the change touches, as Stash counts them.")
    scene_ids: list[str] = Field(default_factory=list, description="The scenes queued by this page.")
    done: bool = Field(default=False, description="The fan-out has queued every scene.")
