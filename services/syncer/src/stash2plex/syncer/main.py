"""Entrypoint of ``stash2plex-syncer`` (also ``python -m stash2plex.syncer``)."""

from __future__ import annotations

from stash2plex.common.service import run_service
from stash2plex.syncer.app import SERVICE, create_app
from stash2plex.syncer.settings import SyncerSettings


def main() -> None:
    run_service(SERVICE, SyncerSettings, lambda settings: settings.syncer, create_app)


if __name__ == "__main__":
    main()
