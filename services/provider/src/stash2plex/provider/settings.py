"""Settings of the provider service: the common groups plus ``STASH2PLEX_PROVIDER__*``."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator

from stash2plex.common.settings import CommonSettings, ListenSettings, blank_is_unset

DEFAULT_PORT = 9913
_SECRET_SEGMENT = re.compile(r"^[A-Za-z0-9_-]{16,128}$")


class PosterMode(StrEnum):
    """What Plex gets as a scene's poster: Stash's 16:9 screenshot, or that screenshot on a 2:3 canvas."""

    SCREENSHOT = "screenshot"
    LETTERBOX = "letterbox"


class ProviderOptions(ListenSettings):
    """Options of the provider service (``STASH2PLEX_PROVIDER__…``)."""

    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535, description="TCP port of the provider HTTP server.")
    public_url: AnyHttpUrl | None = Field(
        default=None,
        description="Base URL at which Plex reaches the provider, e.g. http://192.168.1.5:9913; image URLs are "
        "built on it. Empty: the address Plex used for the request.",
    )
    secret_path: SecretStr | None = Field(
        default=None,
        description="Secret first path segment (16-128 of A-Z a-z 0-9 _ -): the provider then answers only under "
        "/<secret>/, so the URL registered in Plex is its password. Empty: open.",
    )
    title: str = Field(default="Stash2Plex", min_length=1, description="The provider's name as Plex shows it.")
    cache_ttl_s: float = Field(
        default=300, ge=0, description="How long answers read from Stash are reused (0: not cached)."
    )
    cache_max_entries: int = Field(
        default=5000, ge=1, description="Answers kept in each cache (scenes, lookups, responses); oldest go first."
    )
    stash_timeout_s: float = Field(
        default=5.0, gt=0, le=120, description="Timeout of one Stash request made while Plex waits."
    )
    stash_retries: int = Field(
        default=2, ge=0, le=10, description="Retries of a Stash request that failed transiently (database locked)."
    )
    manual_max_results: int = Field(
        default=10, ge=1, le=100, description="Candidates a Fix Match (manual=1) lists at most."
    )
    auto_min_score: int = Field(
        default=80, ge=0, le=100, description="An automatic match below this score counts as no match."
    )
    content_rating: str = Field(default="XXX", description="contentRating given to every scene (empty: none).")
    is_adult: bool = Field(default=True, description="Mark scenes as adult content (isAdult) in Plex.")
    poster_mode: PosterMode = Field(
        default=PosterMode.SCREENSHOT,
        description="Poster of a scene: 'screenshot' (Stash's 16:9 image) or 'letterbox' (the same on a 2:3 canvas).",
    )
    image_max_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1024, description="Largest image the proxy passes on; larger ones answer 502."
    )
    image_max_age_s: int = Field(
        default=86400, ge=0, description="Cache-Control max-age of proxied images (their URLs change with the image)."
    )
    gaps: bool = Field(
        default=True, description="Publish gaps: files Plex scans that no Stash scene has, and empty scenes."
    )
    gap_repeat_s: float = Field(
        default=3600, ge=0, description="A gap already published for a file or scene is not repeated within this."
    )

    _blank = field_validator("public_url", "secret_path", mode="before")(blank_is_unset)

    @field_validator("secret_path")
    @classmethod
    def _secret_is_one_segment(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _SECRET_SEGMENT.match(value.get_secret_value()):
            raise ValueError("must be 16 to 128 characters of A-Z, a-z, 0-9, '_' and '-' (one URL path segment)")
        return value

    @field_validator("public_url")
    @classmethod
    def _no_query(cls, value: AnyHttpUrl | None) -> AnyHttpUrl | None:
        if value is not None and (value.query or value.fragment):
            raise ValueError("must be a plain base URL without ?query or #fragment")
        return value

    @property
    def mount(self) -> str:
        """The path prefix of every provider route: ``/<secret>`` or empty."""
        return "/" + self.secret_path.get_secret_value() if self.secret_path else ""


class ProviderSettings(CommonSettings):
    """Everything the provider service reads from the environment."""

    provider: ProviderOptions = ProviderOptions()

    def secrets(self) -> list[str]:
        secret = self.provider.secret_path.get_secret_value() if self.provider.secret_path else ""
        return [*super().secrets(), *([secret] if secret else [])]
