"""The reconciler service's HTTP app: compares Stash and Plex and publishes the gaps.

Message handling (control verbs, schedule, one pass at a time) is in :mod:`.service`; one pass in
:mod:`.passes`; how a scene is judged in :mod:`.compare`.
"""

from __future__ import annotations

from fastapi import FastAPI

from stash2plex.common.http import create_service_app
from stash2plex.common.runtime import Dependency, ServiceRuntime
from stash2plex.reconciler.service import Reconciler
from stash2plex.reconciler.settings import ReconcilerSettings

SERVICE = "reconciler"
NEEDS: tuple[Dependency, ...] = ("stash", "plex")


def create_app(settings: ReconcilerSettings) -> FastAPI:
    runtime = ServiceRuntime(SERVICE, settings, needs=NEEDS)
    reconciler = Reconciler(settings)
    runtime.on_connected(reconciler.start)
    runtime.on_stopping(reconciler.stop)
    runtime.add_control("reconcile", reconciler.control_reconcile)
    runtime.add_control("progress", reconciler.control_progress)

    app = create_service_app(runtime, title="Stash2Plex reconciler")
    app.state.reconciler = reconciler
    return app
