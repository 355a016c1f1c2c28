"""Settings of the reconciler service: the common groups plus ``STASH2PLEX_RECONCILER__*``."""

from __future__ import annotations

from pydantic import Field

from stash2plex.common.settings import CommonSettings, ListenSettings

DEFAULT_PORT = 9912


class ReconcilerOptions(ListenSettings):
    """Options of the reconciler service (``STASH2PLEX_RECONCILER__…``)."""

    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535, description="TCP port of the reconciler HTTP server.")


class ReconcilerSettings(CommonSettings):
    """Everything the reconciler service reads from the environment."""

    reconciler: ReconcilerOptions = ReconcilerOptions()
