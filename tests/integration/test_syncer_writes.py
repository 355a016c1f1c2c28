"""What a sync job writes to Plex, shown against both simulators through the real plexapi.

Each test runs the job path the syncer runs (``SceneSync.run``: Stash read, sync record in NATS
KV, matching, diff, writes) with settings built for the case, and asserts on what the Plex
simulator recorded and now holds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from nats.js import JetStreamContext
from nats.js.errors import NoKeysError

from stash2plex.common.contracts import SyncJob, SyncReason
from stash2plex.common.settings import NatsSettings
from stash2plex.common.stash.client import StashClient
from stash2plex.common.topology import SYNC_RECORDS_BUCKET, ensure_topology
from stash2plex.syncer.errors import ConfigurationProblem, ItemNotInPlex, SceneGone
from stash2plex.syncer.settings import SyncerSettings
from stash2plex.syncer.sync_record import SyncRecords
from stash2plex.syncer.sync_scene import SceneSync
from stash2plex.syncer.writer import AmbiguousMatch, CoverPending, PlexWriter
from tests.sims.plex.journal import WriteRecord
from tests.sims.plex.model import Library, TagValue
from tests.sims.plex.sim import PlexSim, PlexSimFactory
from tests.sims.stash.fixtures import SIM_API_KEY, StashSimFactory
from tests.sims.stash.images import jpeg
from tests.sims.stash.model import SimScene, SimSceneGroup
from tests.sims.stash.server import StashSim
from tests.sims.stash.store import StashData

PAST = datetime(2024, 1, 1, tzinfo=UTC)
SECTION = "Stash Scenes"


class Rig:
    """A Stash simulator, a Plex simulator and the job path between them."""

    def __init__(self, stash: StashSim, plex: PlexSim, js: JetStreamContext) -> None:
        self.stash, self.plex, self.js = stash, plex, js
        self.executor = ThreadPoolExecutor(max_workers=4)
        self.client: StashClient | None = None
        self.writer: PlexWriter | None = None
        self.overrides: dict[str, Any] = {}

    @property
    def data(self) -> StashData:
        return self.stash.data

    @property
    def library(self) -> Library:
        return self.plex.library

    def configure(self, **overrides: Any) -> None:
        """Settings for the next syncs (a fresh writer, as after a restart with new settings)."""
        self.overrides, self.writer = overrides, None

    def settings(self) -> SyncerSettings:
        syncer = {key: value for key, value in self.overrides.items() if key != "paths"}
        return SyncerSettings(
            stash={"url": self.stash.url, "api_key": SIM_API_KEY},
            plex={"url": self.plex.url, "token": self.plex.token},
            paths={"rules": self.overrides.get("paths", [])},
            syncer={"index_refresh_min_s": 0, **syncer},
        )

    async def sync(self, scene_id: int, *, hook: str | None = None, reason: SyncReason = SyncReason.HOOK) -> int:
        settings = self.settings()
        if self.writer is None:
            self.writer = PlexWriter(settings)
        if self.client is None:
            self.client = await StashClient(settings.stash).__aenter__()
        records = SyncRecords(await self.js.key_value(SYNC_RECORDS_BUCKET))
        job = SyncJob(scene_id=str(scene_id), reason=reason, hook=hook)
        scene_sync = SceneSync(self.writer, self.client, records, self.executor, settings.syncer.write)
        return await scene_sync.run(job)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.__aexit__(None, None, None)
        self.executor.shutdown(wait=True)

    # -- building libraries ----------------------------------------------------------------
    def scene(self, path: str, **fields: Any) -> SimScene:
        fields.setdefault("created_at", PAST)
        return self.data.add_scene(paths=[path], **fields)

    def item(self, path: str, title: str = "placeholder", section: str = SECTION, **fields: Any) -> int:
        sid = self.library.section_by_title(section).id
        return int(self.library.add_item(sid, title, files=[path], **fields).rating_key)

    def puts(self) -> list[WriteRecord]:
        return self.plex.writes.matching("PUT", r"/library/sections/\d+/all")

    def uploads(self) -> list[WriteRecord]:
        return self.plex.writes.matching("POST", r"/library/metadata/\d+/(posters|arts)")


@pytest.fixture
async def rig(
    stash_sim_factory: StashSimFactory, plex_sim_factory: PlexSimFactory, js: JetStreamContext
) -> AsyncIterator[Rig]:
    library = Library()
    library.add_section(SECTION, locations=["/media"])
    library.add_section("Other Movies", locations=["/media"])
    setup = Rig(stash_sim_factory(StashData()), plex_sim_factory(library), js)
    await forget_records(js)  # scene ids start at 1 in every test: no record may carry over
    try:
        yield setup
    finally:
        await setup.close()


async def forget_records(js: JetStreamContext) -> None:
    await ensure_topology(js, NatsSettings())
    kv = await js.key_value(SYNC_RECORDS_BUCKET)
    try:
        keys = await kv.keys()
    except NoKeysError:
        return
    for key in keys:
        await kv.purge(key)


def unique_path(name: str) -> str:
    return f"/media/{datetime.now(UTC).timestamp():.6f}/{name}"


def full_scene(rig: Rig, path: str, **fields: Any) -> SimScene:
    studio = rig.data.add_studio("Harbor & Pike 🎬")
    ada = rig.data.add_performer("Ada Łowicka")
    bo = rig.data.add_performer("Bo", has_image=False)
    tags = [rig.data.add_tag(f"Tag {i:03d} · 東京") for i in range(300)]
    group = rig.data.add_group("Series Ⅱ — Night")
    values: dict[str, Any] = {
        "title": "Résumé " + "長" * 600,
        "details": "First line\nSecond line\x07",
        "code": "HP-001",
        "date": "2023-05-17",
        "rating100": 85,
        "studio_id": studio.id,
        "performer_ids": [ada.id, bo.id],
        "tag_ids": [t.id for t in tags],
        "groups": [SimSceneGroup(group.id, 1)],
    }
    values.update(fields)
    return rig.scene(path, **values)


# -- every field ---------------------------------------------------------------------------------
async def test_every_field_lands_in_plex_exactly_as_mapped(rig: Rig) -> None:
    path = unique_path("full.mp4")
    scene = full_scene(rig, path)
    rk = rig.item(path)

    assert await rig.sync(scene.id) == 1

    item = rig.library.get(rk)
    title = "Résumé " + "長" * 248  # capped at 255 characters
    assert item.title == title
    assert item.title_sort == title
    assert item.summary == "First line\nSecond line"
    assert item.tagline == "HP-001"
    assert (item.originally_available_at, item.year) == ("2023-05-17", 2023)
    assert item.studio == "Harbor & Pike 🎬"
    assert item.user_rating == 8.5
    assert item.tag_names("genre") == [f"Tag {i:03d} · 東京" for i in range(100)]
    actors = item.tag_list("actor")
    assert [a.tag for a in actors] == ["Ada Łowicka", "Bo"]
    assert actors[0].thumb is not None
    assert actors[0].thumb.startswith(rig.stash.url + "/performer/")
    assert actors[1].thumb is None  # Stash's placeholder image is not a photo
    assert sorted(item.tag_names("collection")) == ["Harbor & Pike 🎬", "Series Ⅱ — Night"]
    assert {"title", "titleSort", "summary", "tagline", "originallyAvailableAt", "year", "studio"} <= item.locks
    assert {"genre", "actor", "collection", "thumb", "art"} <= item.locks
    cover = jpeg("scene", scene.id, 0)
    assert rig.library.selected_asset(rk, "thumb").data == cover  # type: ignore[union-attr]
    assert rig.library.selected_asset(rk, "art").data == cover  # type: ignore[union-attr]

    (edit,) = rig.puts()
    assert edit.query["title.value"] == title
    assert edit.query["genre[99].tag.tag"] == "Tag 099 · 東京"
    assert "genre[100].tag.tag" not in edit.query
    assert len(rig.uploads()) == 2
    assert len(rig.plex.writes.matching("PUT", r"^/:/rate$")) == 1


TOGGLED = {
    "title": ["title.value", "titleSort.value"],
    "summary": ["summary.value"],
    "tagline": ["tagline.value"],
    "date": ["originallyAvailableAt.value", "year.value"],
    "studio": ["studio.value"],
    "tags": ["genre[0].tag.tag"],
    "performers": ["actor[0].tag.tag"],
    "collections": ["collection[0].tag.tag"],
}


@pytest.mark.parametrize("toggle", [*TOGGLED, "rating", "poster", "background", "enabled"])
async def test_each_toggle_keeps_its_field_out_of_plex(rig: Rig, toggle: str) -> None:
    path = unique_path("toggle.mp4")
    scene = full_scene(rig, path)
    rk = rig.item(path, summary="kept by Plex")
    rig.configure(fields={toggle: False})

    await rig.sync(scene.id)

    sent = {key for record in rig.puts() for key in record.query}
    if toggle == "enabled":
        assert rig.plex.writes.all() == []
        return
    for key in TOGGLED.get(toggle, []):
        assert key not in sent
    for other, keys in TOGGLED.items():
        if other != toggle:
            assert set(keys) <= sent
    rated = rig.plex.writes.matching("PUT", r"^/:/rate$")
    assert bool(rated) == (toggle != "rating")
    elements = {record.path.rsplit("/", 1)[-1] for record in rig.uploads()}
    expected = (
        {"posters", "arts"} - {"posters" if toggle == "poster" else ""} - {"arts" if toggle == "background" else ""}
    )
    assert elements == expected
    if toggle == "summary":
        assert rig.library.get(rk).summary == "kept by Plex"


# -- emptied fields and preserve_plex_edits ------------------------------------------------------
async def test_an_emptied_stash_field_empties_plex_and_a_never_set_one_leaves_plex_alone(rig: Rig) -> None:
    path = unique_path("emptied.mp4")
    tag = rig.data.add_tag("Drama")
    scene = rig.scene(path, title="T", details="Details from Stash", tag_ids=[tag.id], rating100=60)
    rk = rig.item(path, tagline="Plex's own tagline")
    await rig.sync(scene.id)
    assert rig.library.get(rk).summary == "Details from Stash"

    rig.data.update_scene(scene.id, details=None, rating100=None)
    rig.plex.writes.clear()
    await rig.sync(scene.id)

    item = rig.library.get(rk)
    assert item.summary is None
    assert item.user_rating is None
    assert item.tagline == "Plex's own tagline"  # Stash never had a code: not Stash2Plex's to clear
    (edit,) = rig.puts()
    assert edit.query["summary.value"] == ""
    assert "tagline.value" not in edit.query


async def test_preserve_plex_edits_fills_empty_fields_and_keeps_edited_ones(rig: Rig) -> None:
    path = unique_path("preserve.mp4")
    studio = rig.data.add_studio("Acme")
    scene = rig.scene(path, title="From Stash", details="Stash details", studio_id=studio.id)
    rk = rig.item(path, title="Edited in Plex", summary="Plex summary")
    rig.configure(write={"preserve_plex_edits": True})

    await rig.sync(scene.id)

    item = rig.library.get(rk)
    assert (item.title, item.summary) == ("Edited in Plex", "Plex summary")
    assert item.studio == "Acme"  # empty in Plex: filled
    assert "title.value" not in rig.puts()[0].query


# -- matching ------------------------------------------------------------------------------------
async def test_same_basename_in_two_folders_path_mapping_picks_the_right_one(rig: Rig) -> None:
    stamp = f"{datetime.now(UTC).timestamp():.6f}"
    scene = rig.scene(f"/data/{stamp}/b/clip.mp4", title="Mapped")
    wrong = rig.item(f"/media/{stamp}/a/clip.mp4")
    right = rig.item(f"/media/{stamp}/b/clip.mp4")
    rig.configure(paths=[{"stash": "^/data/", "plex": "/media/"}])

    await rig.sync(scene.id)

    assert rig.library.get(right).title == "Mapped"
    assert rig.library.get(wrong).title == "placeholder"


async def test_same_basename_without_mapping_is_reported_ambiguous_and_nothing_is_written(rig: Rig) -> None:
    stamp = f"{datetime.now(UTC).timestamp():.6f}"
    scene = rig.scene(f"/data/{stamp}/b/clip.mp4", title="Unmapped")
    first = rig.item(f"/media/{stamp}/a/clip.mp4")
    second = rig.item(f"/media/{stamp}/b/clip.mp4")

    with pytest.raises(AmbiguousMatch, match=r"2 Plex items share the scene's basename") as caught:
        await rig.sync(scene.id)

    assert str(first) in str(caught.value)
    assert str(second) in str(caught.value)
    assert rig.plex.writes.all() == []
    assert isinstance(caught.value, ItemNotInPlex)  # retried over the not-found window, then dead-lettered


async def test_one_scene_in_two_libraries_updates_both_items(rig: Rig) -> None:
    path = unique_path("both.mp4")
    scene = rig.scene(path, title="Everywhere")
    keys = [rig.item(path), rig.item(path, section="Other Movies")]

    assert await rig.sync(scene.id) == 2

    assert [rig.library.get(rk).title for rk in keys] == ["Everywhere", "Everywhere"]


async def test_only_the_configured_library_is_searched_and_a_wrong_name_stops_the_flow(rig: Rig) -> None:
    path = unique_path("one.mp4")
    scene = rig.scene(path, title="Only here")
    keys = [rig.item(path), rig.item(path, section="Other Movies")]
    rig.configure(match={"libraries": ["other movies"]})
    await rig.sync(scene.id)
    assert [rig.library.get(rk).title for rk in keys] == ["placeholder", "Only here"]

    rig.configure(match={"libraries": ["Nope"]})
    rig.data.update_scene(scene.id, title="Changed")
    with pytest.raises(ConfigurationProblem, match="no library named 'Nope'"):
        await rig.sync(scene.id)


async def test_a_file_plex_has_not_scanned_is_not_found(rig: Rig) -> None:
    scene = rig.scene(unique_path("later.mp4"), title="Later")
    with pytest.raises(ItemNotInPlex, match="no Plex item"):
        await rig.sync(scene.id)


# -- idempotence ---------------------------------------------------------------------------------
async def test_an_unchanged_resync_asks_plex_nothing_and_one_tag_is_one_edit(rig: Rig) -> None:
    path = unique_path("twice.mp4")
    scene = full_scene(rig, path)
    rig.item(path)
    await rig.sync(scene.id)
    rig.plex.writes.clear()
    rig.plex.reads.clear()

    assert await rig.sync(scene.id) == 0
    assert rig.plex.writes.all() == []
    assert rig.plex.reads.total == 0

    rig.data.update_scene(scene.id, tag_ids=[*rig.data.scenes[scene.id].tag_ids[:99], rig.data.add_tag("Fresh").id])
    assert await rig.sync(scene.id) == 1
    (edit,) = rig.plex.writes.all()
    assert edit.method == "PUT"
    assert edit.query["genre[99].tag.tag"] == "Fresh"
    assert rig.uploads() == []  # the cover's URL changed with the edit, its bytes did not


async def test_a_new_writer_trusts_the_record_and_a_changed_cover_is_one_upload(rig: Rig) -> None:
    path = unique_path("cover.mp4")
    scene = rig.scene(path, title="Cover")
    rk = rig.item(path)
    rig.configure(fields={"background": False})
    await rig.sync(scene.id)
    rig.configure(fields={"background": False})  # a restart: no index yet
    rig.plex.writes.clear()
    rig.plex.reads.clear()
    assert await rig.sync(scene.id) == 0
    assert rig.plex.reads.total == 0

    rig.data.update_scene(scene.id, image_version=1)
    await rig.sync(scene.id)
    assert [w.path for w in rig.plex.writes.all()] == [f"/library/metadata/{rk}/posters"]
    assert rig.library.selected_asset(rk, "thumb").data == jpeg("scene", scene.id, 1)  # type: ignore[union-attr]


# -- safety --------------------------------------------------------------------------------------
async def test_the_metadata_gate_stops_a_half_identified_scene_from_blanking_a_tagged_item(rig: Rig) -> None:
    path = unique_path("gate.mp4")
    scene = rig.scene(path, title=None)  # just scanned: no studio, performers, tags, details or date
    rk = rig.item(
        path,
        title="Well Known",
        studio="Acme",
        summary="A good summary",
        tags={"genre": ["Drama"], "actor": [TagValue("Ada")]},
    )

    assert await rig.sync(scene.id) == 0

    assert rig.plex.writes.all() == []
    item = rig.library.get(rk)
    assert (item.title, item.studio, item.summary) == ("Well Known", "Acme", "A good summary")
    assert item.tag_names("genre") == ["Drama"]


async def test_a_failed_upload_keeps_the_fields_and_the_retry_redoes_only_the_upload(rig: Rig) -> None:
    path = unique_path("partial.mp4")
    scene = full_scene(rig, path)
    rk = rig.item(path)
    rig.plex.faults.server_error(500, path=r"/posters$", methods="POST", count=1)

    with pytest.raises(Exception, match="500"):
        await rig.sync(scene.id)
    assert rig.library.get(rk).title.startswith("Résumé")
    assert len(rig.puts()) == 1

    rig.plex.writes.clear()
    assert await rig.sync(scene.id) == 1
    assert [w.path for w in rig.plex.writes.all()] == [f"/library/metadata/{rk}/posters"]
    assert rig.library.selected_asset(rk, "thumb") is not None


async def test_a_new_scenes_cover_waits_for_stash_then_only_the_cover_is_uploaded(rig: Rig) -> None:
    path = unique_path("fresh.mp4")
    scene = rig.scene(path, title="Fresh", created_at=datetime.now(UTC))
    rk = rig.item(path)

    with pytest.raises(CoverPending, match="cover"):
        await rig.sync(scene.id, hook="Scene.Create.Post")
    assert rig.library.get(rk).title == "Fresh"
    assert rig.uploads() == []

    rig.configure(write={"screenshot_wait_s": 0})  # time has passed
    rig.plex.writes.clear()
    await rig.sync(scene.id)
    assert sorted(w.path for w in rig.plex.writes.all()) == [
        f"/library/metadata/{rk}/arts",
        f"/library/metadata/{rk}/posters",
    ]


async def test_a_new_scene_asks_plex_to_scan_its_folder_then_syncs_when_the_item_appears(rig: Rig) -> None:
    stamp = f"{datetime.now(UTC).timestamp():.6f}"
    scene = rig.scene(f"/data/{stamp}/new.mp4", title="Brand New")
    section = rig.library.section_by_title(SECTION)
    rig.library.stage_file(section.id, f"/media/{stamp}/new.mp4")
    rig.configure(paths=[{"stash": "^/data/", "plex": "/media/"}], match={"libraries": [SECTION]})

    with pytest.raises(ItemNotInPlex):
        await rig.sync(scene.id, hook="Scene.Create.Post")
    (scan,) = rig.plex.writes.matching("GET", r"/refresh$")
    assert scan.query["path"] == f"/media/{stamp}"
    assert scan.path == f"/library/sections/{section.id}/refresh"

    assert await rig.sync(scene.id, hook="Scene.Create.Post") == 1  # the scan added the item
    assert len(rig.plex.writes.matching("GET", r"/refresh$")) == 1  # asked once
    (added,) = [i for i in rig.library.materialized(section.id) if i.files == [f"/media/{stamp}/new.mp4"]]
    assert added.title == "Brand New"


async def test_a_destroyed_scene_leaves_plex_alone_unless_unlocking_is_asked_for(rig: Rig) -> None:
    keys = []
    for name in ("kept.mp4", "unlocked.mp4"):
        path = unique_path(name)
        scene = rig.scene(path, title=name, details="d")
        rk = rig.item(path)
        await rig.sync(scene.id)
        keys.append((scene.id, rk))
    for scene_id, _ in keys:
        rig.data.remove_scene(scene_id)

    rig.plex.writes.clear()
    with pytest.raises(SceneGone):
        await rig.sync(keys[0][0], reason=SyncReason.DESTROY)
    assert rig.plex.writes.all() == []
    assert "title" in rig.library.get(keys[0][1]).locks

    rig.configure(write={"unlock_on_destroy": True})
    with pytest.raises(SceneGone):
        await rig.sync(keys[1][0], reason=SyncReason.DESTROY)
    item = rig.library.get(keys[1][1])
    assert item.title == "unlocked.mp4"  # left in place
    assert not {"title", "summary", "thumb"} & item.locks
