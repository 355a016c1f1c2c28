"""The syncer service writing full metadata, as a real process behind the real broker."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from nats.js import JetStreamContext

from stash2plex.common import dlq
from stash2plex.common.contracts import ErrorClass
from stash2plex.syncer.mapping import multi_line, one_line
from tests.harness.broker import Broker
from tests.harness.library import paired_libraries
from tests.harness.syncer import is_, pending, queue_jobs, start_syncer, wait_until
from tests.sims.plex.sim import PlexSimFactory
from tests.sims.stash.fixtures import StashSimFactory
from tests.sims.stash.images import jpeg

AMBIGUOUS_SCENE = 9001
EVERYTHING_ON = {
    "STASH2PLEX_SYNCER__FIELDS__POSTER": "true",
    "STASH2PLEX_SYNCER__FIELDS__BACKGROUND": "true",
    "STASH2PLEX_SYNCER__FIELDS__RATING": "true",
    "STASH2PLEX_SYNCER__RETRY_NOT_FOUND_WINDOW_S": "2",
}


async def test_covers_reach_plex_and_an_ambiguous_scene_is_dead_lettered_untouched(
    broker: Broker,
    js: JetStreamContext,
    tmp_path: Path,
    stash_sim_factory: StashSimFactory,
    plex_sim_factory: PlexSimFactory,
) -> None:
    started = datetime.now(UTC)
    libraries = paired_libraries(stash_sim_factory, plex_sim_factory, scenes=4, seed=11)
    library = libraries.plex.library
    stash = libraries.stash.data
    stash.add_scene(
        id=AMBIGUOUS_SCENE, paths=["/data/incoming/twin.mp4"], title="Twin", created_at=started.replace(year=2024)
    )
    twins = [
        int(library.add_item(libraries.section_id, "twin", files=[f"/archive/{folder}/twin.mp4"]).rating_key)
        for folder in ("a", "b")
    ]
    syncer = start_syncer(broker, libraries, tmp_path, **EVERYTHING_ON)
    try:
        syncer.wait_ready(check="circuit")
        scenes = sorted(libraries.rating_keys)
        await queue_jobs(js, [*scenes, AMBIGUOUS_SCENE])
        await wait_until(lambda: is_(pending(js), 0), within_s=60)

        for scene_id, rk in libraries.rating_keys.items():  # titles capped, text cleaned: as mapped
            scene, item = stash.scenes[scene_id], library.get(rk)
            assert item.title == one_line(scene.title)
            assert (item.summary or "") == multi_line(scene.details)
        for scene_id, rk in libraries.rating_keys.items():
            asset = library.selected_asset(rk, "thumb")
            assert asset is not None
            assert asset.data == jpeg("scene", scene_id, 0)
        assert [library.get(rk).title for rk in twins] == ["twin", "twin"]
        letters = [
            entry.letter
            async for entry in dlq.entries(js)
            if entry.letter.job.scene_id == str(AMBIGUOUS_SCENE) and entry.letter.first_failure_at >= started
        ]
        assert len(letters) == 1
        assert letters[0].error_class is ErrorClass.NOT_FOUND
        assert "ambiguous" in letters[0].error
        assert all(f"{rk} (/archive/" in letters[0].error for rk in twins)
    finally:
        syncer.stop()
