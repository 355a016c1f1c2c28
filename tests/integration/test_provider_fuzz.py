"""Fuzzing the provider over its own OpenAPI document: whatever Plex (or anyone) sends, never a 5xx.

Requests are built from every operation the document lists (path parameters, query
parameters, headers and the match body's fields, filled with hostile values) and sent to
the app in-process, through the same ASGI fast path a real socket reaches, with the Stash
simulator answering behind it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import AnyHttpUrl, SecretStr

from stash2plex.common.settings import StashSettings
from stash2plex.provider.app import create_app
from stash2plex.provider.fastpath import ProviderFastPath
from stash2plex.provider.settings import ProviderOptions, ProviderSettings
from tests.sims.stash import StashSim, make_scenes

pytestmark = pytest.mark.integration

API_KEY = "fuzz-key-0123456789"
SCENES = make_scenes(40, seed=5)


@pytest.fixture(scope="module")
def app() -> Iterator[ProviderFastPath]:
    stash = StashSim(SCENES, api_key=API_KEY).start()
    provider_settings = ProviderSettings(
        stash=StashSettings(url=AnyHttpUrl(stash.url), api_key=SecretStr(API_KEY), timeout_s=5),
        provider=ProviderOptions(gaps=False),
    )
    try:
        yield create_app(provider_settings)
    finally:
        stash.stop()


@pytest.fixture(scope="module")
def operations(app: ProviderFastPath) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path template, operation) for every provider endpoint the OpenAPI document lists."""
    found = []
    for path, item in app.api.openapi()["paths"].items():
        for method, operation in item.items():
            if "Plex metadata provider" in operation.get("tags", []):
                found.append((method.upper(), path, operation))
    return found


def test_the_document_lists_every_provider_endpoint(operations: list[tuple[str, str, dict[str, Any]]]) -> None:
    assert {(m, p) for m, p, _ in operations} == {
        ("GET", "/"),
        ("POST", "/library/metadata/matches"),
        ("GET", "/library/metadata/{rating_key}"),
        ("GET", "/library/metadata/{rating_key}/images"),
        ("GET", "/library/metadata/{rating_key}/extras"),
        ("GET", "/images/scene/{scene_id}/screenshot"),
        ("GET", "/images/scene/{scene_id}/poster"),
        ("GET", "/images/performer/{performer_id}"),
    }


hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["scene-1", "scene-3", "scene-0", "scene-01", "1", "-1", "../../etc/passwd", "a/b", "%2F", "", " "]
    ),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


def body_strategy(operation: dict[str, Any]) -> st.SearchStrategy[bytes]:
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    fields = list(schema.get("properties", {}))
    if not fields:
        return st.just(b"")
    field_values = st.one_of(json_values, hostile_text, st.sampled_from([0, 1, 2, 4, 7, -1, 2024, "1"]))
    objects = st.dictionaries(st.sampled_from([*fields, "includeElements", "x"]), field_values, max_size=len(fields))
    return st.one_of(
        objects.map(lambda o: json.dumps(o).encode()),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=60),
    )


@st.composite
def requests(
    draw: st.DrawFn, operations: list[tuple[str, str, dict[str, Any]]]
) -> tuple[str, str, dict[str, str], bytes]:
    method, template, operation = draw(st.sampled_from(operations))
    path = template
    query: list[str] = []
    headers: dict[str, str] = {}
    for parameter in operation.get("parameters", []):
        value = draw(hostile_text)
        if parameter["in"] == "path":
            encoded = quote(value, safe="") if draw(st.booleans()) else quote(value, safe="/")
            path = path.replace("{" + parameter["name"] + "}", encoded or "x")
        elif parameter["in"] == "query" and draw(st.booleans()):
            query.append(f"{quote(parameter['name'])}={quote(value)}")
        elif parameter["in"] == "header" and draw(st.booleans()) and value.isascii() and value.isprintable():
            headers[parameter["name"]] = value.strip()
    url = path + ("?" + "&".join(query) if query else "")
    body = draw(body_strategy(operation)) if method == "POST" else b""
    if draw(st.integers(0, 9)) == 0:  # now and then, the wrong method
        method = "POST" if method == "GET" else "GET"
    return method, url, headers, body


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    event_loop = asyncio.new_event_loop()
    yield event_loop
    event_loop.close()


