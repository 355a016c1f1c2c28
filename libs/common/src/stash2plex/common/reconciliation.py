"""What the reconciler tells the rest of the system: its passes and their progress, on the wire.

The reconciler service runs the passes; ``stash2plex status``, ``stash2plex reconcile`` and
ingest's plugin tasks read what it says through these models:

* the pass history, a JSON list (oldest first) under ``reconcile.history`` in the ``s2p_state``
  bucket (:data:`~stash2plex.common.topology.RECONCILE_HISTORY_KEY`);
* the running pass, under ``reconcile.pass`` in the ``s2p_locks`` bucket: the lease that keeps
  one pass at a time across replicas (the bucket's TTL frees it when its holder dies) carries the
  pass's progress too, so any replica can answer ``progress``;
* the answers of the control verbs ``s2p.ctl.reconciler.reconcile`` and ``…progress``.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, NotFoundError
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from stash2plex.common import topology
from stash2plex.common.subjects import GapKind

LEASE_KEY = "reconcile.pass"
"""Key of the running pass (lease and progress) in the ``s2p_locks`` bucket."""


class Scope(StrEnum):
    """Which Stash scenes a pass compares: all, or those Stash changed in the last day or week."""

    ALL = "all"
    DAY = "24h"
    WEEK = "7d"

    @property
    def window(self) -> timedelta | None:
        return {Scope.ALL: None, Scope.DAY: timedelta(hours=24), Scope.WEEK: timedelta(days=7)}[self]

    def since(self, now: datetime) -> datetime | None:
        """The oldest change a pass starting at ``now`` (aware) looks at; None for every scene."""
        window = self.window
        return None if window is None else now - window


Outcome = Literal["completed", "failed", "skipped"]
Trigger = Literal["schedule", "startup", "manual"]
Phase = Literal["plex", "stash", "plex_only", "done"]


def no_gaps() -> dict[str, int]:
    return {kind.value: 0 for kind in GapKind}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class PassProgress(_Model):
    """A pass while it runs: where it is, how far, what it found so far."""

    pass_id: str
    scope: Scope
    trigger: Trigger
    holder: str = Field(description="host:pid of the reconciler running it.")
    started_at: AwareDatetime
    phase: Phase = "plex"
    """``plex`` reading Plex's listing, ``stash`` comparing scenes, ``plex_only`` looking for Plex items
    without a scene."""
    plex_items: int = 0
    plex_total: int | None = None
    scenes_compared: int = 0
    scenes_total: int | None = None
    gaps: dict[str, int] = Field(default_factory=no_gaps)
    eta_s: float | None = None
    updated_at: AwareDatetime


class PassRecord(_Model):
    """One finished (or skipped) pass, as kept in the history."""

    pass_id: str
    scope: Scope
    trigger: Trigger
    holder: str
    started_at: AwareDatetime
    ended_at: AwareDatetime
    outcome: Outcome
    reason: str | None = Field(default=None, description="Why it was skipped or failed.")
    plex_items: int = 0
    scenes_compared: int = 0
    gaps: dict[str, int] = Field(default_factory=no_gaps)
    ambiguous: int = Field(
        default=0, description="Scenes several Plex items could be (strict matching writes none of them)."
    )
    scans: int = Field(default=0, description="Folders Plex was asked to scan for scenes it lacked.")

    @property
    def duration_s(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()

    @property
    def actionable(self) -> int:
        """Gaps the syncer acts on (every kind but ``missing_in_stash``)."""
        return sum(n for kind, n in self.gaps.items() if GapKind(kind).actionable)


class ReconcileAnswer(_Model):
    """What ``s2p.ctl.reconciler.reconcile`` answers at once."""

    started: bool
    pass_id: str | None = None
    scope: Scope
    reason: str | None = Field(default=None, description="Why no pass started.")
    running: PassProgress | None = Field(default=None, description="The pass already running, if that is why.")


class ProgressAnswer(_Model):
    """What ``s2p.ctl.reconciler.progress`` answers: the running pass, else the last one."""

    running: PassProgress | None = None
    last: PassRecord | None = None


def parse_history(raw: bytes | None) -> list[PassRecord]:
    """The history list; entries this version cannot read are left out rather than failing the rest."""
    if not raw:
        return []
    try:
        items = json.loads(raw)
    except ValueError:
        return []
    passes: list[PassRecord] = []
    for item in items if isinstance(items, list) else []:
        try:
            passes.append(PassRecord.model_validate(item))
        except ValidationError:
            continue
    return passes


async def read_history(js: JetStreamContext) -> list[PassRecord]:
    """The last passes, oldest first (empty before the first pass)."""
    try:
        bucket = await js.key_value(topology.STATE_BUCKET)
        entry = await bucket.get(topology.RECONCILE_HISTORY_KEY)
    except (KeyNotFoundError, NotFoundError, BucketNotFoundError):
        return []
    return parse_history(entry.value)


async def read_running(js: JetStreamContext) -> PassProgress | None:
    """The pass some reconciler runs right now, or None."""
    try:
        bucket = await js.key_value(topology.LOCKS_BUCKET)
        entry = await bucket.get(LEASE_KEY)
    except (KeyNotFoundError, NotFoundError, BucketNotFoundError):
        return None
    if not entry.value:
        return None
    try:
        return PassProgress.model_validate_json(entry.value)
    except ValidationError:
        return None
