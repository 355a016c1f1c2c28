"""Settings of the reconciler service: the common groups plus ``STASH2PLEX_RECONCILER__*``.

The reconciler judges a scene the way the syncer would write it, so it also reads the syncer's
field, match and write settings (``STASH2PLEX_SYNCER__FIELDS__*``, ``__MATCH__*``, ``__WRITE__*``):
one ``.env`` keeps the two in agreement.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from stash2plex.common.reconciliation import Scope
from stash2plex.common.settings import CommonSettings, ListenSettings
from stash2plex.reconciler.schedule import Schedule
from stash2plex.syncer.settings import SyncerOptions

DEFAULT_PORT = 9912


class ReconcilerOptions(ListenSettings):
    """Options of the reconciler service (``STASH2PLEX_RECONCILER__…``)."""

    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535, description="TCP port of the reconciler HTTP server.")
    interval: str = Field(
        default="daily",
        description="When passes run on their own: never, hourly, daily (03:00), weekly (Sunday 03:00), or a cron "
        "expression in the service's local time, e.g. '30 3 * * *' (a sixth field, last, gives seconds).",
    )
    scope: Scope = Field(default=Scope.ALL, description="What a scheduled pass compares: all, 24h or 7d.")
    startup_after_s: float = Field(
        default=3600,
        ge=0,
        description="At start, run a pass when the last completed one is older than this (0: never at start).",
    )
    stash_page_size: int = Field(default=1000, ge=10, le=5000, description="Scenes asked of Stash per page.")
    plex_page_size: int = Field(default=2500, ge=50, le=10000, description="Items asked of Plex per listing page.")
    concurrency: int = Field(
        default=32,
        ge=1,
        le=512,
        description="Sync-record reads and gap publishes in flight at once (Stash and Plex get one request at a time).",
    )
    scan_missing: bool = Field(
        default=True, description="Ask Plex to scan the folder of a scene it has no item for (missing_in_plex)."
    )
    scan_limit: int = Field(default=20, ge=0, description="Most folders one pass asks Plex to scan.")
    history_size: int = Field(default=20, ge=1, le=500, description="Passes kept in the history.")
    probe_timeout_s: float = Field(
        default=2.0, gt=0, description="How long the check that Plex answers may take before a pass starts."
    )

    @field_validator("interval")
    @classmethod
    def _known_interval(cls, value: str) -> str:
        Schedule.parse(value)  # a ValueError names what is wrong with it
        return value.strip()

    @property
    def schedule(self) -> Schedule:
        return Schedule.parse(self.interval)


class ReconcilerSettings(CommonSettings):
    """Everything the reconciler service reads from the environment."""

    reconciler: ReconcilerOptions = ReconcilerOptions()
    syncer: SyncerOptions = SyncerOptions()
