"""Settings of the ingest service: the common groups plus ``STASH2PLEX_INGEST__*``."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from stash2plex.common.settings import CommonSettings, ListenSettings, blank_is_unset

DEFAULT_PORT = 9910


class IngestOptions(ListenSettings):
    """Options of the ingest service (``STASH2PLEX_INGEST__…``)."""

    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535, description="TCP port of the ingest HTTP server.")
    token: SecretStr | None = Field(
        default=None, description="Bearer token the Stash plugin must send (the plugin's 'Ingest token' setting)."
    )
    allow_open: bool = Field(
        default=False, description="Accept hooks without a token. Only on a trusted network; off by default."
    )
    publish_timeout_s: float = Field(
        default=0.8, gt=0, le=10, description="How long a hook waits for JetStream before answering 503."
    )
    retry_after_s: int = Field(default=5, ge=1, description="Retry-After sent with a 503 while NATS is unreachable.")
    entity_page_size: int = Field(
        default=200, ge=1, le=1000, description="Scenes asked of Stash per page when a performer/studio/tag changes."
    )
    entity_retry_delay_s: float = Field(
        default=30, gt=0, description="Wait before retrying a fan-out that failed because Stash was unreachable."
    )
    recent_hours: float = Field(
        default=24, gt=0, description="What 'sync recent scenes' means, in hours (Stash UI: 'Recent means (hours)')."
    )
    ui_settings_ttl_s: float = Field(
        default=30, gt=0, description="How often the settings made in Stash's plugin UI are read again."
    )

    _blank_token = field_validator("token", mode="before")(blank_is_unset)


class IngestSettings(CommonSettings):
    """Everything the ingest service reads from the environment."""

    ingest: IngestOptions = IngestOptions()

    def secrets(self) -> list[str]:
        token = self.ingest.token.get_secret_value() if self.ingest.token else ""
        return [*super().secrets(), *([token] if token else [])]
