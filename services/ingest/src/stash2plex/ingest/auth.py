"""Bearer-token check for everything the Stash plugin calls."""

from __future__ import annotations

from fastapi import HTTPException, Request, status

from stash2plex.common.settings import SettingsError
from stash2plex.ingest.accept import UNAUTHORIZED, token_ok
from stash2plex.ingest.settings import IngestOptions


class TokenRequiredError(SettingsError):
    """Ingest was started with no token and without being told to run open."""


def check_configuration(options: IngestOptions) -> None:
    if options.token is None and not options.allow_open:
        raise TokenRequiredError(
            "STASH2PLEX_INGEST__TOKEN is not set: set a token (and the same value as the Stash plugin's "
            "'Ingest token'), or set STASH2PLEX_INGEST__ALLOW_OPEN=true to accept hooks from anyone "
            "who can reach ingest"
        )


def authorize(request: Request) -> None:
    """FastAPI dependency: constant-time comparison of the bearer token."""
    options: IngestOptions = request.app.state.ingest_options
    if not token_ok(options, request.headers.get("authorization")):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED, detail=UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"}
        )
