"""``stash2plex status`` against a running broker, for people and for scripts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

from nats.js import JetStreamContext

from stash2plex.common.contracts import SyncJob, SyncReason, utcnow
from stash2plex.common.outages import OutageHistory
from stash2plex.common.settings import NatsSettings
from stash2plex.common.topology import OUTAGES_KEY, STATE_BUCKET, ensure_topology
from tests.harness.broker import Broker
from tests.harness.net import free_port


def cli(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    """``stash2plex <args>`` as a user runs it, pointed at ``url``."""
    env = {**os.environ, "STASH2PLEX_NATS__URL": url, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "stash2plex.cli", *args], env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip


def status(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    return cli("status", *args, url=url)


async def test_status_reports_queue_and_outages_as_a_table_and_as_json(broker: Broker, js: JetStreamContext) -> None:
    await ensure_topology(js, NatsSettings())
    for scene in ("1", "2", "3"):
        job = SyncJob(scene_id=scene, reason=SyncReason.MANUAL)
        await js.publish(job.subject, job.to_bytes())
    start = utcnow() - timedelta(hours=1)
    history = OutageHistory(outages=[]).start(start, "cannot reach Plex").end(start + timedelta(minutes=15), 120)
    await (await js.key_value(STATE_BUCKET)).put(OUTAGES_KEY, history.model_dump_json().encode())

    as_json = status("--json", url=broker.url)
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["queue_depth"] == 3
    assert report["outages"] == 1
    assert report["mttr_s"] == 15 * 60

    table = status(url=broker.url)
    assert table.returncode == 0
    assert "jobs waiting" in table.stdout
    assert "120 jobs held" in table.stdout
    assert "MTTR 15 min" in table.stdout


def test_status_without_a_broker_says_so_and_exits_3() -> None:
    result = status("--json", url=f"nats://127.0.0.1:{free_port()}")
    assert result.returncode == 3
    assert "is the stack running" in result.stdout


def dlq_cli(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    return cli("dlq", *args, url=url)


async def test_dlq_commands_list_show_requeue_and_purge(broker: Broker, js: JetStreamContext) -> None:
    from stash2plex.common.contracts import DeadLetter, ErrorClass
    from stash2plex.common.topology import SYNC_STREAM

    await ensure_topology(js, NatsSettings())
    for scene, error_class, days in (
        ("1", ErrorClass.TRANSIENT, 0),
        ("2", ErrorClass.PERMANENT, 9),
        ("3", ErrorClass.PERMANENT, 0),
    ):
        when = utcnow() - timedelta(days=days)
        letter = DeadLetter(
            job=SyncJob(scene_id=scene, reason=SyncReason.HOOK), error_class=error_class, error=f"failed {scene}",
            attempts=3, first_failure_at=when, last_failure_at=when,
        )  # fmt: skip
        await js.publish(letter.subject, letter.to_bytes())

    listed = json.loads(dlq_cli("list", "--json", "--class", "permanent", url=broker.url).stdout)
    assert [entry["job"]["scene_id"] for entry in listed] == ["2", "3"]
    assert "3 dead letter(s)" in dlq_cli("list", url=broker.url).stdout
    shown = json.loads(dlq_cli("show", "1", url=broker.url).stdout)
    assert shown["error"] == "failed 1"
    assert dlq_cli("show", "99", url=broker.url).returncode == 1

    assert "requeued 1 job(s)" in dlq_cli("requeue", "--scene", "1", url=broker.url).stdout
    assert (await js.stream_info(SYNC_STREAM)).state.messages == 1
    assert "purged 1 dead letter(s)" in dlq_cli("purge", "--older-than-days", "5", "--yes", url=broker.url).stdout
    refused = dlq_cli("purge", url=broker.url)  # asks for confirmation; no answer means no
    assert refused.returncode == 1
    assert [e["job"]["scene_id"] for e in json.loads(dlq_cli("list", "--json", url=broker.url).stdout)] == ["3"]
    bad = dlq_cli("list", "--class", "sometimes", url=broker.url)
    assert bad.returncode == 2
