"""Every operator command against a running local stack (``stash2plex up`` with simulated Stash
and Plex), as an operator types it, with ``--json`` parsed back and the exit codes scripts see."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.harness.library import Libraries
from tests.harness.net import free_port
from tests.harness.stack import LocalStack, running_stack, simulated_libraries

SCENES = 12


@pytest.fixture(scope="module")
def libraries() -> Iterator[Libraries]:
    with simulated_libraries(SCENES) as pair:
        yield pair


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, libraries: Libraries) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("stack"), libraries) as running:
        yield running


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.stdout.strip(), f"no output (exit {result.returncode}):\n{result.stderr}"
    return json.loads(result.stdout)


def test_health_reports_every_service_ready(stack: LocalStack) -> None:
    result = stack.cli("health", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = as_json(result)
    assert report["healthy"] is True
    assert set(report["services"]) == {"ingest", "syncer", "reconciler", "provider"}
    syncer_checks = {c["name"]: c["ok"] for c in report["services"]["syncer"]["checks"]}
    assert syncer_checks["plex"] is True
    assert syncer_checks["stash"] is True
    table = stack.cli("health")
    assert table.returncode == 0
    assert "every service is ready" in table.stdout


def test_sync_scene_waits_until_plex_has_it(stack: LocalStack, libraries: Libraries) -> None:
    scene = next(iter(libraries.rating_keys))
    libraries.stash.data.scenes[scene].title = "Renamed for the CLI"
    result = stack.cli("sync", "scene", str(scene), "--json", "--timeout", "60")
    assert result.returncode == 0, result.stdout + result.stderr
    report = as_json(result)
    assert report["outcome"] == "finished"
    assert report["done"] == 1
    assert report["dead_lettered"] == []
    assert libraries.plex_title(scene) == "Renamed for the CLI"


def test_sync_all_is_a_backfill_through_ingest_with_progress(stack: LocalStack, libraries: Libraries) -> None:
    for scene in libraries.stash.data.scenes.values():
        scene.title = f"Backfilled {scene.id}"
    result = stack.cli("sync", "all", "--timeout", "90")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "synced" in result.stdout  # the progress bar's label
    assert f"{SCENES} of {SCENES} job(s) done" in result.stdout
    assert sorted(libraries.in_step()) == sorted(libraries.rating_keys)


def test_sync_recent_counts_only_recent_scenes(stack: LocalStack, libraries: Libraries) -> None:
    now = datetime.now(UTC)
    recent = sorted(libraries.stash.data.scenes)[:3]
    for scene in libraries.stash.data.scenes.values():
        scene.updated_at = now - (timedelta(minutes=5) if scene.id in recent else timedelta(days=30))
    report = as_json(stack.cli("sync", "recent", "--hours", "1", "--json", "--timeout", "60"))
    assert report["outcome"] == "finished"
    assert report["total"] == len(recent)
    assert report["done"] == len(recent)


def test_sync_no_wait_only_queues(stack: LocalStack) -> None:
    report = as_json(stack.cli("sync", "all", "--no-wait", "--json"))
    assert report["outcome"] == "queued"
    assert report["waited"] is False


def test_status_and_queue_show_are_json_for_scripts(stack: LocalStack) -> None:
    status = as_json(stack.cli("status", "--json"))
    assert {"queue_depth", "in_flight", "dlq_size", "circuit", "mttr_s"} <= set(status)
    assert status["circuit"] == "closed"
    queue = as_json(stack.cli("queue", "show", "--json"))
    assert queue["total"] == queue["sync_jobs"] + queue["fan_outs"]


def test_queue_clear_asks_first_then_drops_the_pending_jobs(stack: LocalStack, libraries: Libraries) -> None:
    syncer = stack.pid("syncer")
    os.kill(syncer, signal.SIGSTOP)  # hold the syncer so the jobs stay pending
    try:
        queued = as_json(stack.cli("sync", "all", "--no-wait", "--json"))
        assert queued["outcome"] == "queued"
        deadline = time.monotonic() + 30
        while as_json(stack.cli("queue", "show", "--json"))["sync_jobs"] < SCENES:
            assert time.monotonic() < deadline, "the fan-out did not queue every scene"
            time.sleep(0.3)
        declined = stack.cli("queue", "clear", input_text="n\n")
        assert declined.returncode == 1
        assert f"Drop {SCENES} pending sync job(s)" in declined.stdout
        assert as_json(stack.cli("queue", "show", "--json"))["sync_jobs"] == SCENES
        dropped = as_json(stack.cli("queue", "clear", "--yes", "--json"))
        assert dropped["sync_jobs"] == SCENES
        assert as_json(stack.cli("queue", "show", "--json"))["total"] == 0
    finally:
        os.kill(syncer, signal.SIGCONT)


def test_watching_stops_on_timeout_or_ctrl_c_and_the_job_stays_queued(stack: LocalStack, libraries: Libraries) -> None:
    scene = str(sorted(libraries.rating_keys)[1])
    syncer = stack.pid("syncer")
    os.kill(syncer, signal.SIGSTOP)
    try:
        timed_out = stack.cli("sync", "scene", scene, "--timeout", "1", "--json")
        assert timed_out.returncode == 4
        assert as_json(timed_out)["outcome"] == "timed_out"
        watching = subprocess.Popen(
            [sys.executable, "-m", "stash2plex.cli", "sync", "scene", scene], env=stack.env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(3)
        watching.send_signal(signal.SIGINT)
        _, err = watching.communicate(timeout=30)
        assert watching.returncode == 130
        assert "whatever was queued goes on" in err
        assert as_json(stack.cli("queue", "show", "--json"))["sync_jobs"] == 1
    finally:
        os.kill(syncer, signal.SIGCONT)
    deadline = time.monotonic() + 30
    while as_json(stack.cli("queue", "show", "--json"))["sync_jobs"]:
        assert time.monotonic() < deadline, "the queued job was not synced once the syncer ran again"
        time.sleep(0.3)


def test_dead_letters_from_a_real_failure_list_show_requeue_and_purge(stack: LocalStack, libraries: Libraries) -> None:
    scene = sorted(libraries.rating_keys)[-1]
    libraries.stash.data.scenes[scene].title = "Plex refuses this one"
    rule = libraries.plex.faults.error(400, methods="PUT", path=r"/library/sections/.*/all", count=1)
    try:
        result = stack.cli("sync", "scene", str(scene), "--json", "--timeout", "60")
    finally:
        libraries.plex.faults.remove(rule.id)
    assert result.returncode == 1, result.stdout + result.stderr  # finished, but dead-lettered
    assert as_json(result)["dead_lettered"] == [str(scene)]

    listed = as_json(stack.cli("dlq", "list", "--json", "--class", "permanent"))
    assert [letter["job"]["scene_id"] for letter in listed] == [str(scene)]
    shown = as_json(stack.cli("dlq", "show", str(scene)))
    assert shown["error_class"] == "permanent"
    assert stack.cli("dlq", "show", "999999").returncode == 1

    assert "requeued 1 job(s)" in stack.cli("dlq", "requeue", "--scene", str(scene)).stdout
    deadline = time.monotonic() + 30
    while libraries.plex_title(scene) != "Plex refuses this one":
        assert time.monotonic() < deadline, "the requeued job did not reach Plex"
        time.sleep(0.2)
    assert as_json(stack.cli("dlq", "list", "--json")) == []
    assert stack.cli("dlq", "purge", input_text="n\n").returncode == 1
    assert "purged 0 dead letter(s)" in stack.cli("dlq", "purge", "--yes").stdout


def test_paths_test_and_provider_register(stack: LocalStack, libraries: Libraries) -> None:
    mapped = stack.cli("paths", "test", "/data/a.mp4", "--rule", '{"stash": "^/data/", "plex": "/media/"}', "--json")
    assert mapped.returncode == 0
    assert json.loads(mapped.stdout)["path"] == "/media/a.mp4"
    assert stack.cli("paths", "test", "/elsewhere/a.mp4", "--json").returncode == 1

    registered = stack.cli("provider", "register", "--url", stack.url("provider"), "--json")
    assert registered.returncode == 0, registered.stdout + registered.stderr
    assert as_json(registered)["outcome"] in ("registered", "already_registered")


def test_health_names_a_service_that_is_down(stack: LocalStack) -> None:
    provider = stack.pid("provider")
    os.kill(provider, signal.SIGSTOP)  # alive but silent, as a hung process would be
    try:
        result = stack.cli("health", "--json", "--timeout", "1")
    finally:
        os.kill(provider, signal.SIGCONT)
    assert result.returncode == 1
    report = as_json(result)
    assert report["healthy"] is False
    assert "did not answer" in report["services"]["provider"]["error"]
    assert report["services"]["syncer"]["ready"] is True


@pytest.mark.parametrize(
    "command", [["health"], ["queue", "show"], ["queue", "clear", "--yes"], ["sync", "scene", "1"], ["sync", "all"]]
)
def test_without_a_broker_every_command_exits_3(command: list[str]) -> None:
    env = {**os.environ, "STASH2PLEX_NATS__URL": f"nats://127.0.0.1:{free_port()}"}
    result = subprocess.run(
        [sys.executable, "-m", "stash2plex.cli", *command], env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert result.returncode == 3, result.stdout + result.stderr
    assert "is the stack running" in result.stderr
