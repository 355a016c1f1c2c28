"""Plex (simulated) calling a custom metadata provider, against a tiny provider defined here.

The real provider is not built yet; this stand-in records what it receives so the tests
can check that the client calls it exactly as PMS 1.43 does, and that the simulator's
Fix Match / refresh flow through a provider behaves like PMS (locks respected, a guid
without the type segment never resolved).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.harness.servers import ThreadedServer
from tests.sims.plex import PlexSim
from tests.sims.plex.provider_client import MatchRequest, ProviderClient, ProviderError, register_provider

pytestmark = pytest.mark.integration

IDENTIFIER = "tv.plex.agents.custom.stash2plex"
GUID = f"{IDENTIFIER}://movie/scene-1234"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any = None


@dataclass
class TinyProvider:
    url: str
    poster: bytes
    identifier: str = IDENTIFIER
    seen: list[Seen] = field(default_factory=list)

    def calls(self, path_suffix: str) -> list[Seen]:
        return [s for s in self.seen if s.path.endswith(path_suffix)]


def _poster() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 30), (30, 160, 90)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def provider() -> Iterator[TinyProvider]:
    """A movie provider mounted at ``/movie`` whose feature keys are relative to that mount."""
    state = TinyProvider(url="", poster=_poster())

    async def record(request: Request) -> None:
        body = await request.json() if request.method == "POST" else None
        state.seen.append(
            Seen(request.method, request.url.path, dict(request.query_params), dict(request.headers), body)
        )

    async def root(request: Request) -> Response:
        await record(request)
        return JSONResponse(
            {
                "MediaProvider": {
                    "identifier": state.identifier,
                    "title": "Stash2Plex (test)",
                    "version": "1.0.0",
                    "Types": [{"type": 1, "Scheme": [{"scheme": state.identifier}]}],
                    "Feature": [
                        {"type": "metadata", "key": "/library/metadata"},
                        {"type": "match", "key": "/library/metadata/matches"},
                    ],
                }
            }
        )

    async def matches(request: Request) -> Response:
        await record(request)
        body = state.seen[-1].body
        hits = []
        if str(body.get("filename", "")).endswith("Sunset Session.mp4") or body.get("title") == "Sunset Session":
            hits.append({"guid": GUID, "type": "movie", "title": "Sunset Session", "year": 2024, "score": 100})
            if body.get("manual") == 1:
                hits.append(
                    {"guid": f"{IDENTIFIER}://movie/scene-99", "type": "movie", "title": "Sunrise", "year": 2023}
                )
        return JSONResponse(
            {
                "MediaContainer": {
                    "offset": 0,
                    "totalSize": len(hits),
                    "identifier": IDENTIFIER,
                    "size": len(hits),
                    "Metadata": hits,
                }
            }
        )

    async def metadata(request: Request) -> Response:
        await record(request)
        if request.path_params["rk"] != "scene-1234":
            return JSONResponse({"error": "unknown"}, status_code=404)
        item = {
            "ratingKey": "scene-1234",
            "key": "/library/metadata/scene-1234",
            "guid": GUID,
            "type": "movie",
            "title": "Sunset Session",
            "summary": "From the provider.",
            "studio": "Studio X",
            "originallyAvailableAt": "2024-05-01",
            "year": 2024,
            "contentRating": "XXX",
            "thumb": f"{state.url}/images/poster.jpg",
            "Genre": [{"tag": "Outdoor"}, {"tag": "Romance"}],
            "Role": [{"tag": "Ada Brenner", "thumb": f"{state.url}/images/ada.jpg", "role": "Herself"}],
            "Director": [{"tag": "Sigrid Holm"}],
            "Guid": [{"id": "imdb://tt7654321"}],
        }
        return JSONResponse(
            {"MediaContainer": {"offset": 0, "totalSize": 1, "identifier": IDENTIFIER, "size": 1, "Metadata": [item]}}
        )

    async def images(request: Request) -> Response:
        await record(request)
        return JSONResponse(
            {
                "MediaContainer": {
                    "offset": 0,
                    "totalSize": 2,
                    "identifier": IDENTIFIER,
                    "size": 2,
                    "Image": [
                        {"type": "coverPoster", "url": f"{state.url}/images/poster.jpg"},
                        {"type": "background", "url": f"{state.url}/images/poster.jpg"},
                    ],
                }
            }
        )

    async def poster(request: Request) -> Response:
        return Response(state.poster, media_type="image/jpeg")

    app = Starlette(
        routes=[
            Route("/movie", root, methods=["GET"]),
            Route("/movie/library/metadata/matches", matches, methods=["POST"]),
            Route("/movie/library/metadata/{rk}", metadata, methods=["GET"]),
            Route("/movie/library/metadata/{rk}/images", images, methods=["GET"]),
            Route("/movie/images/poster.jpg", poster, methods=["GET"]),
        ]
    )
    server = ThreadedServer(app).start()
    state.url = f"{server.url}/movie"
    try:
        yield state
    finally:
        server.stop()


# ---- the client on its own ---------------------------------------------------------------
async def test_root_document_is_fetched_like_pms(provider: TinyProvider) -> None:
    async with ProviderClient(provider.url) as client:
        root = await client.root()
    assert root["identifier"] == IDENTIFIER
    (call,) = provider.seen
    assert call.path == "/movie"
    assert call.query == {"includePreferences": "1"}
    assert call.headers["accept"] == "application/json"
    assert call.headers["x-plex-language"] == "en-US"


async def test_match_posts_the_json_body_pms_sends(provider: TinyProvider) -> None:
    request = MatchRequest(
        type=1,
        title="2024-05-01 Sunset Session",
        year=2024,
        guid="imdb://tt7654321",
        filename="D:\\Stash\\Scenes\\Studio X\\2024-05-01 Sunset Session.mp4",
        manual=True,
    )
    async with ProviderClient(provider.url, language="de-DE") as client:
        container = await client.match(request)
    assert [m["guid"] for m in container["Metadata"]] == [GUID, f"{IDENTIFIER}://movie/scene-99"]

    (call,) = provider.calls("/matches")
    assert call.path == "/movie/library/metadata/matches"  # the feature key is relative to the mount
    assert call.body == {
        "type": 1,
        "title": "2024-05-01 Sunset Session",
        "year": 2024,
        "guid": "imdb://tt7654321",
        "filename": "D:\\Stash\\Scenes\\Studio X\\2024-05-01 Sunset Session.mp4",
        "manual": 1,
    }
    assert call.headers["content-type"] == "application/json"
    assert call.headers["x-plex-language"] == "de-DE"
    assert (call.headers["x-plex-container-start"], call.headers["x-plex-container-size"]) == ("0", "20")


async def test_automatic_match_asks_for_the_best_result_only(provider: TinyProvider) -> None:
    async with ProviderClient(provider.url) as client:
        container = await client.match(MatchRequest(title="Sunset Session"))
        nothing = await client.match(MatchRequest(title="No Such Scene"))
    assert [m["title"] for m in container["Metadata"]] == ["Sunset Session"]
    assert provider.calls("/matches")[0].body == {"type": 1, "title": "Sunset Session", "manual": 0}
    assert nothing["Metadata"] == []


async def test_metadata_and_images_and_a_404(provider: TinyProvider) -> None:
    async with ProviderClient(provider.url) as client:
        item = await client.metadata("scene-1234")
        images = await client.images("scene-1234")
        with pytest.raises(ProviderError) as missing:
            await client.metadata("scene-404")
    assert item["title"] == "Sunset Session"
    assert [i["type"] for i in images] == ["coverPoster", "background"]
    assert missing.value.status == 404
    assert [c.path for c in provider.seen if c.method == "GET"][-3:] == [
        "/movie/library/metadata/scene-1234",
        "/movie/library/metadata/scene-1234/images",
        "/movie/library/metadata/scene-404",
    ]


# ---- registration with the simulated PMS ------------------------------------------------------
async def test_registration_validates_and_refuses_duplicates(plex_sim: PlexSim, provider: TinyProvider) -> None:
    first = await register_provider(plex_sim.url, plex_sim.token, provider.url)
    assert first.status_code == 200
    assert f'identifier="{IDENTIFIER}"' in first.text
    again = await register_provider(plex_sim.url, plex_sim.token, provider.url)
    assert again.status_code == 409
    listed = plex_sim.plexapi().query("/media/providers/metadata")
    assert [p.attrib["identifier"] for p in listed] == [IDENTIFIER]
    assert provider.seen[0].query == {"includePreferences": "1"}

    unreachable = await register_provider(plex_sim.url, plex_sim.token, "http://127.0.0.1:9/nowhere")
    assert unreachable.status_code == 400


async def test_a_root_without_the_custom_prefix_is_refused(plex_sim: PlexSim, provider: TinyProvider) -> None:
    provider.identifier = "tv.plex.agents.stash2plex"  # the mistake a real plugin shipped with
    async with ProviderClient(provider.url) as client:
        with pytest.raises(ProviderError, match=r"identifier must look like tv\.plex\.agents\.custom\."):
            await client.root()
    refused = await register_provider(plex_sim.url, plex_sim.token, provider.url)
    assert refused.status_code == 400
    assert plex_sim.providers.all() == []


# ---- Fix Match and refresh through the provider, driven by plexapi ------------------------------
async def test_fix_match_pulls_metadata_but_keeps_locked_fields(plex_sim: PlexSim, provider: TinyProvider) -> None:
    assert (await register_provider(plex_sim.url, plex_sim.token, provider.url)).status_code == 200
    plex = plex_sim.plexapi()
    plex.library.section("Stash Scenes").edit(agent=IDENTIFIER)
    scene = plex.fetchItem(201)
    scene.editSummary("Written by the syncer.")  # locked by default

    results = scene.matches()
    assert [(r.guid, r.name, r.score) for r in results] == [
        (GUID, "Sunset Session", 100),
        (f"{IDENTIFIER}://movie/scene-99", "Sunrise", 100),
    ]
    match_call = provider.calls("/matches")[-1]
    assert match_call.body["filename"] == "D:\\Stash\\Scenes\\Studio X\\2024-05-01 Sunset Session.mp4"
    assert match_call.body["manual"] == 1

    scene.fixMatch(results[0])
    scene.reload()
    assert scene.guid == GUID
    assert scene.title == "Sunset Session"
    assert scene.summary == "Written by the syncer."  # locked: the provider did not overwrite it
    assert scene.studio == "Studio X"
    assert [g.tag for g in scene.genres] == ["Outdoor", "Romance"]
    assert [(r.tag, r.role) for r in scene.roles] == [("Ada Brenner", "Herself")]
    assert plex._session.get(scene.thumbUrl, timeout=5).content == provider.poster
    assert provider.calls("/library/metadata/scene-1234")

    agent = plex_sim.writes.last().change["agent"]
    assert agent["provider"] == IDENTIFIER
    assert agent["locked_skipped"] == ["summary"]


async def test_refresh_rereads_the_provider(plex_sim: PlexSim, provider: TinyProvider) -> None:
    await register_provider(plex_sim.url, plex_sim.token, provider.url)
    plex_sim.library.get(202).guid = GUID
    plex = plex_sim.plexapi()
    scene = plex.fetchItem(202)
    scene.refresh()
    assert scene.reload().title == "Sunset Session"
    assert len(provider.calls("/library/metadata/scene-1234")) == 1


async def test_a_guid_without_the_movie_segment_is_never_resolved(plex_sim: PlexSim, provider: TinyProvider) -> None:
    await register_provider(plex_sim.url, plex_sim.token, provider.url)
    plex = plex_sim.plexapi()
    scene = plex.fetchItem(202)
    bad_guid = f"{IDENTIFIER}://scene-1234"  # the shape a real PMS log shows failing
    scene.fixMatch(scene._manuallyLoadXML(f'<SearchResult guid="{bad_guid}" name="Rooftop"/>'))

    assert scene.reload().guid == bad_guid
    assert provider.calls("/library/metadata/scene-1234") == []
    assert "failed to return a result" in plex_sim.writes.last().change["agent"]["error"]
