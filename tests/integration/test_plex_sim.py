"""The Plex simulator, driven by the real plexapi over HTTP.

Each test does what the syncer will do, reads the result back through plexapi (reload),
and checks the request that reached "Plex" in the simulator's write journal.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image
from plexapi.exceptions import BadRequest, NotFound, Unauthorized
from plexapi.media import SearchResult
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.harness.net import free_port
from tests.harness.servers import ThreadedServer
from tests.sims.plex import PlexSim, make_library
from tests.sims.plex.sim import DEFAULT_TOKEN, PlexSimFactory, connect_plexapi

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]


def _image(color: tuple[int, int, int], fmt: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 30), color).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture
def image_server() -> Iterator[tuple[str, bytes]]:
    """Somewhere on the network an image lives (Stash, say); PMS fetches it for ``url=`` uploads."""
    art = _image((10, 120, 200), "PNG")

    async def serve(request: Request) -> Response:
        return Response(art, media_type="image/png")

    server = ThreadedServer(Starlette(routes=[Route("/art.png", serve)])).start()
    try:
        yield f"{server.url}/art.png", art
    finally:
        server.stop()


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/identity", timeout=1).status_code == 200
    except requests.exceptions.ConnectionError:
        return False


def _eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


# ---- connecting and reading ---------------------------------------------------------------
def test_connects_and_reports_a_1_43_server(plex_sim: PlexSim, plex_server: Any) -> None:
    assert plex_server.friendlyName == "Stash2Plex Sim"
    assert plex_server.machineIdentifier == plex_sim.library.machine_identifier
    major, minor = (int(p) for p in plex_server.version.split(".")[:2])
    assert (major, minor) >= (1, 43)
    assert plex_server.identity().machineIdentifier == plex_sim.library.machine_identifier


def test_identity_is_open_but_everything_else_needs_the_token(plex_sim: PlexSim) -> None:
    assert requests.get(f"{plex_sim.url}/identity", timeout=5).status_code == 200
    assert requests.get(f"{plex_sim.url}/library/sections", timeout=5).status_code == 401
    ok = requests.get(f"{plex_sim.url}/library/sections", params={"X-Plex-Token": plex_sim.token}, timeout=5)
    assert ok.status_code == 200
    with pytest.raises(Unauthorized):
        connect_plexapi(plex_sim.url, "wrong-token")


def test_lists_sections_with_their_folders(plex_server: Any) -> None:
    sections = plex_server.library.sections()
    assert [(s.key, s.type, s.title) for s in sections] == [
        (1, "movie", "Movies"),
        (2, "movie", "Stash Scenes"),
        (3, "show", "TV Shows"),
    ]
    assert sections[0].locations == ["/media/movies", "/mnt/archive/movies"]
    assert sections[1].locations == ["D:\\Stash\\Scenes", "\\\\NAS\\media\\stash"]
    assert sections[0].agent == "tv.plex.agents.movie"


def test_search_finds_an_item_and_its_file_paths(plex_server: Any) -> None:
    movies = plex_server.library.section("Movies")
    found = movies.search(title="harbor", libtype="movie")
    assert [m.title for m in found] == ["The Quiet Harbor"]
    assert found[0].locations == ["/media/movies/Odd Lantern/The Quiet Harbor (2019).mp4"]

    two_parts = plex_server.fetchItem(102)
    assert [p.file for p in two_parts.iterParts()] == [
        "/media/movies/Blue Finch Films/Neon Orchard (2021) – Director's Cut - pt1.mkv",
        "/media/movies/Blue Finch Films/Neon Orchard (2021) – Director's Cut - pt2.mkv",
    ]
    scenes = plex_server.library.section("Stash Scenes")
    windows = scenes.search(Media__Part__file__istartswith="d:\\stash\\scenes\\")
    assert [m.ratingKey for m in windows] == [201]
    assert windows[0].media[0].parts[0].file == "D:\\Stash\\Scenes\\Studio X\\2024-05-01 Sunset Session.mp4"
    archive = movies.search(Media__Part__file__startswith="/mnt/archive/")
    assert sorted(m.title for m in archive) == ["A Letter to Summer", "Paper Empire"]


def test_listing_is_title_sorted_ignoring_articles_and_filters_work(plex_server: Any) -> None:
    movies = plex_server.library.section("Movies")
    assert [m.title for m in movies.all()] == ["A Letter to Summer", "Neon Orchard", "Paper Empire", "The Quiet Harbor"]
    assert [m.title for m in movies.search(genre="Drama")] == ["A Letter to Summer", "The Quiet Harbor"]
    assert [m.title for m in movies.search(year=2021)] == ["Neon Orchard"]
    assert [m.title for m in movies.search(sort="addedAt:desc")][:2] == ["Paper Empire", "A Letter to Summer"]
    assert movies.getGuid("plex://movie/5d7768a1fb0d55001f5a0b11").ratingKey == 101


def test_hub_search_returns_movies_and_collections(plex_server: Any) -> None:
    assert [m.title for m in plex_server.search("orchard", mediatype="movie")] == ["Neon Orchard"]
    assert [c.title for c in plex_server.search("harbor", mediatype="collection")] == ["Harbor Stories"]


def test_details_carry_people_collections_guids_and_locks(plex_server: Any) -> None:
    movie = plex_server.fetchItem(101)
    assert [(r.tag, r.role, r.thumb) for r in movie.roles][:2] == [
        ("Ada Brenner", "Maren", "https://images.example.invalid/people/ada-brenner.jpg"),
        ("Jonah Okafor", "Elias", None),
    ]
    assert [g.tag for g in movie.genres] == ["Drama", "Mystery", "Thriller"]
    assert [c.tag for c in movie.collections] == ["Harbor Stories"]
    assert [g.id for g in movie.guids] == ["imdb://tt0101101", "tmdb://101101"]
    assert movie.originallyAvailableAt.strftime("%Y-%m-%d") == "2019-03-08"
    assert plex_server.fetchItem(103).isLocked("title")
    assert not movie.isLocked("title")


def test_listings_show_a_trimmed_tag_list_like_pms(plex_server: Any) -> None:
    partial = plex_server.library.section("Movies").get("The Quiet Harbor")
    assert partial.isPartialObject()
    assert [g.tag for g in partial.genres] == ["Drama", "Mystery"]  # the third genre only in the details
    partial.reload()
    assert len(partial.genres) == 3


# ---- edits ---------------------------------------------------------------------------------
def test_field_edits_with_locks_read_back_and_match_the_journal(plex_sim: PlexSim, plex_server: Any) -> None:
    movie = plex_server.fetchItem(101)
    movie.editTitle("The Quiet Harbour")
    movie.editSortTitle("Quiet Harbour, The")
    movie.editSummary("Rewritten summary.", locked=False)
    movie.editOriginallyAvailable("2019-04-01")
    movie.editStudio("Northlight Pictures")
    movie.editContentRating("PG-13")
    movie.editCriticRating(6.5)
    movie.editUserRating(9.0)
    movie.editTagline("")
    movie.reload()

    assert movie.title == "The Quiet Harbour"
    assert movie.titleSort == "Quiet Harbour, The"
    assert movie.summary == "Rewritten summary."
    assert movie.originallyAvailableAt.strftime("%Y-%m-%d") == "2019-04-01"
    assert movie.studio == "Northlight Pictures"
    assert movie.contentRating == "PG-13"
    assert movie.rating == 6.5
    assert movie.userRating == 9.0
    assert movie.tagline is None
    assert movie.isLocked("title")
    assert movie.isLocked("studio")
    assert movie.isLocked("titleSort")
    assert not movie.isLocked("summary")

    edits = plex_sim.writes.matching("PUT", r"^/library/sections/1/all$")
    assert len(edits) == 9
    first = edits[0]
    assert first.query == {"id": "101", "type": "1", "title.value": "The Quiet Harbour", "title.locked": "1"}
    assert first.change["items"]["101"]["fields"] == {"title": ["The Quiet Harbor", "The Quiet Harbour"]}
    assert edits[2].query["summary.locked"] == "0"
    assert edits[3].query["originallyAvailableAt.value"] == "2019-04-01"


def test_unlocking_a_field_and_a_bad_date_is_refused(plex_server: Any, plex_sim: PlexSim) -> None:
    locked = plex_server.fetchItem(103)
    locked.editTitle("A Letter to Summer", locked=False)
    assert not locked.reload().isLocked("title")
    with pytest.raises(BadRequest, match="400"):
        locked.editOriginallyAvailable("next tuesday")
    assert plex_sim.writes.last().status == 400
    assert locked.reload().originallyAvailableAt.strftime("%Y-%m-%d") == "2015-06-19"


def test_tag_lists_are_replaced_whole_and_removed_by_name(plex_sim: PlexSim, plex_server: Any) -> None:
    movie = plex_server.fetchItem(101)
    movie.addGenre("Noir")
    sent = plex_sim.writes.last().query
    assert {k: v for k, v in sent.items() if k.startswith("genre")} == {
        "genre[0].tag.tag": "Drama",
        "genre[1].tag.tag": "Mystery",
        "genre[2].tag.tag": "Thriller",
        "genre[3].tag.tag": "Noir",
        "genre.locked": "1",
    }
    assert [g.tag for g in movie.reload().genres] == ["Drama", "Mystery", "Thriller", "Noir"]
    assert movie.isLocked("genre")

    movie.edit(**{"genre[0].tag.tag": "Only This", "genre.locked": 0})  # the list is replaced, not merged
    assert [g.tag for g in movie.reload().genres] == ["Only This"]
    assert not movie.isLocked("genre")

    movie.addGenre(["Sci, Fi", "Drama"]).removeGenre(["Only This", "Sci, Fi"])
    assert plex_sim.writes.last().query["genre[].tag.tag-"] == "Only%20This,Sci%2C%20Fi"
    assert [g.tag for g in movie.reload().genres] == ["Drama"]


def test_actors_carry_thumbs_and_roles_and_keep_them_when_plexapi_adds_one(plex_sim: PlexSim, plex_server: Any) -> None:
    movie = plex_server.fetchItem(102)
    movie.edit(
        **{
            "actor[0].tag.tag": "Hana Sato",
            "actor[0].tag.thumb": "https://images.example.invalid/people/hana.jpg",
            "actor[0].tagging.text": "Courier",
            "actor[1].tag.tag": "Kofi Mensah",
            "actor.locked": 1,
        }
    )
    movie.reload()
    assert [(r.tag, r.thumb, r.role) for r in movie.roles] == [
        ("Hana Sato", "https://images.example.invalid/people/hana.jpg", "Courier"),
        ("Kofi Mensah", None, None),
    ]
    assert movie.isLocked("actor")
    movie.editTags("actor", ["Ilse Vogel"])  # plexapi re-sends the existing actors by name only
    movie.reload()
    assert [(r.tag, r.thumb) for r in movie.roles] == [
        ("Hana Sato", "https://images.example.invalid/people/hana.jpg"),
        ("Kofi Mensah", None),
        ("Ilse Vogel", None),
    ]
    assert plex_sim.writes.last().change["items"]["102"]["tags"]["actor"]["after"] == [
        "Hana Sato",
        "Kofi Mensah",
        "Ilse Vogel",
    ]


def test_collection_tags_and_the_collection_api_are_one_state(plex_sim: PlexSim, plex_server: Any) -> None:
    movies = plex_server.library.section("Movies")
    neon = plex_server.fetchItem(102)
    neon.addCollection("Night Shift")
    night = movies.collection("Night Shift")
    assert [m.title for m in night.items()] == ["Neon Orchard"]

    paper = plex_server.fetchItem(104)
    night.addItems([paper])
    assert [c.tag for c in paper.reload().collections] == ["Night Shift"]
    assert sorted(m.title for m in movies.collection("Night Shift").items()) == ["Neon Orchard", "Paper Empire"]

    created = movies.createCollection("Archive Picks", items=[paper, plex_server.fetchItem(103)])
    assert created.childCount == 2
    create_write = plex_sim.writes.matching("POST", r"^/library/collections$")[0]
    assert create_write.query["uri"].endswith("/library/metadata/104,103")
    assert create_write.query["sectionId"] == "1"

    created.removeItems([paper])
    assert [m.title for m in movies.collection("Archive Picks").items()] == ["A Letter to Summer"]
    neon.removeCollection("Night Shift")
    assert [m.title for m in movies.collection("Night Shift").items()] == ["Paper Empire"]
    assert [c.tag for c in paper.reload().collections] == ["Night Shift"]

    created.editTitle("Archive Favourites")
    assert [c.tag for c in plex_server.fetchItem(103).collections] == ["Harbor Stories", "Archive Favourites"]
    assert sorted(c.title for c in movies.collections()) == ["Archive Favourites", "Harbor Stories", "Night Shift"]


def test_batch_edits_go_out_as_one_request(plex_sim: PlexSim, plex_server: Any) -> None:
    movie = plex_server.fetchItem(104)
    plex_sim.writes.clear()
    movie.batchEdits()
    movie.editTitle("Paper Empire (Remastered)").editSummary("Now in colour.").editStudio("Studio Kestrel")
    movie.addGenre("History").addCollection("Archive Picks")
    movie.saveEdits()

    assert len(plex_sim.writes) == 1
    sent = plex_sim.writes.last().query
    assert sent["title.value"] == "Paper Empire (Remastered)"
    assert sent["genre[1].tag.tag"] == "History"
    assert sent["collection[0].tag.tag"] == "Archive Picks"
    movie.reload()
    assert (movie.title, movie.summary, movie.studio) == (
        "Paper Empire (Remastered)",
        "Now in colour.",
        "Studio Kestrel",
    )
    assert [g.tag for g in movie.genres] == ["Documentary", "History"]
    assert [c.tag for c in movie.collections] == ["Archive Picks"]


def test_multi_edit_changes_several_items_at_once(plex_sim: PlexSim, plex_server: Any) -> None:
    movies = plex_server.library.section("Movies")
    items = [plex_server.fetchItem(102), plex_server.fetchItem(104)]
    movies.batchMultiEdits(items)
    movies.editStudio("Shared Studio")
    movies.saveMultiEdits()
    assert plex_sim.writes.last().query["id"] == "102,104"
    assert [plex_server.fetchItem(rk).studio for rk in (102, 104)] == ["Shared Studio", "Shared Studio"]


# ---- images ------------------------------------------------------------------------------
def test_poster_upload_as_bytes_becomes_the_thumb(plex_sim: PlexSim, plex_server: Any) -> None:
    poster = _image((200, 40, 40))
    movie = plex_server.fetchItem(101)
    old_thumb = movie.thumb
    movie.uploadPoster(filepath=io.BytesIO(poster))
    movie.reload()

    assert movie.thumb != old_thumb
    assert movie.thumb.startswith("/library/metadata/101/thumb/")
    served = requests.get(movie.thumbUrl, timeout=5)
    assert served.content == poster
    assert served.headers["content-type"] == "image/jpeg"
    listed = movie.posters()
    assert len(listed) == 1
    assert listed[0].selected
    assert listed[0].ratingKey.startswith("upload://posters/")

    write = plex_sim.writes.last()
    assert (write.method, write.path) == ("POST", "/library/metadata/101/posters")
    assert write.body_size == len(poster)
    assert write.body_sha256 == hashlib.sha256(poster).hexdigest()


def test_art_upload_from_url_is_fetched_and_served(
    plex_sim: PlexSim, plex_server: Any, image_server: tuple[str, bytes]
) -> None:
    url, art = image_server
    movie = plex_server.fetchItem(102)
    movie.uploadArt(url=url)
    movie.reload()
    assert requests.get(movie.artUrl, timeout=5).content == art
    assert plex_sim.writes.last().query == {"url": url}
    assert [a.ratingKey for a in movie.arts()] == [url]
    with pytest.raises(BadRequest, match="400"):
        movie.uploadPoster(url=url.replace("/art.png", "/missing.png"))


def test_selecting_an_earlier_poster_switches_back(plex_server: Any) -> None:
    first, second = _image((1, 2, 3)), _image((250, 250, 0))
    movie = plex_server.fetchItem(104)
    movie.uploadPoster(filepath=io.BytesIO(first)).uploadPoster(filepath=io.BytesIO(second))
    posters = movie.posters()
    assert [p.selected for p in posters] == [False, True]
    movie.setPoster(posters[0])
    assert requests.get(movie.reload().thumbUrl, timeout=5).content == first


# ---- match, refresh, scan ----------------------------------------------------------------
def test_match_unmatch_and_refresh(plex_sim: PlexSim, plex_server: Any) -> None:
    movie = plex_server.fetchItem(201)
    guid = "tv.plex.agents.custom.stash2plex://movie/scene-1234"
    result = movie._manuallyLoadXML(f'<SearchResult guid="{guid}" name="Sunset Session" year="2024"/>', SearchResult)
    movie.fixMatch(result)
    movie.reload()
    assert movie.guid == guid
    assert movie.title == "Sunset Session"
    assert plex_sim.writes.last().query == {"guid": guid, "name": "Sunset Session"}

    movie.refresh()
    assert plex_sim.writes.last().path == "/library/metadata/201/refresh"
    movie.unmatch()
    assert movie.reload().guid == "local://201"


def test_section_update_with_a_path_picks_up_new_files(plex_sim: PlexSim, plex_server: Any) -> None:
    movies = plex_server.library.section("Movies")
    plex_sim.library.stage_file(1, "/media/movies/New Studio/Fresh Arrival (2025).mp4")
    plex_sim.library.stage_file(1, "/mnt/archive/movies/Elsewhere (1999).mp4")

    movies.update(path="/media/movies/New Studio")
    scan = plex_sim.writes.last()
    assert (scan.method, scan.path, scan.query) == (
        "GET",
        "/library/sections/1/refresh",
        {"path": "/media/movies/New Studio"},
    )
    titles = [m.title for m in movies.all()]
    assert "Fresh Arrival (2025)" in titles
    assert "Elsewhere (1999)" not in titles

    movies.update()
    assert "Elsewhere (1999)" in [m.title for m in movies.all()]


# ---- paging ------------------------------------------------------------------------------
def test_paging_a_250_item_section_returns_every_item_once(plex_sim_factory: PlexSimFactory) -> None:
    sim = plex_sim_factory(make_library(250, seed=7))
    plex = sim.plexapi()
    movies = plex.library.section("Movies")
    assert movies.totalViewSize() == 250
    sim.reads.clear()

    everything = movies.all(container_size=100)
    keys = [m.ratingKey for m in everything]
    assert len(keys) == 250
    assert len(set(keys)) == 250
    assert sim.reads.count(r"^/library/sections/1/all$") == 3
    titles = [m.titleSort.casefold() for m in everything]
    assert titles == sorted(titles)

    page = requests.get(
        f"{sim.url}/library/sections/1/all",
        params={"X-Plex-Container-Start": 240, "X-Plex-Container-Size": 50, "X-Plex-Token": sim.token},
        timeout=5,
    )
    assert 'size="10"' in page.text
    assert 'totalSize="250"' in page.text
    assert 'offset="240"' in page.text


# ---- faults ------------------------------------------------------------------------------
def test_injected_401_raises_unauthorized_once(plex_sim: PlexSim, plex_server: Any) -> None:
    plex_sim.faults.unauthorized(count=1)
    with pytest.raises(Unauthorized):
        plex_server.fetchItem(101)
    assert plex_server.fetchItem(101).title == "The Quiet Harbor"


def test_404_raises_not_found(plex_sim: PlexSim, plex_server: Any) -> None:
    with pytest.raises(NotFound):
        plex_server.fetchItem(999_999)
    plex_sim.faults.not_found(path=r"^/library/metadata/101$")
    with pytest.raises(NotFound):
        plex_server.fetchItem(101)
    assert plex_server.fetchItem(102).title == "Neon Orchard"


def test_429_carries_retry_after(plex_sim: PlexSim, plex_server: Any) -> None:
    plex_sim.faults.rate_limited(retry_after=7, count=2)
    raw = requests.get(f"{plex_sim.url}/library/sections", headers={"X-Plex-Token": plex_sim.token}, timeout=5)
    assert raw.status_code == 429
    assert raw.headers["Retry-After"] == "7"
    with pytest.raises(BadRequest, match=r"\(429\) too_many_requests"):
        plex_server.fetchItem(101)
    assert plex_server.fetchItem(101).ratingKey == 101


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_surface_as_bad_request(plex_sim: PlexSim, plex_server: Any, status: int) -> None:
    plex_sim.faults.server_error(status, methods="PUT", count=1)
    movie = plex_server.fetchItem(101)
    with pytest.raises(BadRequest, match=rf"\({status}\)"):
        movie.editTitle("Never Written")
    assert len(plex_sim.writes) == 0  # the failed write never reached "Plex"
    assert movie.reload().title == "The Quiet Harbor"


def test_outage_refuses_connections_until_restored(plex_sim: PlexSim, plex_server: Any) -> None:
    plex_sim.faults.outage()
    with pytest.raises(requests.exceptions.ConnectionError):
        plex_server.fetchItem(101)
    plex_sim.faults.restore()
    assert plex_server.fetchItem(101).title == "The Quiet Harbor"

    plex_sim.faults.outage(seconds=0.3)
    with pytest.raises(requests.exceptions.ConnectionError):
        plex_server.fetchItem(101)
    _eventually(lambda: _answers(plex_sim.url))  # back by itself
    assert plex_server.fetchItem(101).ratingKey == 101


def test_latency_is_measurable_and_limited_to_a_path(plex_sim: PlexSim, plex_server: Any) -> None:
    plex_sim.faults.latency(0.4, path=r"^/library/metadata/101$", count=1)
    started = time.monotonic()
    plex_server.fetchItem(101)
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    plex_server.fetchItem(101)
    plex_server.fetchItem(102)
    assert time.monotonic() - started < 0.4


def test_flapping_fails_every_other_request(plex_sim: PlexSim, plex_server: Any) -> None:
    plex_sim.faults.flapping(503, every=2, path=r"^/library/metadata/")
    outcomes = []
    for _ in range(4):
        try:
            plex_server.fetchItem(101)
            outcomes.append("ok")
        except BadRequest:
            outcomes.append("503")
    assert outcomes == ["503", "ok", "503", "ok"]
    assert plex_server.library.section("Movies").totalViewSize() == 4  # other paths unaffected


def test_random_flapping_is_reproducible_with_a_seed(plex_sim_factory: PlexSimFactory) -> None:
    def pattern() -> list[int]:
        sim = plex_sim_factory()
        sim.faults.flapping(500, probability=0.5, seed=42)
        url, headers = f"{sim.url}/identity", {"X-Plex-Token": sim.token}
        return [requests.get(url, headers=headers, timeout=5).status_code for _ in range(12)]

    first = pattern()
    assert first == pattern()
    assert set(first) == {200, 500}


def test_faults_switch_over_the_control_endpoint(plex_sim: PlexSim) -> None:
    url, token = plex_sim.url, {"X-Plex-Token": plex_sim.token}
    added = requests.post(f"{url}/__sim/faults", json={"kind": "status", "status": 503, "count": 1}, timeout=5)
    assert added.status_code == 201
    assert requests.get(f"{url}/library/sections", headers=token, timeout=5).status_code == 503
    assert requests.get(f"{url}/library/sections", headers=token, timeout=5).status_code == 200

    requests.post(f"{url}/__sim/faults", json={"kind": "outage", "seconds": 0.5}, timeout=5)
    _eventually(lambda: not _answers(url))
    _eventually(lambda: _answers(url))
    assert requests.get(f"{url}/__sim/faults", timeout=5).json()["outage"] is False


# ---- process mode --------------------------------------------------------------------------
def test_runs_as_a_process_and_answers_identity() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.sims.plex", "--port", str(port), "--generate", "5"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url == f"http://127.0.0.1:{port}"
        identity = requests.get(f"{url}/identity", timeout=5)
        assert identity.status_code == 200
        assert "machineIdentifier=" in identity.text
        plex = connect_plexapi(url, DEFAULT_TOKEN)
        assert len(plex.library.section("Movies").all()) == 5
    finally:
        proc.terminate()
        proc.wait(timeout=10)
