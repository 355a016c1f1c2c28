"""The one way a service process starts: read settings (or explain what is wrong and exit 2),
set up logging, and serve its app with uvicorn until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TypeVar

import uvicorn
from starlette.types import ASGIApp

from stash2plex.common.logs import configure_logging
from stash2plex.common.settings import CommonSettings, ListenSettings, SettingsError, load_settings

S = TypeVar("S", bound=CommonSettings)

EXIT_BAD_SETTINGS = 2


def run_service(
    service: str,
    settings_cls: type[S],
    listen: Callable[[S], ListenSettings],
    create_app: Callable[[S], ASGIApp],
) -> None:
    """Entrypoint body shared by every ``stash2plex-<service>`` command."""
    try:
        settings = load_settings(settings_cls)
    except SettingsError as error:
        print(f"stash2plex-{service}: {error}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_SETTINGS) from None
    configure_logging(service, settings.log, settings.secrets())
    where = listen(settings)
    try:
        app = create_app(settings)
    except SettingsError as error:
        print(f"stash2plex-{service}: {error}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_SETTINGS) from None
    logging.getLogger(__name__).info("starting %s on http://%s:%d", service, where.host, where.port)
    uvicorn.run(
        app,
        host=where.host,
        port=where.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
        server_header=False,  # nothing to gain from naming the server software to every client
    )
