"""The ingest service's HTTP app: receives Stash hook events and publishes them to JetStream."""

from __future__ import annotations

from fastapi import FastAPI

from stash2plex.common.http import create_service_app
from stash2plex.common.runtime import Dependency, ServiceRuntime
from stash2plex.ingest.settings import IngestSettings

SERVICE = "ingest"
NEEDS: tuple[Dependency, ...] = ("stash",)


def create_app(settings: IngestSettings) -> FastAPI:
    runtime = ServiceRuntime(SERVICE, settings, needs=NEEDS)
    return create_service_app(runtime, title="Stash2Plex ingest")
