"""What ``stash2plex up`` runs: the embedded broker and the four services, with the
addresses each will listen on, all worked out from the same settings the services read."""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path

from stash2plex.common.embedded import EmbeddedNatsConfig, config_from_settings
from stash2plex.common.settings import CommonSettings, ListenSettings, load_settings
from stash2plex.ingest.settings import IngestSettings
from stash2plex.provider.settings import ProviderSettings
from stash2plex.reconciler.settings import ReconcilerSettings
from stash2plex.syncer.settings import SyncerSettings

SERVICES = ("ingest", "syncer", "reconciler", "provider")


@dataclass(frozen=True)
class ChildSpec:
    """One process the supervisor keeps running."""

    name: str
    command: list[str]
    host: str
    port: int
    env: dict[str, str] = field(default_factory=dict)
    health_path: str | None = "/healthz"

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"


@dataclass(frozen=True)
class Stack:
    settings: CommonSettings
    nats: EmbeddedNatsConfig | None
    nats_url: str
    services: list[ChildSpec]
    ingest_token_file: Path | None = None
    """Where ``up`` keeps the ingest token it made, when none was configured."""


def _listen(name: str) -> ListenSettings:
    """Read each service's own settings class, so ``up`` and the service agree on its port."""
    if name == "ingest":
        return load_settings(IngestSettings).ingest
    if name == "syncer":
        return load_settings(SyncerSettings).syncer
    if name == "reconciler":
        return load_settings(ReconcilerSettings).reconciler
    return load_settings(ProviderSettings).provider


def plan_stack(log_format: str | None = None) -> Stack:
    """The processes to start, from the environment and ``.env``."""
    settings = load_settings(CommonSettings)
    nats = None if settings.nats.url else config_from_settings(settings.nats, settings.nats_store_dir)
    nats_url = settings.nats.url or (nats.url if nats else "")
    child_env = {"STASH2PLEX_NATS__URL": nats_url, "STASH2PLEX_DATA_DIR": str(settings.data_dir)}
    if log_format:
        child_env["STASH2PLEX_LOG__FORMAT"] = log_format
    token_file = None
    ingest = load_settings(IngestSettings).ingest
    if ingest.token is None and not ingest.allow_open:
        token_file = settings.data_dir / "ingest-token"
        child_env["STASH2PLEX_INGEST__TOKEN"] = ingest_token(token_file)
    services = []
    for name in SERVICES:
        listen = _listen(name)
        services.append(
            ChildSpec(
                name=name,
                command=[sys.executable, "-m", f"stash2plex.{name}"],
                host=listen.host,
                port=listen.port,
                env=child_env,
            )
        )
    return Stack(settings=settings, nats=nats, nats_url=nats_url, services=services, ingest_token_file=token_file)


def ingest_token(path: Path) -> str:
    """The token ``up`` gives ingest when none is configured: made once, kept private, reused."""
    if path.exists():
        token = path.read_text().strip()
        if token:
            return token
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    return token


def child_environment(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
