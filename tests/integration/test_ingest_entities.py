"""A performer, studio, tag or group change reaches every scene it touches, off the request path."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from nats.js import JetStreamContext

from stash2plex.common.contracts import SyncJob, SyncReason
from stash2plex.common.topology import ENTITY_STREAM, SYNC_STREAM
from tests.harness.broker import Broker
from tests.harness.plugin import new_event_id
from tests.harness.services import ServiceProcess
from tests.integration.test_ingest import sync_jobs
from tests.sims.stash.fixtures import StashSimFactory
from tests.sims.stash.server import StashSim

TOKEN = "entity-test-token-0123"


def ingest_env(broker: Broker, tmp_path: Path, stash: StashSim | None) -> dict[str, str]:
    env = {
        "STASH2PLEX_NATS__URL": broker.url,
        "STASH2PLEX_INGEST__TOKEN": TOKEN,
        "STASH2PLEX_DATA_DIR": str(tmp_path),
        "STASH2PLEX_INGEST__ENTITY_PAGE_SIZE": "3",
        "STASH2PLEX_INGEST__ENTITY_RETRY_DELAY_S": "1",  # several pages even in a small library
        "STASH2PLEX_STASH__URL": stash.url if stash else "",
    }
    if stash is not None:
        env["STASH2PLEX_STASH__API_KEY"] = stash.api_key or ""
    return env


@pytest.fixture
def library(stash_sim_factory: StashSimFactory) -> StashSim:
    return stash_sim_factory(scenes=60, seed=7)


@pytest.fixture
def ingest(broker: Broker, tmp_path: Path, js: JetStreamContext, library: StashSim) -> Iterator[ServiceProcess]:
    with ServiceProcess("ingest", ingest_env(broker, tmp_path, library), tmp_path) as service:
        service.wait_ready(check="nats")
        yield service


async def wait_for_jobs(js: JetStreamContext, count: int, within_s: float = 20) -> list[SyncJob]:
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        jobs = await sync_jobs(js)
        if len(jobs) >= count or asyncio.get_running_loop().time() > deadline:
            return jobs
        await asyncio.sleep(0.1)


def post_hook(url: str, hook_type: str, object_id: int) -> httpx.Response:
    body = {"event_id": new_event_id(), "type": hook_type, "id": object_id}
    return httpx.post(url + "/v1/hooks/stash", json=body, headers={"Authorization": f"Bearer {TOKEN}"})


async def test_a_performer_rename_queues_every_scene_that_has_them(
    ingest: ServiceProcess, js: JetStreamContext, library: StashSim
) -> None:
    counts: dict[int, int] = {}
    for scene in library.data.scenes.values():
        for performer in scene.performer_ids:
            counts[performer] = counts.get(performer, 0) + 1
    performer = max(counts, key=lambda p: counts[p])
    expected = sorted(str(s.id) for s in library.data.scenes.values() if performer in s.performer_ids)
    assert len(expected) > 3, "the test wants more than one page"

    started = asyncio.get_running_loop().time()
    answer = post_hook(ingest.url, "Performer.Update.Post", performer)
    assert answer.status_code == 202
    assert answer.json()["stream"] == ENTITY_STREAM
    assert asyncio.get_running_loop().time() - started < 0.5  # Stash is not kept waiting for the fan-out

    jobs = await wait_for_jobs(js, len(expected))
    assert sorted(j.scene_id for j in jobs) == expected
    assert {j.reason for j in jobs} == {SyncReason.ENTITY}
    assert (await js.stream_info(ENTITY_STREAM)).state.messages == 0  # acknowledged once done


async def test_sync_all_queues_the_whole_library(
    ingest: ServiceProcess, js: JetStreamContext, library: StashSim
) -> None:
    answer = httpx.post(
        ingest.url + "/v1/tasks/sync", json={"scope": "all"}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert answer.status_code == 200
    jobs = await wait_for_jobs(js, len(library.data.scenes))
    assert sorted(int(j.scene_id) for j in jobs) == sorted(library.data.scenes)
    assert (await js.stream_info(SYNC_STREAM)).state.messages == len(library.data.scenes)


async def test_a_change_waits_while_stash_is_down_and_completes_when_it_is_back(
    ingest: ServiceProcess, js: JetStreamContext, library: StashSim
) -> None:
    tag = next(t for s in library.data.scenes.values() for t in s.tag_ids)
    expected = sorted(str(s.id) for s in library.data.scenes.values() if tag in s.tag_ids)
    library.stop()
    assert post_hook(ingest.url, "Tag.Update.Post", tag).status_code == 202
    await asyncio.sleep(1.0)
    assert await sync_jobs(js) == []
    assert (await js.stream_info(ENTITY_STREAM)).state.messages == 1  # kept, not lost
    library.start()
    jobs = await wait_for_jobs(js, len(expected), within_s=20)
    assert sorted(j.scene_id for j in jobs) == expected


async def test_a_setting_changed_in_stashs_ui_takes_effect_without_a_restart(
    broker: Broker, tmp_path: Path, js: JetStreamContext, library: StashSim
) -> None:
    env = ingest_env(broker, tmp_path, library) | {"STASH2PLEX_INGEST__UI_SETTINGS_TTL_S": "0.2"}

    def recent_sync_says() -> str:
        answer = httpx.post(
            service.url + "/v1/tasks/sync", json={"scope": "recent"}, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert answer.status_code == 200, answer.text
        queued: str = answer.json()["queued"]
        return queued

    with ServiceProcess("ingest", env, tmp_path) as service:
        service.wait_ready(check="nats")
        assert recent_sync_says().endswith("last 24 h")  # nothing set in Stash: the environment's default
        library.data.set_plugin_settings("Stash2Plex", {"recentHours": 6})
        await asyncio.sleep(0.3)
        assert recent_sync_says().endswith("last 6 h")
        library.data.set_plugin_settings("Stash2Plex", {"recentHours": -1})
        await asyncio.sleep(0.3)
        assert recent_sync_says().endswith("last 24 h")
    assert "ignoring the Stash plugin setting recentHours=-1" in service.log()
