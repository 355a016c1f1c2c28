"""Settings of the ingest service: the common groups plus ``STASH2PLEX_INGEST__*``."""

from __future__ import annotations

from pydantic import Field

from stash2plex.common.settings import CommonSettings, ListenSettings

DEFAULT_PORT = 9910


class IngestOptions(ListenSettings):
    """Options of the ingest service (``STASH2PLEX_INGEST__…``)."""

    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535, description="TCP port of the ingest HTTP server.")


class IngestSettings(CommonSettings):
    """Everything the ingest service reads from the environment."""

    ingest: IngestOptions = IngestOptions()
