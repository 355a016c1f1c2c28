"""The reconciler service's HTTP app: compares Stash and Plex and publishes the gaps."""

from __future__ import annotations

from fastapi import FastAPI

from stash2plex.common.http import create_service_app
from stash2plex.common.runtime import Dependency, ServiceRuntime
from stash2plex.reconciler.settings import ReconcilerSettings

SERVICE = "reconciler"
NEEDS: tuple[Dependency, ...] = ("stash", "plex")


def create_app(settings: ReconcilerSettings) -> FastAPI:
    runtime = ServiceRuntime(SERVICE, settings, needs=NEEDS)
    return create_service_app(runtime, title="Stash2Plex reconciler")
