"""Entrypoint of ``stash2plex-ingest`` (also ``python -m stash2plex.ingest``)."""

from __future__ import annotations

from stash2plex.common.service import run_service
from stash2plex.ingest.app import SERVICE, create_app
from stash2plex.ingest.settings import IngestSettings


def main() -> None:
    run_service(SERVICE, IngestSettings, lambda settings: settings.ingest, create_app)


if __name__ == "__main__":
    main()
