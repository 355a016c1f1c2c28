"""The provider service as Plex uses it: the Plex simulator registers it, matches a library of files
(exact path, mapped path, file name only, unknown file, twins with a Fix Match), and pulls metadata
and images through it; every answer checked against the official spec; gaps reach the GAPS stream.
Then what surrounds the happy path: the secret path, letterboxed posters, Stash's locked database
and outages, and how few queries a burst of Plex requests costs Stash.

The provider runs as a real process against the Stash simulator and the real broker.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from nats.js import JetStreamContext
from PIL import Image

from stash2plex.common.contracts import Gap
from stash2plex.common.plexguid import IDENTIFIER
from stash2plex.common.subjects import GapKind
from stash2plex.common.topology import GAPS_STREAM
from tests.harness.broker import Broker
from tests.harness.services import ServiceProcess
from tests.sims.plex import PlexSim
from tests.sims.plex.model import Library
from tests.sims.plex.provider_client import MatchRequest, ProviderClient, register_provider
from tests.sims.plex.sim import PlexSimFactory
from tests.sims.stash import StashData, StashSim
from tests.sims.stash.fixtures import StashSimFactory
from tests.sims.stash.images import jpeg
from tests.unit.test_provider_spec import check_container, check_root

pytestmark = pytest.mark.integration

API_KEY = "provider-test-key-0123456789"
STASH_ROOT = "/data/videos"
PLEX_ROOT = "/media/stash"
RULES = json.dumps([{"stash": f"^{STASH_ROOT}/(.*)$", "plex": PLEX_ROOT + "/\\1"}])
SECTION = "Stash Scenes"
ADDED = datetime(2024, 6, 1, 12, tzinfo=UTC)


@dataclass
class World:
    """A Stash library, a Plex library of the same files under mapped paths, and their ids."""

    stash: StashSim
    plex: PlexSim
    scenes: dict[str, int]
    """Name in this test → Stash scene id."""
    items: dict[str, int]
    """Name in this test → Plex ratingKey."""


def stash_library() -> tuple[StashData, dict[str, int]]:
    data = StashData()
    network = data.add_studio("Network Y", created_at=ADDED)
    studio = data.add_studio("Studio X", parent_id=network.id, created_at=ADDED)
    ada = data.add_performer("Ada Brenner", created_at=ADDED)
    zoe = data.add_performer("Zoë Øberg", has_image=False, created_at=ADDED)
    outdoor, golden = data.add_tag("Outdoor", created_at=ADDED), data.add_tag("Golden hour", created_at=ADDED)

    def scene(path: str, **fields: Any) -> int:
        return data.add_scene(paths=[f"{STASH_ROOT}/{path}"], created_at=ADDED, **fields).id

    ids = {
        "sunset": scene(
            "Studio X/2024-05-01 Sunset Session.mp4",
            title="Sunset Session",
            details="Two people, one sunset.",
            date="2024-05-01",
            rating100=90,
            director="Sigrid Holm",
            studio_id=studio.id,
            performer_ids=[ada.id, zoe.id],
            tag_ids=[outdoor.id, golden.id],
        ),
        "rooftop": scene("Studio X/Rooftop.mp4", title="Rooftop", date="2023-07-14", studio_id=studio.id),
        "deep": scene("Deep/Folder/clip_unique.mp4", title="Deep Clip", date="2022-02-02"),
        "intro_a": scene("A/intro.mp4", title="Morning Intro", date="2021-03-01"),
        "intro_b": scene("B/intro.mp4", title="Evening Intro", date="2023-03-01"),
        "wild": scene("W/clipX1.mp4", title="Wildcard Bait"),  # `_` in a LIKE pattern would match this
        "empty": scene("Unsorted/raw123.mp4"),
        "brackets": scene("Studio X/[2020] Hot + Cold (1080p).mp4", title="Hot + Cold", date="2020-01-01"),
    }
    return data, ids


def plex_library(files: dict[str, str]) -> tuple[Library, dict[str, int]]:
    library = Library()
    section = library.add_section(SECTION, locations=[PLEX_ROOT])
    keys = {name: int(library.add_item(section.id, name, files=[path]).rating_key) for name, path in files.items()}
    return library, keys


PLEX_FILES = {
    "sunset": f"{STASH_ROOT}/Studio X/2024-05-01 Sunset Session.mp4",  # Plex sees Stash's own path
    "rooftop": f"{PLEX_ROOT}/Studio X/Rooftop.mp4",  # through the path rule
    "deep": "Movies/clip_unique.mp4",  # relative to the library: the file name decides
    "intro_a": f"{PLEX_ROOT}/A/intro.mp4",
    "unknown": f"{PLEX_ROOT}/Unknown/not-in-stash.mp4",
    "wild": f"{PLEX_ROOT}/W/clip_1.mp4",  # not Stash's clipX1.mp4, whatever LIKE thinks
    "empty": f"{PLEX_ROOT}/Unsorted/raw123.mp4",
    "brackets": f"{PLEX_ROOT}/Studio X/[2020] Hot + Cold (1080p).mp4",
}


@pytest.fixture
def world(stash_sim_factory: StashSimFactory, plex_sim_factory: PlexSimFactory) -> World:
    data, scenes = stash_library()
    library, items = plex_library(PLEX_FILES)
    return World(stash_sim_factory(data, api_key=API_KEY), plex_sim_factory(library), scenes, items)


def provider_env(stash: StashSim, broker: Broker, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "STASH2PLEX_STASH__URL": stash.url,
        "STASH2PLEX_STASH__API_KEY": API_KEY,
        "STASH2PLEX_NATS__URL": broker.url,
        "STASH2PLEX_DATA_DIR": str(tmp_path / "data"),
        "STASH2PLEX_PATHS__RULES": RULES,
        "STASH2PLEX_PROVIDER__GAP_REPEAT_S": "0",
    }
    env.update({f"STASH2PLEX_PROVIDER__{k.upper()}": v for k, v in extra.items()})
    return env


ProviderFactory = Callable[..., ServiceProcess]


@pytest.fixture
def provider_factory(broker: Broker, js: JetStreamContext, tmp_path: Path) -> Iterator[ProviderFactory]:
    """``make(stash, **provider_options)``: a provider process, ready (NATS and Stash answer)."""
    started: list[ServiceProcess] = []

    def make(stash: StashSim, **options: str) -> ServiceProcess:
        service = ServiceProcess("provider", provider_env(stash, broker, tmp_path, **options), tmp_path)
        started.append(service.start())
        report = service.wait_ready()
        assert report["ready"], report
        return service

    yield make
    for service in started:
        service.stop()


@pytest.fixture
def provider(world: World, provider_factory: ProviderFactory) -> ServiceProcess:
    return provider_factory(world.stash)


async def scan(client: ProviderClient, filename: str, title: str | None = None) -> list[dict[str, Any]]:
    """What PMS does for a new file during a library scan: an automatic match."""
    container = await client.match(MatchRequest(type=1, title=title, filename=filename))
    check_container({"MediaContainer": container}, match=True)
    metadata: list[dict[str, Any]] = container["Metadata"]
    return metadata


def guid(scene_id: int) -> str:
    return f"{IDENTIFIER}://movie/scene-{scene_id}"


async def test_plex_registers_the_provider_from_its_root_document(world: World, provider: ServiceProcess) -> None:
    answer = await register_provider(world.plex.url, world.plex.token, provider.url)
    assert answer.status_code == 200, answer.text
    listed = world.plex.plexapi().query("/media/providers/metadata")
    assert [(p.attrib["identifier"], p.attrib["uri"]) for p in listed] == [(IDENTIFIER, provider.url)]
    assert [t.attrib["type"] for t in listed[0]] == ["1"]
    check_root(httpx.get(provider.url, params={"includePreferences": "1"}, timeout=5).json())


async def test_a_library_scan_matches_every_kind_of_file(world: World, provider: ServiceProcess) -> None:
    s = world.scenes
    async with ProviderClient(provider.url) as client:
        exact = await scan(client, PLEX_FILES["sunset"], "2024-05-01 Sunset Session")
        mapped = await scan(client, PLEX_FILES["rooftop"], "Rooftop")
        by_name = await scan(client, PLEX_FILES["deep"], "clip_unique")
        unknown = await scan(client, PLEX_FILES["unknown"], "not-in-stash")
        not_a_wildcard = await scan(client, PLEX_FILES["wild"], "clip_1")
        twins_by_name = await scan(client, "Movies/intro.mp4", "intro")

    assert [(m["guid"], m["score"]) for m in exact] == [(guid(s["sunset"]), 100)]
    assert exact[0]["title"] == "Sunset Session"
    assert exact[0]["year"] == 2024
    assert [(m["guid"], m["score"]) for m in mapped] == [(guid(s["rooftop"]), 100)]
    assert [m["guid"] for m in by_name] == [guid(s["deep"])]
    assert 80 <= by_name[0]["score"] < 100
    assert unknown == []
    assert not_a_wildcard == []
    assert twins_by_name == []  # two scenes have that file name and nothing tells them apart: no guess

    metrics = httpx.get(provider.url + "/metrics", timeout=5).text
    for method, count in (("path", 2), ("basename", 1), ("none", 3)):
        assert f'stash2plex_provider_matches_total{{method="{method}"}} {count}.0' in metrics


async def test_fix_match_lists_the_twins_and_binds_the_chosen_scene(world: World, provider: ServiceProcess) -> None:
    await register_provider(world.plex.url, world.plex.token, provider.url)
    plex = world.plex.plexapi()
    plex.library.section(SECTION).edit(agent=IDENTIFIER)
    item = plex.fetchItem(world.items["intro_a"])

    results = item.matches()  # Plex's Fix Match: manual=1, the file's full path, the item's title
    guids = [r.guid for r in results]
    assert guids[:2] == [guid(world.scenes["intro_a"]), guid(world.scenes["intro_b"])]
    scores = [int(r.score) for r in results]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] == 100

    item.fixMatch(results[1])  # the user picks the other twin
    item.reload()
    assert item.guid == guid(world.scenes["intro_b"])
    assert item.title == "Evening Intro"
    assert item.year == 2023


async def test_plex_pulls_full_metadata_and_images_through_the_provider(world: World, provider: ServiceProcess) -> None:
    await register_provider(world.plex.url, world.plex.token, provider.url)
    scene_id = world.scenes["sunset"]
    async with ProviderClient(provider.url) as client:
        item = await client.metadata(f"scene-{scene_id}")
        images = await client.images(f"scene-{scene_id}")
    check_container({"MediaContainer": {"offset": 0, "totalSize": 1, "identifier": IDENTIFIER, "size": 1,
                                        "Metadata": [item]}})  # fmt: skip
    assert item["summary"] == "Two people, one sunset."
    assert item["Studio"] == [{"tag": "Studio X"}, {"tag": "Network Y"}]
    assert [g["tag"] for g in item["Genre"]] == ["Outdoor", "Golden hour"]
    assert item["Director"] == [{"tag": "Sigrid Holm"}]
    assert [(r["tag"], "thumb" in r) for r in item["Role"]] == [("Ada Brenner", True), ("Zoë Øberg", False)]
    assert [i["type"] for i in images] == ["coverPoster", "background"]

    # Plex binds an item to the scene and refreshes it: everything arrives, the poster as Stash's bytes.
    world.plex.library.get(world.items["sunset"]).guid = guid(scene_id)
    plex = world.plex.plexapi()
    movie = plex.fetchItem(world.items["sunset"])
    movie.refresh()
    movie.reload()
    assert (movie.title, movie.studio, movie.contentRating) == ("Sunset Session", "Studio X", "XXX")
    assert movie.originallyAvailableAt.date().isoformat() == "2024-05-01"
    assert [r.tag for r in movie.roles] == ["Ada Brenner", "Zoë Øberg"]
    poster = plex._session.get(movie.thumbUrl, timeout=5).content
    assert poster == jpeg("scene", scene_id, 0)

    photo = httpx.get(item["Role"][0]["thumb"], timeout=5)
    assert photo.status_code == 200
    assert photo.headers["content-type"] == "image/jpeg"
    assert "max-age" in photo.headers["cache-control"]
    assert photo.content == jpeg("performer", 1, 0)


async def test_no_answer_leaks_the_stash_api_key_or_address(world: World, provider: ServiceProcess) -> None:
    scene_id = world.scenes["sunset"]
    with httpx.Client(base_url=provider.url, timeout=5) as http:
        answers = [
            http.get("/"),
            http.post("/library/metadata/matches", json={"type": 1, "filename": PLEX_FILES["sunset"], "manual": 1}),
            http.get(f"/library/metadata/scene-{scene_id}"),
            http.get(f"/library/metadata/scene-{scene_id}/images"),
            http.get("/library/metadata/scene-999"),
        ]
        image = http.get(f"/images/scene/{scene_id}/screenshot?v=1")
    for answer in answers:
        assert API_KEY not in answer.text
        assert world.stash.url not in answer.text
        assert "apikey" not in answer.text.lower()
    assert not any(API_KEY in v or world.stash.url in v for v in image.headers.values())


async def test_unknown_and_malformed_keys_are_404_and_400(world: World, provider: ServiceProcess) -> None:
    with httpx.Client(base_url=provider.url, timeout=5) as http:
        unknown = http.get("/library/metadata/scene-999")
        slash = http.get("/library/metadata/scene-1%2Fimages")
        malformed = http.get("/library/metadata/tt0088763")
        extras = http.get(f"/library/metadata/scene-{world.scenes['sunset']}/extras")
        children = http.get(f"/library/metadata/scene-{world.scenes['sunset']}/children")
    assert (unknown.status_code, unknown.json()["detail"]) == (404, "Stash has no scene 999 (ratingKey scene-999)")
    assert slash.status_code == 400
    assert "characters Plex never uses" in slash.json()["detail"]
    assert malformed.status_code == 400
    assert "expected scene-<Stash scene id>" in malformed.json()["detail"]
    assert extras.status_code == 200
    check_container(extras.json())
    assert extras.json()["MediaContainer"]["Metadata"] == []
    assert children.status_code == 404


async def read_gaps(js: JetStreamContext) -> list[Gap]:
    info = await js.stream_info(GAPS_STREAM)
    gaps = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            raw = await js.get_msg(GAPS_STREAM, seq)
        except nats.js.errors.NotFoundError:
            continue
        gaps.append(Gap.from_bytes(raw.data or b""))
    return gaps


async def test_scanned_files_stash_lacks_and_empty_scenes_become_gaps(
    world: World, provider: ServiceProcess, js: JetStreamContext
) -> None:
    async with ProviderClient(provider.url) as client:
        await scan(client, PLEX_FILES["unknown"])
        await scan(client, PLEX_FILES["empty"])
        await scan(client, PLEX_FILES["sunset"])  # a full scene: no gap
        await client.match(MatchRequest(type=1, filename="/media/stash/Other/manual.mp4", manual=True))  # not a scan

    gaps: list[Gap] = []
    for _ in range(50):
        gaps = await read_gaps(js)
        if len(gaps) >= 2:
            break
        await asyncio.sleep(0.1)
    by_kind = {g.kind: g for g in gaps}
    assert sorted(by_kind) == [GapKind.MISSING_IN_STASH, GapKind.PLEX_EMPTY]
    assert len(gaps) == 2
    missing = by_kind[GapKind.MISSING_IN_STASH]
    assert missing.plex_path == PLEX_FILES["unknown"]
    assert missing.plex_rating_key is not None
    assert missing.plex_rating_key.startswith("file-")
    assert f"{STASH_ROOT}/Unknown/not-in-stash.mp4" in missing.detail  # where it was looked for
    empty = by_kind[GapKind.PLEX_EMPTY]
    assert (empty.scene_id, empty.plex_path) == (str(world.scenes["empty"]), PLEX_FILES["empty"])


# ---- around the happy path ----------------------------------------------------------------------
SECRET = "k3ep-this-out-of-logs-0123456789"


def provider_queries(world: World) -> int:
    return len(world.stash.requests.graphql("ProviderFindScenes"))


async def test_with_a_secret_path_only_the_registered_url_answers(
    world: World, provider_factory: ProviderFactory
) -> None:
    service = provider_factory(world.stash, secret_path=SECRET)
    registered = f"{service.url}/{SECRET}"
    scene_id = world.scenes["sunset"]
    with httpx.Client(timeout=5) as http:
        assert http.get(service.url + "/").status_code == 404
        assert http.get(f"{service.url}/library/metadata/scene-{scene_id}").status_code == 404
        assert http.get(f"{service.url}/wrong-secret-0123456789abcdef/library/metadata/scene-1").status_code == 404
        assert http.get(service.url + "/healthz").status_code == 200  # operations stay where they were
        check_root(http.get(registered).json())
        item = http.get(f"{registered}/library/metadata/scene-{scene_id}").json()["MediaContainer"]["Metadata"][0]
        assert item["thumb"].startswith(f"{registered}/images/scene/{scene_id}/")  # Plex fetches it at the secret URL
        assert http.get(item["thumb"]).content == jpeg("scene", scene_id, 0)
        assert SECRET not in service.log()  # the secret is redacted from logs like the API key

    answer = await register_provider(world.plex.url, world.plex.token, registered)
    assert answer.status_code == 200, answer.text
    async with ProviderClient(registered) as client:
        (hit,) = (await client.match(MatchRequest(type=1, filename=PLEX_FILES["rooftop"])))["Metadata"]
    assert hit["guid"] == f"{IDENTIFIER}://movie/scene-{world.scenes['rooftop']}"


async def test_letterbox_mode_serves_two_by_three_posters(world: World, provider_factory: ProviderFactory) -> None:
    service = provider_factory(world.stash, poster_mode="letterbox")
    scene_id = world.scenes["sunset"]
    with httpx.Client(base_url=service.url, timeout=5) as http:
        item = http.get(f"/library/metadata/scene-{scene_id}").json()["MediaContainer"]["Metadata"][0]
        poster = http.get(item["thumb"])
        background = http.get(item["art"])
    assert "/poster?" in item["thumb"]
    assert poster.headers["content-type"] == "image/jpeg"
    width, height = Image.open(io.BytesIO(poster.content)).size
    assert (width, height) == (320, 480)  # the simulator's 320x180 screenshot, letterboxed
    assert background.content == jpeg("scene", scene_id, 0)  # the background stays the screenshot


async def test_a_locked_stash_database_is_retried_unnoticed(world: World, provider: ServiceProcess) -> None:
    world.stash.faults.lock_database(times=2)
    async with ProviderClient(provider.url) as client:
        (hit,) = (await client.match(MatchRequest(type=1, filename=PLEX_FILES["sunset"])))["Metadata"]
    assert hit["score"] == 100
    assert [r.fault for r in world.stash.requests.graphql("ProviderFindScenes")][:3] == ["db_locked", "db_locked", None]


async def test_with_stash_down_plex_gets_a_503_that_says_so_then_answers_again(
    world: World, provider: ServiceProcess
) -> None:
    world.stash.stop()
    with httpx.Client(base_url=provider.url, timeout=15) as http:
        down = http.post("/library/metadata/matches", json={"type": 1, "filename": PLEX_FILES["sunset"]})
        missing = http.get(f"/library/metadata/scene-{world.scenes['deep']}")
        world.stash.start()
        up = http.post("/library/metadata/matches", json={"type": 1, "filename": PLEX_FILES["sunset"]})
    assert down.status_code == 503
    assert "Stash did not answer" in down.json()["detail"]
    assert down.headers["retry-after"]
    assert missing.status_code == 503
    assert up.status_code == 200
    assert len(up.json()["MediaContainer"]["Metadata"]) == 1
    metrics = httpx.get(provider.url + "/metrics", timeout=5).text
    errors = re.search(r'^stash2plex_provider_stash_errors_total\{kind="unavailable"\} (\S+)$', metrics, re.MULTILINE)
    assert errors is not None
    assert float(errors.group(1)) >= 1


async def test_fifty_identical_lookups_cost_stash_one_query(world: World, provider: ServiceProcess) -> None:
    world.stash.faults.slow(0.3)  # keep the first query in flight while the others arrive
    body = {"type": 1, "filename": PLEX_FILES["rooftop"]}
    async with httpx.AsyncClient(base_url=provider.url, timeout=10) as http:
        answers = await asyncio.gather(*(http.post("/library/metadata/matches", json=body) for _ in range(50)))
        world.stash.faults.reset()
        again = await http.post("/library/metadata/matches", json=body)
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert provider_queries(world) == 1
    assert again.content == answers[0].content
    assert provider_queries(world) == 1  # cached

    metrics = httpx.get(provider.url + "/metrics", timeout=5).text
    assert 'stash2plex_provider_cache_lookups_total{cache="match_answer",result="hit"} 1.0' in metrics


async def test_metadata_requests_arriving_together_share_one_query(world: World, provider: ServiceProcess) -> None:
    ids = [world.scenes[name] for name in ("sunset", "rooftop", "deep", "intro_a", "intro_b", "empty")]
    world.stash.faults.slow(0.2)
    async with httpx.AsyncClient(base_url=provider.url, timeout=10) as http:
        first = http.get(f"/library/metadata/scene-{ids[0]}")
        rest = [http.get(f"/library/metadata/scene-{i}") for i in ids[1:]]
        answers = await asyncio.gather(first, *rest)
    assert [a.status_code for a in answers] == [200] * len(ids)
    titles = [a.json()["MediaContainer"]["Metadata"][0]["guid"] for a in answers]
    assert titles == [f"{IDENTIFIER}://movie/scene-{i}" for i in ids]
    queries = world.stash.requests.graphql("ProviderFindScenes")
    # At most two batches run at once; every id that arrives meanwhile waits and goes out with the others.
    assert len(queries) <= 3
    assert sorted(int(i) for q in queries for i in q.variables["ids"]) == sorted(ids)  # each asked once


async def test_a_burst_of_scans_costs_stash_few_path_queries(world: World, provider: ServiceProcess) -> None:
    names = ["sunset", "rooftop", "intro_a", "empty", "brackets", "unknown", "wild"]
    world.stash.faults.slow(0.2)  # the first query is still running when the others arrive
    async with ProviderClient(provider.url) as client:
        found = await asyncio.gather(*(scan(client, PLEX_FILES[name]) for name in names))
    hits = {name: [m["guid"] for m in result] for name, result in zip(names, found, strict=True)}
    assert hits == {
        **{name: [guid(world.scenes[name])] for name in ("sunset", "rooftop", "intro_a", "empty", "brackets")},
        "unknown": [],
        "wild": [],
    }
    path_lookups = [
        r.variables["scene_filter"]["path"]["modifier"]
        for r in world.stash.requests.graphql("ProviderFindScenes")
        if r.variables.get("scene_filter", {}).get("path", {}).get("modifier") in ("EQUALS", "MATCHES_REGEX")
    ]
    assert "MATCHES_REGEX" in path_lookups  # files asked about together were looked up together
    assert len(path_lookups) <= 3  # at most two batches in flight, the rest in one more


def test_without_stash_configured_plex_is_told_what_is_missing(broker: Broker, tmp_path: Path) -> None:
    env = {"STASH2PLEX_NATS__URL": broker.url, "STASH2PLEX_DATA_DIR": str(tmp_path), "STASH2PLEX_STASH__URL": ""}
    with ServiceProcess("provider", env, tmp_path) as service, httpx.Client(base_url=service.url, timeout=5) as http:
        root = http.get("/")
        match = http.post("/library/metadata/matches", json={"type": 1, "filename": "/media/a.mp4"})
        item = http.get("/library/metadata/scene-1")
        image = http.get("/images/scene/1/screenshot")
    check_root(root.json())
    for answer in (match, item, image):
        assert answer.status_code == 503
        assert "set STASH2PLEX_STASH__URL" in answer.json()["detail"]
