"""Entrypoint of ``stash2plex-provider`` (also ``python -m stash2plex.provider``)."""

from __future__ import annotations

from stash2plex.common.service import run_service
from stash2plex.provider.app import SERVICE, create_app
from stash2plex.provider.settings import ProviderSettings


def main() -> None:
    run_service(SERVICE, ProviderSettings, lambda settings: settings.provider, create_app)


if __name__ == "__main__":
    main()
