"""Call a custom metadata provider the way Plex Media Server 1.43 does.

What PMS sends (official provider docs and a real PMS 1.43 debug log):

* root document: ``GET <provider URL>?includePreferences=1`` -> ``{"MediaProvider": {...}}``
  (no MediaContainer wrapper);
* match: ``POST <provider URL><match feature key>`` with a JSON body (``type``, ``title``,
  ``year``, ``guid``, ``filename``, ``manual``...), ``Accept``/``Content-Type: application/json``,
  ``X-Plex-Language`` / ``X-Plex-Country`` and the paging headers;
* metadata: ``GET <provider URL><metadata feature key>/<ratingKey>``, and ``.../images``.

Feature keys are relative to the registered URL: a provider mounted at ``/movie`` that
declares ``/library/metadata`` is called at ``/movie/library/metadata/...``.

Tests use this directly against a provider, and the simulator uses it when a test
registers a provider with ``POST /media/providers/metadata?uri=...``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx

#: PMS identifies itself like this; the exact build string is an assumption.
PMS_USER_AGENT = "PlexMediaServer/1.43.0.10389-8be686aa6"
IDENTIFIER_PREFIX = "tv.plex.agents.custom."
_IDENTIFIER = re.compile(r"^tv\.plex\.agents\.custom\.[A-Za-z0-9.]+$")
_GUID = re.compile(r"^(?P<scheme>[A-Za-z0-9.]+)://(?P<type>movie|show|season|episode)/(?P<rating_key>[A-Za-z0-9_-]+)$")
METADATA_TYPES = {1: "movie", 2: "show", 3: "season", 4: "episode"}


class ProviderError(Exception):
    """The provider answered with an error status or something that is not the documented JSON."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class MatchRequest:
    """The JSON body of a match call; ``None`` fields are left out as PMS leaves them out."""

    type: int = 1
    title: str | None = None
    year: int | None = None
    guid: str | None = None
    filename: str | None = None
    manual: bool = False
    include_adult: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type}
        for key, value in (
            ("title", self.title),
            ("year", self.year),
            ("guid", self.guid),
            ("filename", self.filename),
        ):
            if value is not None:
                body[key] = value
        body["manual"] = 1 if self.manual else 0
        if self.include_adult is not None:
            body["includeAdult"] = 1 if self.include_adult else 0
        body.update(self.extra)
        return body


@dataclass(frozen=True)
class ProviderCall:
    method: str
    url: str
    status: int
    body: dict[str, Any] | None = None


def parse_guid(guid: str) -> tuple[str, str, str] | None:
    """``scheme://movie/key`` -> (scheme, "movie", key); None for anything PMS cannot resolve."""
    m = _GUID.match(guid or "")
    return (m["scheme"], m["type"], m["rating_key"]) if m else None


def validate_media_provider(doc: Any) -> list[str]:
    """Problems with a root document, per the MediaProvider spec; empty means PMS would accept it."""
    if not isinstance(doc, dict) or not isinstance(doc.get("MediaProvider"), dict):
        return ['root must be {"MediaProvider": {...}} (one object, no MediaContainer)']
    mp = doc["MediaProvider"]
    problems = []
    identifier = mp.get("identifier")
    if not isinstance(identifier, str) or not _IDENTIFIER.match(identifier):
        problems.append(f"identifier must look like {IDENTIFIER_PREFIX}<letters, digits, dots>, got {identifier!r}")
    if not mp.get("title"):
        problems.append("title is required")
    types = mp.get("Types")
    if not isinstance(types, list) or not types:
        problems.append("Types must be a non-empty array of {type, Scheme}")
    else:
        for entry in types:
            if not isinstance(entry, dict) or entry.get("type") not in METADATA_TYPES:
                problems.append(f"unsupported Types entry {entry!r}")
            elif not any(isinstance(s, dict) and s.get("scheme") for s in entry.get("Scheme") or []):
                problems.append(f"Types entry {entry.get('type')} has no Scheme")
    features = {f.get("type"): f.get("key") for f in mp.get("Feature") or [] if isinstance(f, dict)}
    for needed in ("metadata", "match"):
        key = features.get(needed)
        if not isinstance(key, str) or not key.startswith("/"):
            problems.append(f"Feature {needed!r} with a key starting with '/' is required")
    return problems


