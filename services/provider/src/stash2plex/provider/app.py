"""The provider service's HTTP app: a Plex custom metadata provider answering from Stash."""

from __future__ import annotations

from fastapi import FastAPI

from stash2plex.common.http import create_service_app
from stash2plex.common.runtime import Dependency, ServiceRuntime
from stash2plex.provider.settings import ProviderSettings

SERVICE = "provider"
NEEDS: tuple[Dependency, ...] = ("stash",)


def create_app(settings: ProviderSettings) -> FastAPI:
    runtime = ServiceRuntime(SERVICE, settings, needs=NEEDS)
    return create_service_app(runtime, title="Stash2Plex provider")
