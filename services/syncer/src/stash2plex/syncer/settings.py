"""Settings of the syncer service: the common groups plus ``STASH2PLEX_SYNCER__*``."""

from __future__ import annotations

from pydantic import Field

from stash2plex.common.settings import CommonSettings, ListenSettings

DEFAULT_PORT = 9911


class SyncerOptions(ListenSettings):
    """Options of the syncer service (``STASH2PLEX_SYNCER__…``)."""

    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535, description="TCP port of the syncer HTTP server.")


class SyncerSettings(CommonSettings):
    """Everything the syncer service reads from the environment."""

    syncer: SyncerOptions = SyncerOptions()
