"""The real StashClient against the Stash simulator over HTTP.

Each test is something a user would notice: a scene found or missed, a retry that
rides out a busy Stash, a revoked key that stops instead of hammering Stash.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from PIL import Image
from pydantic import AnyHttpUrl, SecretStr

from stash2plex.common.settings import StashSettings
from stash2plex.common.stash import (
    RetryPolicy,
    StashAuthError,
    StashClient,
    StashQueryError,
    StashUnavailable,
)
from stash2plex.common.stash.client import _CompareScenesAnswer
from stash2plex.common.stash.models import Scene
from tests.harness.net import free_port
from tests.sims.stash import StashData, StashSim, make_scenes
from tests.sims.stash.fixtures import SIM_API_KEY, StashSimFactory
from tests.sims.stash.model import SimSceneGroup

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
FAST = RetryPolicy(attempts=3, initial_wait_s=0.01, max_wait_s=0.05, budget_s=5)


def settings_for(sim: StashSim, *, api_key: str | None = SIM_API_KEY, timeout_s: float = 2.0) -> StashSettings:
    return StashSettings(url=AnyHttpUrl(sim.url), api_key=SecretStr(api_key) if api_key else None, timeout_s=timeout_s)


def client(sim: StashSim, retry: RetryPolicy = FAST, **kwargs: object) -> StashClient:
    return StashClient(settings_for(sim, **kwargs), retry=retry)  # type: ignore[arg-type]


# -- every method round-trips -------------------------------------------------------------------


async def test_scene_fields_round_trip(stash_sim: StashSim) -> None:
    data = stash_sim.data
    heavy = next(s for s in data.scenes.values() if len(s.tag_ids) == 300)
    studio = data.add_studio("Label 東京", parent_id=data.add_studio("Network Ω").id)
    performer = data.add_performer("Zoë Ålvarez 🌸", disambiguation="II", gender="FEMALE")
    group = data.add_group("Series Ⅱ")
    title = "夏の思い出 — " + "é" * 480 + " 🔥"
    data.update_scene(
        heavy.id, title=title, studio_id=studio.id, performer_ids=[performer.id], rating100=87, date="2024-02-29",
        groups=[SimSceneGroup(group.id, 3)],
    )  # fmt: skip

    async with client(stash_sim) as stash:
        scene = await stash.find_scene(heavy.id)

    assert scene is not None
    assert scene.title == title
    assert scene.rating100 == 87
    assert scene.date == "2024-02-29"
    assert len(scene.tags) == 300
    assert scene.studio is not None
    assert scene.studio.name == "Label 東京"
    assert scene.studio.parent_studio is not None
    assert scene.studio.parent_studio.name == "Network Ω"
    assert [(p.name, p.disambiguation, p.gender) for p in scene.performers] == [("Zoë Ålvarez 🌸", "II", "FEMALE")]
    assert [(g.group.name, g.scene_index) for g in scene.groups] == [("Series Ⅱ", 3)]
    primary = scene.files[0]
    sim_file = heavy.files[0]
    assert primary.path == data.file_path(sim_file)
    assert primary.parent_folder is not None
    assert primary.parent_folder.path == sim_file.folder
    assert primary.oshash == sim_file.fingerprints["oshash"]
    assert primary.md5 == sim_file.fingerprints["md5"]
    # Stash's local-time timestamps, and a screenshot URL that changes with every update.
    assert scene.updated_at.utcoffset() == data.tz.utcoffset(None)
    assert (
        scene.paths.screenshot == f"{stash_sim.url}/scene/{heavy.id}/screenshot?t={int(scene.updated_at.timestamp())}"
    )


async def test_lookups_version_hash_plugins(stash_sim: StashSim) -> None:
    data = stash_sim.data
    scene = data.scenes[3]
    data.set_plugin_settings("Stash2Plex", {"ingestUrl": "http://ingest:8080", "enabled": True})

    async with client(stash_sim) as stash:
        version = await stash.version()
        by_oshash = await stash.find_scene_by_hash(oshash=scene.files[0].fingerprints["oshash"])
        by_md5 = await stash.find_scene_by_hash(checksum=scene.files[0].fingerprints["md5"])
        missing = await stash.find_scene(99_999)
        unknown_hash = await stash.find_scene_by_hash(oshash="0000000000000000")
        settings = await stash.plugin_settings("Stash2Plex")
        nothing = await stash.plugin_settings("NotInstalled")

    assert version.version == "v0.30.1"
    assert by_oshash is not None
    assert by_oshash.id == "3"
    assert by_md5 is not None
    assert by_md5.id == "3"
    assert missing is None
    assert unknown_hash is None
    assert settings == {"ingestUrl": "http://ingest:8080", "enabled": True}
    assert nothing == {}
    assert stash_sim.requests.operations() == [
        "Version", "FindSceneByHash", "FindSceneByHash", "FindScene", "FindSceneByHash",
        "PluginConfiguration", "PluginConfiguration",
    ]  # fmt: skip


def test_generated_library_is_reproducible_and_awkward() -> None:
    first, second = make_scenes(200, seed=4), make_scenes(200, seed=4)
    assert first.to_json() == second.to_json()
    assert first.to_json() != make_scenes(200, seed=5).to_json()
    scenes = list(first.scenes.values())
    titles = [s.title for s in scenes]
    assert None in titles
    assert any(t and len(t) == 500 for t in titles)
    assert any(t and "第" in t for t in titles)
    assert any(t and "🔥" in t for t in titles)
    assert any(len(s.tag_ids) == 300 for s in scenes)
    assert any(len(s.files) == 2 for s in scenes)
    basenames = [f.basename for s in scenes for f in s.files]
    assert len(basenames) > len(set(basenames))  # the same file name in several folders
    assert any(s.parent_id is not None for s in first.studios.values())


async def test_seed_json_file_serves_the_same_library(tmp_path: Path, stash_sim_factory: StashSimFactory) -> None:
    original = make_scenes(15, seed=9, path_style="windows")
    seed_file = tmp_path / "stash.json"
    seed_file.write_text(json.dumps(original.to_json(), ensure_ascii=False), encoding="utf-8")
    sim = stash_sim_factory(StashData.from_json_file(seed_file))
    expected = original.scenes[6]
    path = original.file_path(expected.files[0])
    assert "\\" in path

    async with client(sim) as stash:
        # Stash folds ASCII letters only; the studio folder may be "Éclair Noir" or "東京 Night".
        found = await stash.find_scenes_by_path("".join(c.lower() if c.isascii() else c for c in path))
        exact = await stash.find_scenes_by_path(path, exact=True)

    assert [s.id for s in found] == ["6"]
    assert [s.id for s in exact] == ["6"]
    assert exact[0].title == expected.title
    assert exact[0].files[0].path == path
    assert exact[0].updated_at == expected.updated_at


# -- authentication -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["wrong-key", None], ids=["wrong key", "no key"])
async def test_bad_key_is_an_auth_error_and_never_retried(stash_sim: StashSim, key: str | None) -> None:
    async with client(stash_sim, api_key=key) as stash:
        with pytest.raises(StashAuthError) as raised:
            await stash.version()
    assert len(stash_sim.requests.graphql()) == 1
    assert stash_sim.requests.graphql()[0].status == 401
    assert SIM_API_KEY not in str(raised.value)


async def test_key_is_refused_even_when_stash_has_no_auth(stash_sim_factory: StashSimFactory) -> None:
    sim = stash_sim_factory(StashData(), api_key=None)
    async with client(sim, api_key=None) as stash:
        assert (await stash.version()).version == "v0.30.1"
    async with client(sim, api_key="stale-key") as stash:
        with pytest.raises(StashAuthError):
            await stash.version()


# -- faults -------------------------------------------------------------------------------------


async def test_down_is_unavailable_after_bounded_retries_then_recovers(
    stash_sim: StashSim, caplog: pytest.LogCaptureFixture
) -> None:
    async with client(stash_sim) as stash:
        await stash.version()
        stash_sim.stop()
        with (
            caplog.at_level(logging.WARNING, logger="stash2plex.common.stash.retry"),
            pytest.raises(StashUnavailable),
        ):
            await stash.version()
        assert len([r for r in caplog.records if "retrying" in r.getMessage()]) == FAST.attempts - 1
        stash_sim.start()
        assert (await stash.version()).version == "v0.30.1"


async def test_slow_stash_beyond_the_timeout_is_unavailable(stash_sim: StashSim) -> None:
    stash_sim.faults.slow(5)
    started = time.monotonic()
    async with client(
        stash_sim, retry=RetryPolicy(attempts=2, initial_wait_s=0.01, max_wait_s=0.01), timeout_s=0.3
    ) as stash:
        with pytest.raises(StashUnavailable):
            await stash.find_scene(1)
    assert time.monotonic() - started < 3
    assert len(stash_sim.requests.graphql("FindScene")) == 2


async def test_locked_database_twice_is_ridden_out(stash_sim: StashSim) -> None:
    stash_sim.faults.lock_database(times=2)
    async with client(stash_sim) as stash:
        scene = await stash.find_scene(1)
    assert scene is not None
    assert scene.id == "1"
    attempts = stash_sim.requests.graphql("FindScene")
    assert [r.fault for r in attempts] == ["db_locked", "db_locked", None]


async def test_locked_database_for_good_is_unavailable(stash_sim: StashSim) -> None:
    stash_sim.faults.lock_database()
    async with client(stash_sim) as stash:
        with pytest.raises(StashUnavailable, match="database is locked"):
            await stash.find_scenes_page(1, 10)
    assert len(stash_sim.requests.graphql("FindScenes")) == FAST.attempts


async def test_many_scenes_by_id_in_one_request(stash_sim: StashSim) -> None:
    async with client(stash_sim) as stash:
        single = await stash.find_scene(5)
        before = len(stash_sim.requests.graphql())
        scenes = await stash.find_scenes_by_ids(["7", "5", "99999", "2"])
        assert await stash.find_scenes_by_ids([]) == {}
    assert len(stash_sim.requests.graphql()) == before + 1  # one request for all four, none for no ids
    assert list(scenes) == ["7", "5", "99999", "2"]  # the order asked for, every id answered
    assert scenes["99999"] is None
    assert scenes["5"] == single
    assert {s.id for s in scenes.values() if s is not None} == {"7", "5", "2"}


async def test_proxy_502_is_retried(stash_sim: StashSim) -> None:
    stash_sim.faults.fail_with_status(502, times=1)
    async with client(stash_sim) as stash:
        assert (await stash.version()).version == "v0.30.1"
    assert [r.status for r in stash_sim.requests.graphql()] == [502, 200]


async def test_query_errors_are_not_retried(stash_sim: StashSim) -> None:
    async with client(stash_sim) as stash:
        with pytest.raises(StashQueryError, match=r"strconv\.Atoi"):
            await stash.find_scene("not-a-number")
    assert len(stash_sim.requests.graphql()) == 1


def test_invalid_query_fails_validation_like_stash(stash_sim: StashSim) -> None:
    query = "query Bad { findScene(id: 1) { id stash_ids { scheme } } }"
    response = httpx.post(stash_sim.graphql_url, json={"query": query}, headers={"ApiKey": SIM_API_KEY})
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert 'Cannot query field "scheme" on type "StashID"' in error["message"]


def test_control_endpoint_takes_the_listener_down_and_back(stash_sim: StashSim) -> None:
    httpx.post(stash_sim.url + "/__sim/faults", json={"down_for_s": 0.5}).raise_for_status()
    deadline = time.monotonic() + 2
    while stash_sim.running and time.monotonic() < deadline:
        time.sleep(0.02)
    with pytest.raises(httpx.ConnectError):
        httpx.get(stash_sim.url + "/__sim/faults")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            assert httpx.get(stash_sim.url + "/__sim/faults").status_code == 200
            break
        except httpx.ConnectError:
            time.sleep(0.05)
    else:
        pytest.fail("the simulator did not come back")


# -- finding scenes -------------------------------------------------------------------------------


async def test_paging_250_scenes_returns_every_id_once(stash_sim_factory: StashSimFactory) -> None:
    sim = stash_sim_factory(scenes=250, seed=7)
    seen: list[str] = []
    async with client(sim) as stash:
        page_number = 1
        while True:
            page = await stash.find_scenes_page(page_number, 60)
            assert page.count == 250
            seen.extend(s.id for s in page.scenes)
            if not page.has_next:
                break
            page_number += 1
    assert len(seen) == 250
    assert set(seen) == {str(i) for i in sim.data.scenes}
    assert page_number == 5


@pytest.fixture
def path_sim(stash_sim_factory: StashSimFactory) -> StashSim:
    data = StashData()
    for path in [
        "/lib/Summer Beach.mp4",
        "/lib/beach summer.mp4",
        "/lib/winter cabin.mp4",
        "/lib/a_b.mp4",
        "/lib/aXb.mp4",
        "/lib/Éclair.mp4",
    ]:
        data.add_scene(title=path, paths=[path])
    return stash_sim_factory(data)


async def test_path_equals_is_case_insensitive_and_exact_confirms(path_sim: StashSim) -> None:
    async with client(path_sim) as stash:
        loose = await stash.find_scenes_by_path("/LIB/summer beach.MP4")
        strict = await stash.find_scenes_by_path("/LIB/summer beach.MP4", exact=True)
        exact = await stash.find_scenes_by_path("/lib/Summer Beach.mp4", exact=True)
        wildcard = await stash.find_scenes_by_path("/lib/a_b.mp4")
        wildcard_exact = await stash.find_scenes_by_path("/lib/a_b.mp4", exact=True)
        accented = await stash.find_scenes_by_path("/lib/éclair.mp4")

    assert [s.title for s in loose] == ["/lib/Summer Beach.mp4"]
    assert strict == []
    assert [s.title for s in exact] == ["/lib/Summer Beach.mp4"]
    assert sorted(s.title or "" for s in wildcard) == ["/lib/aXb.mp4", "/lib/a_b.mp4"]
    assert [s.title for s in wildcard_exact] == ["/lib/a_b.mp4"]
    assert accented == []  # only ASCII letters fold


async def test_path_includes_matches_any_word_unless_quoted(path_sim: StashSim) -> None:
    async with client(path_sim) as stash:
        words = await stash.search_scenes_by_path("summer cabin", phrase=False)
        phrase = await stash.search_scenes_by_path("summer beach")
        swapped = await stash.search_scenes_by_path("beach summer")
    assert sorted(s.title or "" for s in words.scenes) == [
        "/lib/Summer Beach.mp4", "/lib/beach summer.mp4", "/lib/winter cabin.mp4",
    ]  # fmt: skip
    assert [s.title for s in phrase.scenes] == ["/lib/Summer Beach.mp4"]
    assert [s.title for s in swapped.scenes] == ["/lib/beach summer.mp4"]
    assert path_sim.requests.graphql("SearchScenesByPath")[1].variables["value"] == '"summer beach"'


@pytest.mark.parametrize("offset_h", [-5, 0, 9])
async def test_updated_since_never_misses_a_change_whatever_the_servers_zone(
    stash_sim_factory: StashSimFactory, offset_h: int
) -> None:
    sim = stash_sim_factory(make_scenes(30, seed=2, tz=timezone(timedelta(hours=offset_h))))
    moment = datetime.now(UTC)
    sim.data.update_scene(4, title="edited")
    sim.data.update_scene(17, details="edited too")
    sim.data.update_scene(12, title="edited an hour before", updated_at=moment - timedelta(hours=1))
    sim.data.update_scene(9, title="edited hours before", updated_at=moment - timedelta(hours=6))

    async with client(sim) as stash:
        page = await stash.find_scenes_page(1, 100, updated_since=moment)
        again = await stash.find_scenes_page(1, 100, updated_since=moment)

    # Every change after the moment, plus (by design) what changed shortly before it; never the old ones.
    assert sorted(s.id for s in page.scenes) == ["12", "17", "4"]
    assert page.count == 3
    assert sorted(s.id for s in page.scenes if s.changed_since(moment)) == ["17", "4"]
    assert page.scenes[0].id == "12"  # sorted by updated_at: the early one comes first
    assert again == page
    # The server's zone is learned once, from Stash's own newest timestamp.
    assert sim.requests.operations() == ["ServerOffset", "FindScenes", "FindScenes"]


async def test_updated_since_on_an_empty_library_still_works(stash_sim_factory: StashSimFactory) -> None:
    sim = stash_sim_factory(StashData())
    async with client(sim) as stash:
        page = await stash.find_scenes_page(1, 10, updated_since=datetime.now(UTC))
    assert page.count == 0
    assert page.scenes == ()
    assert not page.has_next


async def test_scene_ids_for_an_entity_page_through_every_scene(stash_sim_factory: StashSimFactory) -> None:
    sim = stash_sim_factory(scenes=120, seed=5)
    data = sim.data
    performer_id = max(data.performers, key=lambda p: sum(p in s.performer_ids for s in data.scenes.values()))
    expected = {str(s.id) for s in data.scenes.values() if performer_id in s.performer_ids}
    updated_before = {s.id: s.updated_at for s in data.scenes.values()}
    data.update_entity(data.performers, performer_id, name="Renamed Performer")
    assert {s.id: s.updated_at for s in data.scenes.values()} == updated_before  # a rename does not touch scenes

    network = next(s for s in data.studios.values() if s.parent_id is None and any(
        c.parent_id == s.id for c in data.studios.values()
    ))  # fmt: skip
    family = data.descendants("studio", [network.id], -1)
    studio_expected = {str(s.id) for s in data.scenes.values() if s.studio_id in family}
    heavy_tag = data.scenes[7].tag_ids[0]
    tag_expected = {str(s.id) for s in data.scenes.values() if heavy_tag in s.tag_ids}

    async with client(sim) as stash:
        pages = [p async for p in stash.scene_ids_for_entity("performer", performer_id, per_page=3)]
        studio_ids = {i async for p in stash.scene_ids_for_entity("studio", network.id) for i in p.ids}
        tag_ids = {i async for p in stash.scene_ids_for_entity("tag", heavy_tag) for i in p.ids}
        renamed = await stash.find_scene(next(iter(expected)))

    ids = [i for p in pages for i in p.ids]
    assert len(pages) == -(-len(expected) // 3)
    assert len(pages) > 1
    assert sorted(ids) == sorted(expected)
    assert len(ids) == len(set(ids))
    assert studio_ids == studio_expected
    assert len(studio_expected) > 0
    assert tag_ids == tag_expected
    assert renamed is not None
    assert "Renamed Performer" in [p.name for p in renamed.performers]


# -- images -----------------------------------------------------------------------------------------


async def test_images_are_real_jpegs_behind_the_api_key(stash_sim: StashSim) -> None:
    async with client(stash_sim) as stash:
        scene = await stash.find_scene(2)
        assert scene is not None
        assert scene.paths.screenshot is not None
        screenshot = await stash.fetch_image(scene.paths.screenshot)
        performer_id = next(iter(stash_sim.data.performers))
        portrait = await stash.fetch_image(f"{stash_sim.url}/performer/{performer_id}/image")
        # A URL built for another host name still goes to the configured Stash, key and all.
        rerooted = await stash.fetch_image("http://stash.invalid:9999/scene/2/screenshot?t=1")
        # A key inside a URL is dropped (it would end up in HTTP logs); the header authenticates.
        with_key = await stash.fetch_image(scene.paths.screenshot + "&apikey=not-the-key")

    with Image.open(io.BytesIO(screenshot)) as image:
        assert image.format == "JPEG"
        assert image.width * 9 == image.height * 16
    with Image.open(io.BytesIO(portrait)) as image:
        assert image.format == "JPEG"
        assert image.width * 3 == image.height * 2
    assert rerooted == screenshot
    assert with_key == screenshot
    async with httpx.AsyncClient() as anonymous:
        assert (await anonymous.get(scene.paths.screenshot)).status_code == 401


async def test_missing_image_is_a_query_error(stash_sim: StashSim) -> None:
    async with client(stash_sim) as stash:
        with pytest.raises(StashQueryError, match="404"):
            await stash.fetch_image(f"{stash_sim.url}/scene/99999/screenshot")


# -- process mode -------------------------------------------------------------------------------------


@pytest.fixture
def sim_process() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.sims.stash", "--port", str(port), "--generate", "5", "--api-key", "proc-key"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("stash sim listening on http://"), line
        yield line.rsplit(" ", 1)[1].strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_process_mode_answers_version(sim_process: str) -> None:
    settings = StashSettings(url=AnyHttpUrl(sim_process), api_key=SecretStr("proc-key"), timeout_s=5)
    async with StashClient(settings, retry=FAST) as stash:
        assert (await stash.version()).version == "v0.30.1"
        page = await stash.find_scenes_page(1, 10)
    assert page.count == 5


# -- a reconciliation page, read straight from the answer's bytes -------------------------------


async def test_a_compare_page_read_from_its_bytes_equals_the_page_read_through_dicts(stash_sim: StashSim) -> None:
    async with client(stash_sim) as stash:
        page = await stash.compare_scenes_page(2, 7)
        data = (await stash._execute("CompareScenes", {"page": 2, "per_page": 7}))["findScenes"]
    assert page.count == data["count"] == len(stash_sim.data.scenes)
    assert page.scenes == tuple(Scene.model_validate(s) for s in data["scenes"])
    assert [s.id for s in page.scenes] == [str(i) for i in sorted(stash_sim.data.scenes)[7:14]]


async def test_a_compare_page_fails_as_every_other_request_fails(stash_sim: StashSim) -> None:
    stash_sim.faults.fail_with_status(502, times=1)
    stash_sim.faults.lock_database(times=1)
    async with client(stash_sim) as stash:
        assert len((await stash.compare_scenes_page(1, 5)).scenes) == 5  # both ridden out
        assert [r.status for r in stash_sim.requests.graphql("CompareScenes")] == [502, 200, 200]
        stash_sim.faults.lock_database()
        with pytest.raises(StashUnavailable, match="database is locked"):
            await stash.compare_scenes_page(1, 5)
        stash_sim.faults.reset()
        with pytest.raises(StashQueryError, match="per_page"):  # Stash's 422: not retried
            await stash._execute_as("CompareScenes", {"page": 1, "per_page": "five"}, _CompareScenesAnswer)
        stash_sim.stop()
        with pytest.raises(StashUnavailable, match="unreachable"):
            await stash.compare_scenes_page(1, 5)
    stash_sim.start()
    async with client(stash_sim, api_key="wrong") as stash:
        with pytest.raises(StashAuthError):
            await stash.compare_scenes_page(1, 5)
