"""Settings shared by every service, read from the environment (prefix ``STASH2PLEX_``,
nested groups joined with ``__``) and from a ``.env`` file.

Each service subclasses :class:`CommonSettings` and adds one group of its own, so a
single ``.env`` can configure the whole stack without two services fighting over a port.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import platformdirs
from pydantic import AnyHttpUrl, BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_core.core_schema import ValidatorFunctionWrapHandler
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

from stash2plex.common.pathmap import PathMapper, PathRule

ENV_PREFIX = "STASH2PLEX_"
ENV_NESTED_DELIMITER = "__"


def blank_is_unset(value: object) -> object:
    """An empty variable (``STASH2PLEX_PLEX__URL=``) means "not configured", not "invalid"."""
    return None if isinstance(value, str) and not value.strip() else value


def default_data_dir() -> Path:
    """Where state lives when nothing else is configured (the embedded broker's store among it)."""
    return Path(platformdirs.user_data_dir("stash2plex", appauthor=False))


class NatsSettings(BaseModel):
    """How to reach the broker; with no ``url`` the service starts the embedded ``nats-server``."""

    url: str | None = Field(
        default=None,
        description="NATS server URL(s), comma separated. Empty: start the embedded nats-server.",
    )
    embedded_host: str = Field(default="127.0.0.1", description="Address the embedded nats-server binds.")
    embedded_port: int = Field(default=4222, ge=0, le=65535, description="Client port of the embedded nats-server.")
    embedded_monitor_port: int = Field(
        default=8222, ge=0, le=65535, description="HTTP monitoring port of the embedded nats-server (0: off)."
    )
    store_dir: Path | None = Field(
        default=None, description="JetStream store of the embedded nats-server. Default: <data_dir>/nats."
    )
    connect_timeout_s: float = Field(default=2.0, gt=0, description="Timeout of one connection attempt.")
    request_timeout_s: float = Field(default=5.0, gt=0, description="Timeout of JetStream API calls and publishes.")
    sync_max_age_days: float = Field(
        default=0, ge=0, description="Age after which an unprocessed sync job expires (0: never)."
    )
    dlq_max_age_days: float = Field(default=30, gt=0, description="How long dead letters are kept.")
    gaps_max_age_days: float = Field(default=7, gt=0, description="How long gap messages are kept.")
    duplicate_window_s: float = Field(
        default=120, gt=0, description="Window in which a republished event with the same id is dropped as a duplicate."
    )
    replicas: int = Field(default=1, ge=1, le=5, description="Stream replicas (3 on a NATS cluster).")

    @field_validator("url")
    @classmethod
    def _blank_url_means_embedded(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        for server in value.split(","):
            if not server.strip().startswith(("nats://", "tls://", "ws://", "wss://")):
                raise ValueError(f"{server.strip()!r} is not a NATS URL (expected nats://host:port)")
        return value.strip()


class StashSettings(BaseModel):
    """Where Stash's GraphQL API is and how to authenticate to it."""

    url: AnyHttpUrl | None = Field(default=None, description="Stash base URL, e.g. http://stash:9999.")
    api_key: SecretStr | None = Field(default=None, description="Stash API key (Settings → Security).")
    timeout_s: float = Field(default=10.0, gt=0, description="Timeout of one Stash request.")

    _blank_url = field_validator("url", mode="before")(blank_is_unset)

    @property
    def graphql_url(self) -> str:
        if self.url is None:
            raise RuntimeError("Stash URL is not configured (STASH2PLEX_STASH__URL)")
        return str(self.url).rstrip("/") + "/graphql"


class PlexSettings(BaseModel):
    """Where Plex Media Server is and the token to use."""

    url: AnyHttpUrl | None = Field(default=None, description="Plex base URL, e.g. http://plex:32400.")
    token: SecretStr | None = Field(default=None, description="Plex token (X-Plex-Token).")
    timeout_s: float = Field(default=10.0, gt=0, description="Timeout of one Plex request.")

    _blank_url = field_validator("url", mode="before")(blank_is_unset)


class LogSettings(BaseModel):
    """How services log: one JSON object a line by default."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", description="Log level.")
    format: Literal["json", "text"] = Field(default="json", description="json (one object a line) or text.")
    obfuscate_paths: bool = Field(default=False, description="Replace file paths in logs by a short hash.")

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class PathSettings(BaseModel):
    """How Stash's file paths translate to Plex's; the rules are checked at start (see ``common.pathmap``)."""

    rules: Annotated[list[PathRule], NoDecode] = Field(
        default_factory=list,
        description="Path rules as a JSON list, tried in order, e.g. "
        '[{"stash": "^/data/(.*)$", "plex": "/media/\\\\1"}]. Empty: both sides see the same paths.',
    )

    @field_validator("rules", mode="wrap")
    @classmethod
    def _rules_compile(cls, value: object, handler: ValidatorFunctionWrapHandler) -> list[PathRule]:
        if isinstance(value, str):  # the variable's text: parsed here so bad JSON is named like any bad value
            try:
                value = json.loads(value) if value.strip() else []
            except json.JSONDecodeError as error:
                raise ValueError(f"not a JSON list of rules ({error})") from None
        rules: list[PathRule] = handler(value)
        PathMapper(rules)  # a PathRuleError is a ValueError: reported under STASH2PLEX_PATHS__RULES
        return rules

    def mapper(self) -> PathMapper:
        """A mapper of the configured rules (compiled on each call: keep the one you get)."""
        return PathMapper(self.rules)


class ListenSettings(BaseModel):
    """Where a service's HTTP server (health, metrics and its own API) listens."""

    host: str = Field(default="127.0.0.1", description="Bind address (0.0.0.0 in containers).")
    port: int = Field(ge=0, le=65535, description="TCP port.")


class CommonSettings(BaseSettings):
    """Settings every service reads. Services subclass this and add their own group."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    data_dir: Path = Field(default_factory=default_data_dir, description="Where local state lives.")
    nats: NatsSettings = NatsSettings()
    stash: StashSettings = StashSettings()
    plex: PlexSettings = PlexSettings()
    log: LogSettings = LogSettings()
    paths: PathSettings = PathSettings()

    @property
    def nats_store_dir(self) -> Path:
        return self.nats.store_dir or self.data_dir / "nats"

    def secrets(self) -> list[str]:
        """Every secret value configured, so the log redactor can blank them wherever they appear."""
        values = [self.stash.api_key, self.plex.token]
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]

    def missing_for(self, *needs: Literal["stash", "plex"]) -> list[str]:
        """Names of the variables a service needs but nobody set, for logs and ``/readyz``."""
        missing: list[str] = []
        if "stash" in needs:
            if self.stash.url is None:
                missing.append(env_name("stash", "url"))
            if self.stash.api_key is None:
                missing.append(env_name("stash", "api_key"))
        if "plex" in needs:
            if self.plex.url is None:
                missing.append(env_name("plex", "url"))
            if self.plex.token is None:
                missing.append(env_name("plex", "token"))
        return missing


def env_name(*loc: str | int) -> str:
    """The environment variable that sets the field at ``loc`` (``("plex", "url")`` → ``STASH2PLEX_PLEX__URL``)."""
    return ENV_PREFIX + ENV_NESTED_DELIMITER.join(str(part).upper() for part in loc)


class SettingsError(Exception):
    """Invalid settings, explained one variable a line."""


def explain_validation_error(error: ValidationError) -> str:
    """Turn pydantic's error into lines that name the variable the user has to fix."""
    lines = []
    for item in error.errors():
        loc = [part for part in item["loc"] if isinstance(part, str)]
        items = [str(part + 1) for part in item["loc"] if isinstance(part, int)]
        name = (env_name(*loc) if loc else ENV_PREFIX + "*") + (f" (item {', '.join(items)})" if items else "")
        given = item.get("input")
        shown = "" if isinstance(given, dict) or given is None else f" (got {str(given)[:80]!r})"
        lines.append(f"{name}: {item['msg']}{shown}")
    return "invalid settings:\n  " + "\n  ".join(lines)


S = TypeVar("S", bound=BaseSettings)


def load_settings(cls: type[S]) -> S:
    """Read ``cls`` from the environment; raise :class:`SettingsError` naming each bad variable."""
    try:
        return cls()
    except ValidationError as error:
        raise SettingsError(explain_validation_error(error)) from None
    except SourceError as error:  # a value the environment source itself could not parse
        cause = f": {error.__cause__}" if error.__cause__ else ""
        raise SettingsError(f"invalid settings:\n  {error}{cause} (group {ENV_PREFIX}<GROUP>__<NAME>)") from None