def test_no_request_gets_a_5xx(
    app: ProviderFastPath, operations: list[tuple[str, str, dict[str, Any]]], loop: asyncio.AbstractEventLoop
) -> None:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://provider.test", timeout=10)
    seen: dict[int, int] = {}

    @settings(max_examples=800, deadline=None, suppress_health_check=list(HealthCheck))
    @given(request=requests(operations))
    def one(request: tuple[str, str, dict[str, str], bytes]) -> None:
        method, url, headers, body = request
        answer = loop.run_until_complete(client.request(method, url, headers=headers, content=body))
        seen[answer.status_code] = seen.get(answer.status_code, 0) + 1
        assert answer.status_code < 500, (method, url, headers, body, answer.status_code, answer.text)
        if answer.status_code >= 400:
            assert answer.json()["detail"], answer.text

    try:
        one()
    finally:
        loop.run_until_complete(client.aclose())
    assert {200, 400, 404, 405} <= set(seen), seen  # the fuzz reached answers of every kind


def test_the_documented_routes_answer_as_the_served_app_does(
    app: ProviderFastPath, loop: asyncio.AbstractEventLoop
) -> None:
    """The OpenAPI document describes FastAPI routes; Plex is served by the fast path in front of them.

    Both call the same handlers: the same request gets the same status, type and bytes from either.
    """
    scene = next(s for s in SCENES.scenes.values() if s.files and s.performer_ids)
    path = SCENES.file_path(scene.files[0])
    match = json.dumps({"type": 1, "filename": path}).encode()
    cases: list[tuple[str, str, dict[str, str], bytes]] = [
        ("GET", "/", {}, b""),
        ("POST", "/library/metadata/matches", {}, match),
        ("POST", "/library/metadata/matches", {"X-Plex-Container-Size": "1"}, json.dumps({"title": "a"}).encode()),
        ("POST", "/library/metadata/matches?X-Plex-Container-Start=1", {}, match),
        ("POST", "/library/metadata/matches", {"X-Plex-Container-Size": "-1"}, match),
        ("POST", "/library/metadata/matches", {}, b"{not json"),
        ("POST", "/library/metadata/matches", {}, json.dumps({"type": 9, "filename": path}).encode()),
        ("GET", f"/library/metadata/scene-{scene.id}", {}, b""),
        ("GET", "/library/metadata/scene-999999", {}, b""),
        ("GET", "/library/metadata/not-a-key", {}, b""),
        ("GET", f"/library/metadata/scene-{scene.id}/images", {}, b""),
        ("GET", f"/library/metadata/scene-{scene.id}/extras", {}, b""),
        ("GET", f"/images/scene/{scene.id}/screenshot?v=3", {}, b""),
        ("GET", f"/images/performer/{scene.performer_ids[0]}", {}, b""),
        ("GET", "/images/scene/x1/screenshot", {}, b""),
        ("GET", "/images/performer/999999", {}, b""),
    ]

    async def both(method: str, url: str, headers: dict[str, str], body: bytes) -> list[tuple[int, str, bytes]]:
        answers = []
        for target in (app, app.api):
            transport = httpx.ASGITransport(app=target)
            async with httpx.AsyncClient(transport=transport, base_url="http://provider.test") as client:
                answer = await client.request(method, url, headers=headers, content=body)
                answers.append((answer.status_code, answer.headers["content-type"], answer.content))
        return answers

    statuses = set()
    for case in cases:
        served, documented = loop.run_until_complete(both(*case))
        assert served == documented, case
        statuses.add(served[0])
    assert {200, 400, 404} <= statuses, statuses
