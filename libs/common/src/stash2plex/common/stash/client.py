"""The Stash GraphQL client every service uses.

One object per process: it holds one HTTP connection pool, sends the operations
from ``queries/`` with the ``ApiKey`` header, retries what is transient (see
:mod:`.retry`), and turns every answer into a model from :mod:`.models` and every
failure into one of the errors in :mod:`.errors`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, tzinfo
from types import TracebackType
from typing import Any, Generic, Literal, Self, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from anyio import fail_after
from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.exceptions import TransportClosed, TransportConnectionFailed, TransportError, TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.utils import str_first_element
from graphql import DocumentNode, print_ast
from pydantic import BaseModel, ValidationError

from stash2plex.common.settings import StashSettings
from stash2plex.common.stash.documents import load_operations
from stash2plex.common.stash.errors import StashQueryError, classify
from stash2plex.common.stash.models import (
    PluginSettings,
    Scene,
    SceneIdPage,
    ScenePage,
    Version,
)
from stash2plex.common.stash.retry import RetryPolicy
from stash2plex.common.stash.timestamps import greater_than_value, offset_of

EntityKind = Literal["performer", "studio", "tag", "group"]
SceneSort = Literal["id", "updated_at", "created_at"]

API_KEY_HEADER = "ApiKey"

# What talking to Stash can raise; anything else is a bug and propagates as it is.
_FAILURES = (TransportError, httpx.HTTPError, TimeoutError, OSError)

_R = TypeVar("_R")
_D = TypeVar("_D", bound=BaseModel)

# How long a learned server time zone is trusted before it is read again.
_ZONE_TTL_S = 3600.0

# Scene filter field and criterion shape for each kind of entity. Studios include
# their sub-studios (depth -1) because a scene shows its studio's parent too, so
# renaming a parent changes what those scenes sync.
_ENTITY_CRITERIA: dict[EntityKind, tuple[str, int | None]] = {
    "performer": ("performers", None),
    "studio": ("studios", -1),
    "tag": ("tags", 0),
    "group": ("groups", 0),
}


class _PrintedRequest(GraphQLRequest):
    """A request whose query text was printed once: gql prints the document again for every request."""

    def __init__(self, document: DocumentNode, text: str, variables: dict[str, Any], operation: str) -> None:
        super().__init__(document, variable_values=variables, operation_name=operation)
        self._text = text

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"query": self._text, "operationName": self.operation_name}
        if self.variable_values:
            payload["variables"] = self.variable_values
        return payload


class StashClient:
    """Async client of one Stash server; use as ``async with StashClient(settings) as stash:``."""

    def __init__(
        self,
        settings: StashSettings,
        *,
        retry: RetryPolicy | None = None,
        page_size: int = 250,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be positive")
        self._graphql_url = settings.graphql_url
        self._base = urlsplit(self._graphql_url.removesuffix("/graphql"))
        self._api_key = settings.api_key.get_secret_value() if settings.api_key is not None else None
        self._retry = retry or RetryPolicy()
        self._page_size = page_size
        self._timeout = settings.timeout_s
        self._headers = {API_KEY_HEADER: self._api_key} if self._api_key else {}
        self._operations = load_operations()
        self._texts = {name: print_ast(document) for name, document in self._operations.items()}
        self._gql: Client | None = None
        self._session: AsyncClientSession | None = None
        self._http: httpx.AsyncClient | None = None
        self._server_tz: tzinfo | None = None
        self._server_tz_read = 0.0

    def __repr__(self) -> str:
        return f"StashClient({self._graphql_url!r}, api_key={'set' if self._api_key else 'unset'})"

    async def __aenter__(self) -> Self:
        transport = HTTPXAsyncTransport(
            url=self._graphql_url, headers=self._headers, timeout=httpx.Timeout(self._timeout)
        )
        self._gql = Client(transport=transport, fetch_schema_from_transport=False, execute_timeout=self._timeout)
        self._session = await self._gql.connect_async()  # type: ignore[no-untyped-call]  # gql leaves it unannotated
        self._http = httpx.AsyncClient(headers=self._headers, timeout=httpx.Timeout(self._timeout))
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._gql is not None:
            await self._gql.close_async()  # type: ignore[no-untyped-call]
        if self._http is not None:
            await self._http.aclose()
        self._gql = self._session = self._http = None

    # -- queries -------------------------------------------------------------------------

    async def version(self) -> Version:
        """Stash's version; the cheapest proof that Stash answers and accepts the key."""
        data = await self._execute("Version", {})
        return Version.model_validate(data["version"])

    async def find_scene(self, scene_id: str | int) -> Scene | None:
        """The scene with this id, or None when Stash has none."""
        data = await self._execute("FindScene", {"id": str(scene_id)})
        return _scene_or_none(data["findScene"])

    async def find_scenes_by_ids(self, scene_ids: list[str]) -> dict[str, Scene | None]:
        """Each of these scenes by id, in one request; None for an id Stash does not have."""
        if not scene_ids:
            return {}
        variables = {"ids": list(scene_ids), "per_page": len(scene_ids)}
        answer = await self._execute_as("FindScenesByIds", variables, _ScenesByIdsAnswer)
        found = {scene.id: scene for scene in answer.findScenes.scenes}
        return {scene_id: found.get(scene_id) for scene_id in scene_ids}

    async def find_scenes_page(
        self,
        page: int,
        per_page: int,
        updated_since: datetime | None = None,
        *,
        sort: SceneSort | None = None,
        direction: Literal["ASC", "DESC"] = "ASC",
    ) -> ScenePage:
        """One page of scenes, optionally only those updated since ``updated_since`` (aware).

        The filter never misses a scene updated after the moment, but Stash compares
        local-time text, so the page may also hold scenes updated up to two hours
        before it (twelve when Stash has no scenes to learn its time zone from):
        callers de-duplicate, e.g. against their own record of ``updated_at``, or
        use :meth:`Scene.changed_since`. The sort defaults to ``updated_at`` with
        ``updated_since`` (walk forward from a mark) and to ``id`` without it (a
        full walk that sees each scene once). An empty page means the walk is over.

        Page numbers are offsets: a scene updated during an ``updated_at`` walk moves
        to the end and shifts the rest, so a long incremental walk is safer done as
        repeated ``page=1`` calls with ``updated_since`` set to the last scene seen.
        """
        if page < 1 or per_page < 1:
            raise ValueError("page and per_page start at 1")
        scene_filter = await self._updated_after(updated_since)
        variables = {
            "page": page,
            "per_page": per_page,
            "sort": sort or ("updated_at" if updated_since is not None else "id"),
            "direction": direction,
            "scene_filter": scene_filter,
        }
        data = await self._execute("FindScenes", variables)
        result = data["findScenes"]
        scenes = tuple(Scene.model_validate(s) for s in result["scenes"])
        return ScenePage(page=page, per_page=per_page, count=result["count"], scenes=scenes)

    async def compare_scenes_page(self, page: int, per_page: int, updated_since: datetime | None = None) -> ScenePage:
        """One page of scenes in id order with the fields a reconciliation compares (``CompareSceneFields``).

        ``updated_since`` (aware) filters like :meth:`find_scenes_page`: no scene changed after the
        moment is missed, and some changed shortly before it come too, so callers keep only
        ``scene.changed_since(moment)``. The id order stays put while scenes change, so page numbers
        are safe to walk; the scenes carry every field the syncer's mapping reads.
        """
        if page < 1 or per_page < 1:
            raise ValueError("page and per_page start at 1")
        scene_filter = await self._updated_after(updated_since)
        variables = {"page": page, "per_page": per_page, "scene_filter": scene_filter}
        found = (await self._execute_as("CompareScenes", variables, _CompareScenesAnswer)).findScenes
        return ScenePage(page=page, per_page=per_page, count=found.count, scenes=found.scenes)

    async def _updated_after(self, moment: datetime | None) -> dict[str, Any] | None:
        """The ``scene_filter`` for scenes updated after ``moment`` (None: no filter), in Stash's local time."""
        if moment is None:
            return None
        value = greater_than_value(moment, await self._server_zone())
        return {"updated_at": {"value": value, "modifier": "GREATER_THAN"}}

    async def _server_zone(self) -> tzinfo | None:
        """Stash's UTC offset, read from its newest timestamp and re-read hourly (daylight saving)."""
        if self._server_tz is None or time.monotonic() - self._server_tz_read > _ZONE_TTL_S:
            data = await self._execute("ServerOffset", {})
            scenes = data["findScenes"]["scenes"]
            self._server_tz = offset_of(scenes[0]["updated_at"]) if scenes else None
            self._server_tz_read = time.monotonic()
        return self._server_tz

    async def find_scenes_by_path(self, path: str, *, exact: bool = False) -> list[Scene]:
        """Scenes with a file at ``path`` (Stash's full path, Stash's separator).

        Stash matches case-insensitively (ASCII) and treats ``_``/``%`` as wildcards;
        with ``exact=True`` only scenes that have a file at exactly ``path`` are kept.
        """
        scenes: list[Scene] = []
        page = 1
        while True:
            data = await self._execute("FindScenesByPath", {"path": path, "page": page, "per_page": 25})
            result = data["findScenes"]
            batch = [Scene.model_validate(s) for s in result["scenes"]]
            scenes.extend(batch)
            if not batch or page * 25 >= result["count"]:
                break
            page += 1
        return [s for s in scenes if s.has_file_path(path)] if exact else scenes

    async def search_scenes_by_path(self, text: str, *, phrase: bool = True, limit: int = 100) -> ScenePage:
        """Up to ``limit`` scenes whose path contains ``text`` (Stash's ``INCLUDES``).

        With ``phrase`` (the default) the text is sent in double quotes, so Stash
        looks for it as one piece; without, Stash splits it on whitespace and
        returns scenes whose path contains *any* of the words.
        """
        value = f'"{text}"' if phrase else text
        data = await self._execute("SearchScenesByPath", {"value": value, "page": 1, "per_page": limit})
        result = data["findScenes"]
        scenes = tuple(Scene.model_validate(s) for s in result["scenes"])
        return ScenePage(page=1, per_page=limit, count=result["count"], scenes=scenes)

    async def find_scene_by_hash(self, oshash: str | None = None, checksum: str | None = None) -> Scene | None:
        """The scene of a file with this oshash or md5 ``checksum`` (Stash tries the checksum first)."""
        if not oshash and not checksum:
            raise ValueError("give an oshash, a checksum or both")
        data = await self._execute("FindSceneByHash", {"oshash": oshash, "checksum": checksum})
        return _scene_or_none(data["findSceneByHash"])

    async def scene_ids_for_entity(
        self, kind: EntityKind, entity_id: str | int, *, per_page: int | None = None
    ) -> AsyncIterator[SceneIdPage]:
        """Pages of the ids of every scene that shows this performer, studio, tag or group.

        Scenes of sub-studios count for a studio. Pages are in id order.
        """
        if kind not in _ENTITY_CRITERIA:
            raise ValueError(f"unknown entity kind {kind!r}")
        field, depth = _ENTITY_CRITERIA[kind]
        criterion: dict[str, Any] = {"value": [str(entity_id)], "modifier": "INCLUDES"}
        if depth is not None:
            criterion["depth"] = depth
        size = per_page or self._page_size
        page = 1
        while True:
            data = await self._execute("SceneIdsForEntity", {"page": page, "per_page": size, field: criterion})
            result = data["findScenes"]
            ids = tuple(str(s["id"]) for s in result["scenes"])
            if not ids:
                return
            yield SceneIdPage(page=page, per_page=size, count=result["count"], ids=ids)
            if page * size >= result["count"]:
                return
            page += 1

    async def plugin_settings(self, plugin_id: str) -> PluginSettings:
        """The settings saved for a Stash plugin; keys the user never set are absent."""
        data = await self._execute("PluginConfiguration", {"include": [plugin_id]})
        plugins = data["configuration"]["plugins"] or {}
        settings = plugins.get(plugin_id)
        if settings is None:
            # Older Stash releases lower-cased plugin ids in their configuration.
            settings = next((v for k, v in plugins.items() if k.lower() == plugin_id.lower()), None)
        return dict(settings) if isinstance(settings, Mapping) else {}

    # -- images ----------------------------------------------------------------------------

    async def fetch_image(self, url: str) -> bytes:
        """The bytes behind an image URL Stash returned (``paths.screenshot``, ``image_path``).

        The API key only ever goes to the configured Stash: a URL naming another
        host (Stash builds them from the host name a client used) is re-rooted on it.
        """
        target = self._on_stash(url)
        http = _require(self._http)
        async for attempt in self._retry.retrying(f"GET {urlsplit(target).path}"):
            with attempt:
                try:
                    response = await http.get(target)
                    response.raise_for_status()
                except _FAILURES as exc:
                    raise classify(exc, f"GET {urlsplit(target).path}", self._secrets()) from exc
                return response.content
        raise AssertionError("unreachable: the retry loop returns or raises")

    def _on_stash(self, url: str) -> str:
        """``url`` on the configured Stash, without any ``apikey`` parameter (the header carries it).

        Stash puts ``?apikey=`` into some URLs (streams); a URL with the key in it
        ends up in HTTP logs, so it is dropped here.
        """
        parts = urlsplit(url)
        if parts.scheme and parts.scheme not in ("http", "https"):
            raise StashQueryError(f"not an image URL: scheme {parts.scheme!r}")
        query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() != "apikey"])
        return urlunsplit((self._base.scheme, self._base.netloc, parts.path, query, ""))

    # -- plumbing --------------------------------------------------------------------------

    def _secrets(self) -> tuple[str, ...]:
        return (self._api_key,) if self._api_key else ()

    def _request(self, operation: str, variables: Mapping[str, Any]) -> _PrintedRequest:
        return _PrintedRequest(
            self._operations[operation],
            self._texts[operation],
            {k: v for k, v in variables.items() if v is not None},
            operation,
        )

    async def _execute_as(self, operation: str, variables: Mapping[str, Any], data: type[_D]) -> _D:
        """``_execute``, its data validated as ``data`` straight from the body's bytes.

        A 1,000-scene page through ``json.loads`` and a model per scene costs about twice as much,
        and holds the page twice. The request is gql's own (``_prepare_request``), and any answer
        that is not plain data is read by gql's transport and raised as ``_execute`` raises it.
        """
        session = _require(self._session)
        transport = session.transport
        assert isinstance(transport, HTTPXAsyncTransport)
        request = self._request(operation, variables)
        async for attempt in self._retry.retrying(operation):
            with attempt:
                try:
                    return await self._post_as(transport, request, data)
                except _FAILURES as exc:
                    raise classify(exc, operation, self._secrets()) from exc
        raise AssertionError("unreachable: the retry loop returns or raises")

    async def _post_as(self, transport: HTTPXAsyncTransport, request: _PrintedRequest, data: type[_D]) -> _D:
        client = transport.client
        if client is None:
            raise TransportClosed("Transport is not connected")
        try:
            with fail_after(self._timeout):  # the limit gql's session puts on a request
                response = await client.post(transport.url, **transport._prepare_request(request))
        except TimeoutError:
            raise
        except Exception as error:  # as gql's transport wraps a failed post
            raise TransportConnectionFailed(str(error)) from error
        try:
            return _PlainAnswer[data].model_validate_json(response.content).data  # type: ignore[valid-type]
        except ValidationError:
            pass  # not plain data: errors, no JSON, an unexpected shape
        result = transport._prepare_result(response)
        if result.errors:
            raise TransportQueryError(
                str_first_element(result.errors), errors=result.errors, data=result.data, extensions=result.extensions
            )
        return data.model_validate(result.data)

    async def _execute(self, operation: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        session = _require(self._session)
        request = self._request(operation, variables)
        async for attempt in self._retry.retrying(operation):
            with attempt:
                try:
                    data: dict[str, Any] = await session.execute(request)
                except _FAILURES as exc:
                    raise classify(exc, operation, self._secrets()) from exc
                return data
        raise AssertionError("unreachable: the retry loop returns or raises")


class _FoundScenes(BaseModel):
    count: int
    scenes: tuple[Scene, ...] = ()


class _SomeScenes(BaseModel):
    scenes: tuple[Scene, ...] = ()


class _ScenesByIdsAnswer(BaseModel):
    """The ``data`` of a ``FindScenesByIds`` answer."""

    findScenes: _SomeScenes  # noqa: N815 - the field as Stash names it


class _CompareScenesAnswer(BaseModel):
    """The ``data`` of a ``CompareScenes`` answer."""

    findScenes: _FoundScenes  # noqa: N815 - the field as Stash names it


class _PlainAnswer(BaseModel, Generic[_D]):
    """A GraphQL answer with data and no errors (anything else fails validation: gql reads it then)."""

    data: _D
    errors: None = None


def _require(resource: _R | None) -> _R:
    if resource is None:
        raise RuntimeError("StashClient is not open: use it as an async context manager")
    return resource


def _scene_or_none(value: Any) -> Scene | None:
    return None if value is None else Scene.model_validate(value)
