"""The syncer service's HTTP app: consumes sync jobs and writes Stash metadata to Plex."""

from __future__ import annotations

from fastapi import FastAPI

from stash2plex.common.http import create_service_app
from stash2plex.common.runtime import Dependency, ServiceRuntime
from stash2plex.syncer.settings import SyncerSettings

SERVICE = "syncer"
NEEDS: tuple[Dependency, ...] = ("stash", "plex")


def create_app(settings: SyncerSettings) -> FastAPI:
    runtime = ServiceRuntime(SERVICE, settings, needs=NEEDS)
    return create_service_app(runtime, title="Stash2Plex syncer")
