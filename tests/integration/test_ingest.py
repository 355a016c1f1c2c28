"""Ingest and the Stash plugin's forwarder, as Stash would drive them, against the real broker."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from nats.js import JetStreamContext

from stash2plex.common.contracts import DeadLetter, ErrorClass, SyncJob, SyncReason, utcnow
from stash2plex.common.topology import DLQ_STREAM, SYNC_STREAM
from tests.harness.broker import Broker
from tests.harness.net import free_port
from tests.harness.plugin import InstalledPlugin, new_event_id
from tests.harness.services import ServiceProcess

TOKEN = "ingest-test-token-0123"


@pytest.fixture
def ingest(broker: Broker, tmp_path: Path, js: JetStreamContext) -> Iterator[ServiceProcess]:
    env = {
        "STASH2PLEX_NATS__URL": broker.url,
        "STASH2PLEX_DATA_DIR": str(tmp_path / "data"),
        "STASH2PLEX_INGEST__TOKEN": TOKEN,
        "STASH2PLEX_STASH__URL": "",
    }
    with ServiceProcess("ingest", env, tmp_path) as service:
        service.wait_ready(check="nats")
        yield service


def ingest_on(port: int, broker: Broker, tmp_path: Path) -> ServiceProcess:
    """Ingest on a port chosen before it started (where the plugin was already pointed)."""
    env = {"STASH2PLEX_NATS__URL": broker.url, "STASH2PLEX_INGEST__TOKEN": TOKEN, "STASH2PLEX_DATA_DIR": str(tmp_path)}
    service = ServiceProcess("ingest", env, tmp_path)
    service.port = port
    service.env["STASH2PLEX_INGEST__PORT"] = str(port)
    return service


def hook(client: httpx.Client, url: str, body: dict[str, Any], token: str = TOKEN) -> httpx.Response:
    return client.post(url + "/v1/hooks/stash", json=body, headers={"Authorization": f"Bearer {token}"})


async def sync_jobs(js: JetStreamContext) -> list[SyncJob]:
    info = await js.stream_info(SYNC_STREAM)
    jobs: list[SyncJob] = []
    if not info.state.messages:
        return jobs
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            raw = await js.get_msg(SYNC_STREAM, seq)
        except nats.js.errors.NotFoundError:
            continue
        jobs.append(SyncJob.from_bytes(raw.data or b""))
    return jobs


async def test_forwarder_run_as_stash_runs_it_gets_the_event_into_sync(
    ingest: ServiceProcess, js: JetStreamContext, tmp_path: Path
) -> None:
    plugin = InstalledPlugin(tmp_path / "plugin", ingest.url, TOKEN)
    run = plugin.run_hook("Scene.Update.Post", 45)
    assert run.code == 0
    assert run.output == {"output": "queued", "error": None}
    jobs = await sync_jobs(js)
    assert [(j.scene_id, j.hook) for j in jobs] == [("45", "Scene.Update.Post")]
    assert plugin.spooled() == []


async def test_with_ingest_down_events_spool_and_are_delivered_once_in_order(
    broker: Broker, js: JetStreamContext, tmp_path: Path
) -> None:
    port = free_port()
    plugin = InstalledPlugin(tmp_path / "plugin", f"http://127.0.0.1:{port}", TOKEN)
    for scene in (1, 2, 3):
        run = plugin.run_hook("Scene.Update.Post", scene)
        assert run.code == 0
        assert run.output["output"] == "spooled"
    assert [e["id"] for e in plugin.spooled()] == ["1", "2", "3"]

    with ingest_on(port, broker, tmp_path) as service:
        service.wait_ready(check="nats")
        run = plugin.run_hook("Scene.Update.Post", 4)
        assert run.output["output"] == "queued"
        assert "replayed 3 spooled event(s)" in run.log
        again = plugin.run_hook("Scene.Update.Post", 5)
        assert "replayed" not in again.log
    jobs = await sync_jobs(js)
    assert [j.scene_id for j in jobs] == ["1", "2", "3", "4", "5"]
    assert plugin.spooled() == []


async def test_concurrent_hook_processes_lose_and_duplicate_nothing(
    broker: Broker, js: JetStreamContext, tmp_path: Path
) -> None:
    port = free_port()
    plugin = InstalledPlugin(tmp_path / "plugin", f"http://127.0.0.1:{port}", TOKEN)
    processes = [plugin.start_hook("Scene.Update.Post", scene) for scene in range(100, 112)]
    for process in processes:
        assert process.wait(30) == 0
    assert sorted(int(e["id"]) for e in plugin.spooled()) == list(range(100, 112))

    with ingest_on(port, broker, tmp_path) as service:
        service.wait_ready(check="nats")
        processes = [plugin.start_hook("Scene.Update.Post", scene) for scene in range(200, 206)]
        for process in processes:
            assert process.wait(30) == 0
    jobs = await sync_jobs(js)
    scene_ids = sorted(int(j.scene_id) for j in jobs)
    assert scene_ids == [*range(100, 112), *range(200, 206)]
    info = await js.stream_info(SYNC_STREAM)
    assert info.state.messages == 18
    assert plugin.spooled() == []


async def test_a_thousand_hooks_for_ten_scenes_leave_at_most_ten_jobs(
    ingest: ServiceProcess, js: JetStreamContext
) -> None:
    async with httpx.AsyncClient(base_url=ingest.url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        bodies = [{"event_id": new_event_id(), "type": "Scene.Update.Post", "id": n % 10} for n in range(1000)]
        for start in range(0, 1000, 50):
            answers = await asyncio.gather(
                *(client.post("/v1/hooks/stash", json=b) for b in bodies[start : start + 50])
            )
            assert {a.status_code for a in answers} == {202}
        replay = await client.post("/v1/hooks/stash", json=bodies[-1])
    info = await js.stream_info(SYNC_STREAM)
    assert info.state.messages <= 10
    assert replay.status_code == 202
    assert replay.json()["outcome"] == "duplicate"
    metrics = httpx.get(ingest.url + "/metrics").text
    assert 'stash2plex_ingest_hooks_total{hook="Scene.Update.Post",outcome="queued"} 1000.0' in metrics
    assert 'stash2plex_ingest_hooks_total{hook="Scene.Update.Post",outcome="duplicate"} 1.0' in metrics


async def test_bad_token_gets_401_and_publishes_nothing(ingest: ServiceProcess, js: JetStreamContext) -> None:
    body = {"event_id": new_event_id(), "type": "Scene.Update.Post", "id": 1}
    with httpx.Client() as client:
        wrong = hook(client, ingest.url, body, token="wrong-token")
        missing = client.post(ingest.url + "/v1/hooks/stash", json=body)
        status = client.get(ingest.url + "/v1/status")
    assert wrong.status_code == missing.status_code == status.status_code == 401
    assert "Ingest token" in wrong.json()["detail"]
    assert (await js.stream_info(SYNC_STREAM)).state.messages == 0


async def test_malformed_bodies_get_422_naming_the_field(ingest: ServiceProcess, js: JetStreamContext) -> None:
    with httpx.Client() as client:
        no_id = hook(client, ingest.url, {"event_id": new_event_id(), "type": "Scene.Update.Post"})
        bad_type = hook(client, ingest.url, {"event_id": new_event_id(), "type": "Scene.Saved", "id": 1})
        not_json = client.post(
            ingest.url + "/v1/hooks/stash", content=b"{not json", headers={"Authorization": f"Bearer {TOKEN}"}
        )
    assert no_id.status_code == 422
    assert "id" in no_id.json()["detail"]
    assert bad_type.status_code == 422
    assert bad_type.json()["errors"][0]["field"] == "type"
    assert not_json.status_code == 422
    assert (await js.stream_info(SYNC_STREAM)).state.messages == 0


async def test_a_five_megabyte_cover_image_never_reaches_the_broker(
    ingest: ServiceProcess, js: JetStreamContext
) -> None:
    cover = "data:image/jpeg;base64," + "Q" * 5_000_000
    body = {
        "event_id": new_event_id(), "type": "Scene.Update.Post", "id": 8, "inputFields": ["cover_image"],
        "input": {"id": "8", "cover_image": cover},
    }  # fmt: skip
    with httpx.Client(timeout=30) as client:
        answer = hook(client, ingest.url, body)
    assert answer.status_code == 202
    raw = await js.get_last_msg(SYNC_STREAM, "s2p.sync.scene.8")
    assert len(raw.data or b"") < 1000


def test_without_a_token_ingest_refuses_to_start(tmp_path: Path, broker: Broker) -> None:
    service = ServiceProcess("ingest", {"STASH2PLEX_NATS__URL": broker.url, "STASH2PLEX_INGEST__TOKEN": ""}, tmp_path)
    service.start(wait=False)
    assert service.process is not None
    assert service.process.wait(30) == 2
    assert "STASH2PLEX_INGEST__TOKEN" in service.log()
    assert "ALLOW_OPEN" in service.log()


def test_with_nats_unreachable_ingest_answers_503_quickly(tmp_path: Path) -> None:
    env = {"STASH2PLEX_NATS__URL": f"nats://127.0.0.1:{free_port()}", "STASH2PLEX_INGEST__TOKEN": TOKEN}
    with ServiceProcess("ingest", env, tmp_path) as service, httpx.Client() as client:
        started = time.perf_counter()
        answer = hook(client, service.url, {"event_id": new_event_id(), "type": "Scene.Update.Post", "id": 1})
        elapsed = time.perf_counter() - started
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert elapsed < 1.0


async def test_status_task_reports_queue_and_dlq(ingest: ServiceProcess, js: JetStreamContext, tmp_path: Path) -> None:
    for scene in ("1", "2"):
        job = SyncJob(scene_id=scene, reason=SyncReason.MANUAL)
        await js.publish(job.subject, job.to_bytes())
    now = utcnow()
    for scene, error_class in (("7", ErrorClass.TRANSIENT), ("8", ErrorClass.NOT_FOUND), ("9", ErrorClass.TRANSIENT)):
        letter = DeadLetter(
            job=SyncJob(scene_id=scene, reason=SyncReason.HOOK), error_class=error_class, error="boom", attempts=5,
            first_failure_at=now, last_failure_at=now,
        )  # fmt: skip
        await js.publish(letter.subject, letter.to_bytes())

    plugin = InstalledPlugin(tmp_path / "plugin", ingest.url, TOKEN)
    status = plugin.run_task("status")
    assert status.code == 0
    report = json.loads(status.output["output"])
    assert report["queue_depth"] == 2
    assert report["dlq_size"] == 3
    assert report["dlq_by_error_class"] == {"transient": 2, "not_found": 1}
    assert report["circuit"] == "closed"
    assert "queue_depth" in status.log  # the answer shows in Stash's log

    retried = plugin.run_task("dlq-retry", error_class="transient")
    assert json.loads(retried.output["output"]) == {"requeued": 2}
    assert (await js.stream_info(SYNC_STREAM)).state.messages == 4
    purged = plugin.run_task("dlq-purge")
    assert json.loads(purged.output["output"]) == {"purged": 1}
    assert (await js.stream_info(DLQ_STREAM)).state.messages == 0

    unknown = plugin.run_task("dlq-retry", error_class="sometimes")
    assert unknown.output["error"] == "dlq-retry failed (422)"
    reconcile = plugin.run_task("reconcile", scope="24h")
    assert "reconciler service is not running" in reconcile.log


def test_health_task_asks_every_service(ingest: ServiceProcess) -> None:
    answer = httpx.post(ingest.url + "/v1/tasks/health", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    report = answer.json()
    assert answer.status_code == 200
    assert report["healthy"] is False
    assert report["services"]["ingest"]["service"] == "ingest"
    assert report["services"]["syncer"]["error"] == "the syncer service is not running"


async def test_a_deleted_stream_gets_503_and_is_recreated(ingest: ServiceProcess, js: JetStreamContext) -> None:
    await js.delete_stream(SYNC_STREAM)
    body = {"event_id": new_event_id(), "type": "Scene.Update.Post", "id": 3}
    with httpx.Client() as client:
        lost = hook(client, ingest.url, body)
        assert lost.status_code == 503
        assert "no stream" in lost.json()["detail"]
        deadline = time.monotonic() + 10
        while (answer := hook(client, ingest.url, body)).status_code != 202:
            assert time.monotonic() < deadline, answer.text
            await asyncio.sleep(0.1)
    assert answer.json()["outcome"] == "queued"  # the plugin's retry of the same event is not lost
    assert (await js.stream_info(SYNC_STREAM)).state.messages == 1


def test_the_hook_route_is_documented_in_openapi(ingest: ServiceProcess) -> None:
    spec = httpx.get(ingest.url + "/openapi.json").json()
    operation = spec["paths"]["/v1/hooks/stash"]["post"]
    assert set(operation["responses"]) >= {"202", "401", "422", "503"}
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert {"event_id", "type"} <= set(schema["required"])


async def test_status_shows_the_last_outage_with_mtbf_and_mttr(ingest: ServiceProcess, js: JetStreamContext) -> None:
    from datetime import timedelta

    from stash2plex.common.outages import OutageHistory
    from stash2plex.common.topology import CIRCUIT_KEY, OUTAGES_KEY, STATE_BUCKET

    start = utcnow() - timedelta(hours=5)
    history = (
        OutageHistory(outages=[])
        .start(start, "cannot reach Plex")
        .end(start + timedelta(minutes=10), jobs_held=40)
        .start(start + timedelta(hours=2, minutes=10), "Plex answered 503")
        .end(start + timedelta(hours=2, minutes=40), jobs_held=900)
    )
    state = await js.key_value(STATE_BUCKET)
    await state.put(OUTAGES_KEY, history.model_dump_json().encode())
    await state.put(CIRCUIT_KEY, b'{"state": "half_open", "reason": "probe succeeded"}')
    answer = httpx.get(ingest.url + "/v1/status", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert answer["circuit"] == "half_open"
    assert answer["outages"] == 2
    assert answer["last_outage"]["jobs_held"] == 900
    assert answer["last_outage"]["duration_s"] == 30 * 60
    assert answer["mttr_s"] == 20 * 60
    assert answer["mtbf_s"] == 2 * 3600
