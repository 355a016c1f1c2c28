"""The syncer service's HTTP app: consumes sync jobs and writes Stash metadata to Plex.

Message handling is in :mod:`.worker`; failure classification in :mod:`.errors`; what is
written to Plex in :mod:`.writer`.
"""

from __future__ import annotations

from fastapi import FastAPI

from stash2plex.common.http import create_service_app
from stash2plex.common.readiness import CheckResult
from stash2plex.common.runtime import Dependency, ServiceRuntime
from stash2plex.syncer.settings import SyncerSettings
from stash2plex.syncer.worker import Syncer

SERVICE = "syncer"
NEEDS: tuple[Dependency, ...] = ("stash", "plex")


def create_app(settings: SyncerSettings) -> FastAPI:
    runtime = ServiceRuntime(SERVICE, settings, needs=NEEDS)
    syncer = Syncer(settings)
    runtime.on_connected(syncer.start)
    runtime.on_stopping(syncer.stop)

    async def circuit_check() -> CheckResult:
        if syncer.circuit is None:
            missing = settings.missing_for("stash", "plex")
            detail = "waiting for " + ", ".join(missing) if missing else "not started yet"
            return CheckResult(name="circuit", ok=False, detail=detail)
        state = syncer.circuit.state
        if state.state == "open":
            return CheckResult(name="circuit", ok=False, detail=f"open: {state.reason}")
        return CheckResult(name="circuit", ok=True, detail=state.state)

    runtime.add_check("circuit", circuit_check)
    app = create_service_app(runtime, title="Stash2Plex syncer")
    app.state.syncer = syncer
    return app
