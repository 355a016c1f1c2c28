"""Beyond one machine: a 3-node NATS cluster on loopback with every stream and bucket replicated
three times, two syncer replicas and the other services. Edits keep arriving while the node that
leads the SYNC stream is SIGKILLed; every edit Stash sent still reaches Plex, none is
dead-lettered, and jobs keep being processed after the failure."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import nats
import pytest

from stash2plex.common.topology import DLQ_STREAM, STATE_BUCKET, SYNC_STREAM
from tests.harness.cluster import NatsCluster
from tests.harness.library import Libraries, paired_libraries
from tests.harness.services import ServiceProcess, connected_env
from tests.harness.syncer import FAST, ONE_EDIT_PER_SCENE
from tests.sims.plex.sim import PlexSimFactory
from tests.sims.stash.fixtures import StashSimFactory

SCENES = 60
TOKEN = "cluster-test-token"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    running = NatsCluster(tmp_path / "nats").start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def libraries(stash_sim_factory: StashSimFactory, plex_sim_factory: PlexSimFactory) -> Libraries:
    return paired_libraries(stash_sim_factory, plex_sim_factory, scenes=SCENES)


def cluster_env(cluster: NatsCluster, libraries: Libraries, tmp_path: Path) -> dict[str, str]:
    return connected_env(
        cluster.urls, tmp_path / "data", libraries.stash, libraries.plex,
        STASH2PLEX_NATS__REPLICAS="3", STASH2PLEX_PLEX__TIMEOUT_S="2", STASH2PLEX_INGEST__TOKEN=TOKEN,
        **FAST, **ONE_EDIT_PER_SCENE,
    )  # fmt: skip


class Editor:
    """Stash's side: rename a scene and hook it to ingest, retrying a refused hook with the same
    event id, as the plugin's spool does. Every hook counts once ingest answered 202."""

    def __init__(self, libraries: Libraries, ingest: ServiceProcess) -> None:
        self.libraries, self.ingest = libraries, ingest
        self.accepted: list[int] = []
        self.refusals = 0

    def edit(self, scene: int) -> None:
        self.libraries.stash.data.scenes[scene].title = f"Edited in the cluster test {scene}"
        hook = {"event_id": f"cluster-edit-{scene:04d}", "type": "Scene.Update.Post", "id": str(scene)}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                answer = httpx.post(
                    self.ingest.url + "/v1/hooks/stash", json=hook, headers={"Authorization": f"Bearer {TOKEN}"},
                    timeout=5,
                )  # fmt: skip
            except httpx.HTTPError:
                answer = None
            if answer is not None and answer.status_code == 202:
                self.accepted.append(scene)
                return
            self.refusals += 1
            time.sleep(0.2)
        raise AssertionError(f"ingest never took the edit of scene {scene}")

    def edit_all(self, scenes: list[int], pause_s: float) -> None:
        for scene in scenes:
            self.edit(scene)
            time.sleep(pause_s)


async def sync_stream_leader(cluster: NatsCluster) -> str:
    nc = await nats.connect(cluster.live_urls(), allow_reconnect=False, connect_timeout=2)
    try:
        info = await nc.jetstream(timeout=5).stream_info(SYNC_STREAM)
    finally:
        await nc.close()
    assert info.config.num_replicas == 3
    assert info.cluster is not None
    assert info.cluster.leader is not None
    return info.cluster.leader


async def after_the_failure(cluster: NatsCluster) -> tuple[int, int, int, int]:
    """DLQ size, SYNC size, SYNC replicas still current, state bucket replicas (from a survivor)."""
    nc = await nats.connect(cluster.live_urls(), allow_reconnect=False, connect_timeout=2)
    try:
        js = nc.jetstream(timeout=10)
        dlq = await js.stream_info(DLQ_STREAM)
        sync = await js.stream_info(SYNC_STREAM)
        state = await js.stream_info(f"KV_{STATE_BUCKET}")
    finally:
        await nc.close()
    assert sync.cluster is not None
    current = 1 + sum(1 for replica in sync.cluster.replicas or [] if replica.current)
    return dlq.state.messages, sync.state.messages, current, state.config.num_replicas or 1


def test_a_node_killed_mid_run_loses_no_job_and_processing_goes_on(
    cluster: NatsCluster, libraries: Libraries, tmp_path: Path
) -> None:
    env = cluster_env(cluster, libraries, tmp_path)
    services = [
        ServiceProcess(name, env, tmp_path) for name in ("ingest", "syncer", "syncer", "reconciler", "provider")
    ]
    for number, service in enumerate(services):
        service.log_path = tmp_path / f"{service.name}-{number}.log"
        service.start(wait=False)
    try:
        for service in services:
            service.wait_healthy(30)
            report = service.wait_ready(30, check="nats")
            assert any(c["name"] == "nats" and c["ok"] for c in report.get("checks", [])), service.log()
        ingest, syncers = services[0], services[1:3]
        editor = Editor(libraries, ingest)
        scenes = sorted(libraries.rating_keys)
        editor.edit_all(scenes[:10], pause_s=0.0)
        leader = asyncio.run(sync_stream_leader(cluster))
        sender = threading.Thread(target=editor.edit_all, args=(scenes[10:], 0.03), daemon=True)
        sender.start()
        time.sleep(0.5)  # mid-run: edits in flight, jobs being synced
        cluster.kill(leader)
        killed_at = time.monotonic()
        accepted_at_kill = len(editor.accepted)
        in_step_at_kill = len(libraries.in_step())
        sender.join(90)
        assert not sender.is_alive(), "the edits did not all get in"
        assert sorted(editor.accepted) == scenes

        deadline = time.monotonic() + 90
        while set(libraries.in_step()) != set(scenes):
            assert time.monotonic() < deadline, (
                f"{len(scenes) - len(libraries.in_step())} edit(s) never reached Plex\n"
                + "\n".join(s.log()[-1500:] for s in syncers)
                + cluster.logs()
            )
            time.sleep(0.2)
        recovered_in = time.monotonic() - killed_at
        print(
            f"killed {leader}; {accepted_at_kill} edits in and {in_step_at_kill} in step then; "
            f"{editor.refusals} refused hook(s) retried; "
            f"all {SCENES} in step {recovered_in:.1f} s after the kill"
        )
        assert accepted_at_kill < len(scenes), "every edit was in before the kill: the test proved nothing"

        # At least once: a job whose acknowledgement died with the node is delivered again after
        # ACK_WAIT_S and finds its scene unchanged; the queue drains once it has.
        deadline = time.monotonic() + 45
        while (state := asyncio.run(after_the_failure(cluster)))[1] and time.monotonic() < deadline:
            time.sleep(0.5)
        dead, waiting, current, state_replicas = state
        assert dead == 0, "a job was dead-lettered because a node died"
        assert waiting == 0, "jobs stayed in the queue after every scene was in step"
        assert current == 2  # the two survivors hold the stream; the dead node is the third replica
        assert state_replicas == 3
        assert recovered_in < 90
        for syncer in syncers:
            assert syncer.process is not None
            assert syncer.process.poll() is None, syncer.log()
    finally:
        for service in services:
            service.stop()
