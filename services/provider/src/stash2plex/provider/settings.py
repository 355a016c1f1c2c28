"""Settings of the provider service: the common groups plus ``STASH2PLEX_PROVIDER__*``."""

from __future__ import annotations

from pydantic import Field

from stash2plex.common.settings import CommonSettings, ListenSettings

DEFAULT_PORT = 9913


class ProviderOptions(ListenSettings):
    """Options of the provider service (``STASH2PLEX_PROVIDER__…``)."""

    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535, description="TCP port of the provider HTTP server.")


class ProviderSettings(CommonSettings):
    """Everything the provider service reads from the environment."""

    provider: ProviderOptions = ProviderOptions()
