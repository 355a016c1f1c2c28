"""Entrypoint of ``stash2plex-reconciler`` (also ``python -m stash2plex.reconciler``)."""

from __future__ import annotations

from stash2plex.common.service import run_service
from stash2plex.reconciler.app import SERVICE, create_app
from stash2plex.reconciler.settings import ReconcilerSettings


def main() -> None:
    run_service(SERVICE, ReconcilerSettings, lambda settings: settings.reconciler, create_app)


if __name__ == "__main__":
    main()
