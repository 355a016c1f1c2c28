"""``stash2plex reconcile`` and the passes in ``stash2plex status``, as an operator runs them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from nats.js import JetStreamContext

from tests.harness.broker import Broker
from tests.harness.reconciler import reconciler_process
from tests.harness.services import connected_env
from tests.integration.test_cli_status import cli
from tests.integration.test_reconciler_passes import libraries
from tests.sims.plex.sim import PlexSimFactory
from tests.sims.stash.fixtures import StashSimFactory


async def test_reconcile_follows_a_pass_to_its_end_and_status_lists_it(
    broker: Broker,
    js: JetStreamContext,
    tmp_path: Path,
    stash_sim_factory: StashSimFactory,
    plex_sim_factory: PlexSimFactory,
) -> None:
    stash, plex = libraries(stash_sim_factory, plex_sim_factory)
    env = connected_env(broker.url, tmp_path / "data", stash, plex)
    with reconciler_process(env, tmp_path) as service:
        service.wait_ready(check="nats")
        done = await asyncio.to_thread(cli, "reconcile", "--scope", "7d", "--json", url=broker.url)
        table = await asyncio.to_thread(cli, "reconcile", url=broker.url)
        plex.stop()
        skipped = await asyncio.to_thread(cli, "reconcile", url=broker.url)
        status = await asyncio.to_thread(cli, "status", url=broker.url)
        status_json = await asyncio.to_thread(cli, "status", "--json", url=broker.url)

    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["answer"]["started"] is True
    assert report["pass"]["outcome"] == "completed"
    assert (report["pass"]["scope"], report["pass"]["scenes_compared"]) == ("7d", 4)

    assert table.returncode == 0, table.stdout
    assert "completed" in table.stdout
    assert "5 scenes" in table.stdout

    assert skipped.returncode == 1
    assert "no pass started" in skipped.stdout
    assert "Plex is down" in skipped.stdout

    assert status.returncode == 0
    assert "Reconciliation passes" in status.stdout
    assert "skipped" in status.stdout
    passes = json.loads(status_json.stdout)["reconciliations"]
    assert [p["outcome"] for p in passes] == ["completed", "completed", "skipped"]


def test_reconcile_without_a_reconciler_says_so(broker: Broker) -> None:
    result = cli("reconcile", url=broker.url)
    assert result.returncode == 1
    assert "the reconciler service is not running" in result.stdout
