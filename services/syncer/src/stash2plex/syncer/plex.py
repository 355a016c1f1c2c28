"""Talking to Plex through ``plexapi``, with every HTTP error status turned into a
:class:`PlexHTTPError` that keeps the status and ``Retry-After``.

plexapi folds 429 and 5xx into one ``BadRequest`` and drops the headers; a response hook on
the ``requests`` session sees the answer first, so classification can be exact.
"""

from __future__ import annotations

from typing import Any

import plexapi
import requests
import requests.adapters
from plexapi.server import PlexServer

from stash2plex.common.settings import PlexSettings
from stash2plex.syncer.errors import PlexHTTPError
from stash2plex.syncer.plex_gate import GatedAdapter, PlexGate

CLIENT_IDENTIFIER = "stash2plex-syncer"
"""Stable, so Plex does not list a new device on every start."""
CLIENT_HEADERS = {
    "X-Plex-Client-Identifier": CLIENT_IDENTIFIER,
    "X-Plex-Product": "Stash2Plex",
    "X-Plex-Device-Name": "Stash2Plex syncer",
}


def use_stable_identity() -> None:
    """plexapi sends its module-wide ``BASE_HEADERS`` with every request, over the session's own:
    by default the identifier is derived from the MAC address and the device name is the host
    name, both new in every fresh container. Ours replace them, for every plexapi call here."""
    plexapi.BASE_HEADERS.update(CLIENT_HEADERS)


def retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare from Plex; fall back to our own backoff


def _raise_for_plex_status(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    if response.status_code >= 400:
        raise PlexHTTPError(response.status_code, response.url.split("?")[0], retry_after(response), response.text)
    return response


POOL_SIZE = 64
"""Keep-alive connections to Plex: more than the syncer's worker threads, so none is thrown away."""


def plex_session(gate: PlexGate | None = None) -> requests.Session:
    """A session for Plex; with ``gate`` every request waits for one of its slots (see :mod:`.plex_gate`)."""
    session = requests.Session()
    session.trust_env = False  # no netrc/proxy/CA-bundle look-ups on every request to a LAN server
    adapter = (
        GatedAdapter(gate, pool_connections=4, pool_maxsize=POOL_SIZE)
        if gate is not None
        else requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE)
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.hooks["response"].append(_raise_for_plex_status)
    session.headers.update(CLIENT_HEADERS)
    return session


def connect(settings: PlexSettings, gate: PlexGate | None = None) -> PlexServer:
    """A plexapi server object; raises :class:`PlexHTTPError` or ``requests`` errors like every call after it."""
    assert settings.url is not None
    assert settings.token is not None
    url, token = str(settings.url).rstrip("/"), settings.token.get_secret_value()
    use_stable_identity()
    return PlexServer(url, token, session=plex_session(gate), timeout=settings.timeout_s)  # type: ignore[no-untyped-call]


def probe(settings: PlexSettings, timeout_s: float) -> None:
    """Cheapest proof that Plex is back and takes our token: ``GET /`` with a short timeout."""
    assert settings.url is not None
    assert settings.token is not None
    session = plex_session()
    try:
        session.get(
            str(settings.url).rstrip("/") + "/",
            headers={"X-Plex-Token": settings.token.get_secret_value()},
            timeout=timeout_s,
        )
    finally:
        session.close()