class ProviderClient:
    """Async client for one provider URL. Keeps every call in ``calls`` for assertions."""

    def __init__(
        self,
        uri: str,
        *,
        language: str = "en-US",
        country: str = "US",
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        features: dict[str, str] | None = None,
    ) -> None:
        self.uri = uri.rstrip("/")
        self.language = language
        self.country = country
        self.calls: list[ProviderCall] = []
        self._features: dict[str, str] | None = dict(features) if features else None
        self._client = httpx.AsyncClient(
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": PMS_USER_AGENT, "Accept": "application/json"},
        )

    async def __aenter__(self) -> ProviderClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def _headers(self, start: int | None = None, size: int | None = None) -> dict[str, str]:
        headers = {"X-Plex-Language": self.language, "X-Plex-Country": self.country}
        if start is not None:
            headers["X-Plex-Container-Start"] = str(start)
        if size is not None:
            headers["X-Plex-Container-Size"] = str(size)
        return headers

    async def _send(self, method: str, url: str, **kw: Any) -> Any:
        try:
            response = await self._client.request(method, url, **kw)
        except httpx.HTTPError as exc:
            self.calls.append(ProviderCall(method, url, 0, kw.get("json")))
            raise ProviderError(f"{method} {url}: {exc.__class__.__name__}: {exc}") from exc
        self.calls.append(ProviderCall(method, str(response.request.url), response.status_code, kw.get("json")))
        if response.status_code != 200:
            raise ProviderError(f"{method} {url} answered {response.status_code}", response.status_code)
        try:
            return response.json()
        except ValueError as exc:
            raise ProviderError(f"{method} {url} did not answer JSON") from exc

    async def root(self) -> dict[str, Any]:
        """The MediaProvider object; also learns the feature keys for the other calls."""
        doc = await self._send("GET", self.uri, params={"includePreferences": "1"}, headers=self._headers())
        problems = validate_media_provider(doc)
        if problems:
            raise ProviderError("invalid MediaProvider: " + "; ".join(problems))
        mp: dict[str, Any] = doc["MediaProvider"]
        self._features = {f["type"]: f["key"] for f in mp["Feature"]}
        return mp

    async def _feature(self, name: str) -> str:
        if self._features is None:
            await self.root()
        assert self._features is not None
        return self._features[name]

    async def match(self, request: MatchRequest, *, start: int = 0, size: int = 20) -> dict[str, Any]:
        """POST a match; returns the MediaContainer (``Metadata`` may be empty for no match)."""
        url = self.uri + await self._feature("match")
        doc = await self._send(
            "POST",
            url,
            json=request.body(),
            headers={**self._headers(start, size), "Content-Type": "application/json"},
        )
        return _container(doc, url)

    async def metadata(self, rating_key: str, **params: str) -> dict[str, Any]:
        """GET one item's Metadata object (the first of the container)."""
        url = f"{self.uri}{await self._feature('metadata')}/{rating_key}"
        container = _container(await self._send("GET", url, params=params or None, headers=self._headers()), url)
        items = container.get("Metadata") or []
        if not items:
            raise ProviderError(f"GET {url} returned no Metadata")
        first: dict[str, Any] = items[0]
        return first

    async def images(self, rating_key: str) -> list[dict[str, Any]]:
        url = f"{self.uri}{await self._feature('metadata')}/{rating_key}/images"
        container = _container(await self._send("GET", url, headers=self._headers()), url)
        images: list[dict[str, Any]] = container.get("Image") or []
        return images


def _container(doc: Any, url: str) -> dict[str, Any]:
    if not isinstance(doc, dict) or not isinstance(doc.get("MediaContainer"), dict):
        raise ProviderError(f"{url} did not answer a MediaContainer")
    container: dict[str, Any] = doc["MediaContainer"]
    return container


async def register_provider(sim_url: str, token: str | None, provider_url: str) -> httpx.Response:
    """Register a provider with a (simulated) PMS, as Settings > Metadata Agents > Add Provider does."""
    async with httpx.AsyncClient(timeout=10.0) as client:
        headers = {"X-Plex-Token": token} if token else {}
        return await client.post(
            f"{sim_url.rstrip('/')}/media/providers/metadata", params={"uri": provider_url}, headers=headers
        )
