"""Registering the provider with a Plex Media Server, as Settings → Metadata Agents → Add Provider does.

``POST /media/providers/metadata?uri=<provider URL>``: Plex fetches the provider's root
document from that URL itself, so the URL must be one Plex can reach (from its own machine
or container) and must hold the secret path segment when one is set. What Plex answers is
turned into an outcome a person can act on.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Literal

import httpx
from pydantic import BaseModel

from stash2plex.common import plexguid
from stash2plex.common.settings import env_name
from stash2plex.provider.settings import ProviderSettings

PROVIDERS_PATH = "/media/providers/metadata"
NEXT_STEPS = (
    "In Plex: Settings → Metadata Agents → + Add Agent, name it (e.g. Stash2Plex) and pick the provider "
    "'{title}' as its primary provider; then edit the Movies library holding your Stash files → Advanced → "
    "Agent → that agent, and refresh the library's metadata."
)


class RegistrationError(Exception):
    """Registration failed; ``exit_code`` 1 when Plex refused, 3 when Plex could not be reached."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Registration(BaseModel):
    outcome: Literal["registered", "already_registered"]
    identifier: str
    uri: str
    provider_id: str | None = None
    registered_uri: str | None = None
    """For ``already_registered``: the URL Plex has on file (it may differ from ``uri``)."""
    warning: str | None = None


def default_provider_url(settings: ProviderSettings) -> str:
    """The public URL setting (with the secret segment), else the provider's own listen address."""
    options = settings.provider
    if options.public_url is not None:
        return str(options.public_url).rstrip("/") + options.mount
    host = "127.0.0.1" if options.host in ("0.0.0.0", "::", "") else options.host
    return f"http://{host}:{options.port}{options.mount}"


async def check_provider(uri: str, request_timeout_s: float) -> str | None:
    """A warning when the provider does not answer its root document at ``uri`` from here, else None."""
    try:
        async with httpx.AsyncClient(timeout=request_timeout_s) as http:
            answer = await http.get(uri, params={"includePreferences": "1"}, headers={"Accept": "application/json"})
        identifier = answer.json().get("MediaProvider", {}).get("identifier") if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError) as error:
        return f"the provider did not answer at {uri} from here ({type(error).__name__}); Plex may still reach it"
    if identifier != plexguid.IDENTIFIER:
        return f"{uri} answered HTTP {answer.status_code} without the provider's root document: is the URL right?"
    return None


def _providers(xml_text: str) -> list[dict[str, str]]:
    try:
        root = ET.fromstring(xml_text)  # noqa: S314 - an answer from the user's own Plex server
    except ET.ParseError:
        return []
    return [dict(element.attrib) for element in root.iter("MetadataAgentProvider")]


async def register(plex_url: str, token: str, uri: str, *, request_timeout_s: float = 10.0) -> Registration:
    """Register ``uri`` with the Plex server at ``plex_url``; :class:`RegistrationError` says why not."""
    warning = await check_provider(uri, request_timeout_s)
    base = plex_url.rstrip("/")
    headers = {"X-Plex-Token": token, "Accept": "application/xml"}
    try:
        async with httpx.AsyncClient(timeout=request_timeout_s) as http:
            answer = await http.post(base + PROVIDERS_PATH, params={"uri": uri}, headers=headers)
            listed = await http.get(base + PROVIDERS_PATH, headers=headers) if answer.status_code == 409 else None
    except httpx.HTTPError as error:
        raise RegistrationError(f"cannot reach Plex at {base}: {type(error).__name__}", exit_code=3) from None
    if answer.status_code in (401, 403):
        raise RegistrationError(
            f"Plex refused the token (HTTP {answer.status_code}): check {env_name('plex', 'token')}"
        )
    if answer.status_code == 409:
        ours = [p for p in _providers(listed.text if listed else "") if p.get("identifier") == plexguid.IDENTIFIER]
        found = ours[0] if ours else {}
        return Registration(
            outcome="already_registered",
            identifier=plexguid.IDENTIFIER,
            uri=uri,
            provider_id=found.get("id"),
            registered_uri=found.get("uri"),
            warning=warning,
        )
    if answer.status_code == 400:
        raise RegistrationError(
            f"Plex could not use the provider at {uri}: it fetches that URL itself, so it must be reachable from "
            "the Plex server (not only from here) and include the secret path segment if one is set"
            + (f"; also, {warning}" if warning else "")
        )
    if answer.status_code != 200:
        raise RegistrationError(f"Plex answered HTTP {answer.status_code} to the registration")
    found = next((p for p in _providers(answer.text) if p.get("identifier") == plexguid.IDENTIFIER), {})
    return Registration(
        outcome="registered", identifier=plexguid.IDENTIFIER, uri=uri, provider_id=found.get("id"), warning=warning
    )
