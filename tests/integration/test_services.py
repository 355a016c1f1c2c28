"""Each service as a real process against the real broker: it starts, ensures the topology,
serves health and metrics, and says exactly what it is missing."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import nats
import pytest

from tests.harness.broker import Broker
from tests.harness.services import SERVICES, ServiceProcess, connected_env
from tests.sims.plex.sim import PlexSim
from tests.sims.stash.server import StashSim

NEEDS = {"ingest": {"stash"}, "syncer": {"stash", "plex"}, "reconciler": {"stash", "plex"}, "provider": {"stash"}}


def bare_env(broker: Broker, tmp_path: Path) -> dict[str, str]:
    """A service with a broker but no Stash or Plex configured."""
    return {
        "STASH2PLEX_NATS__URL": broker.url,
        "STASH2PLEX_DATA_DIR": str(tmp_path / "data"),
        "STASH2PLEX_STASH__URL": "",
        "STASH2PLEX_PLEX__URL": "",
        "STASH2PLEX_INGEST__TOKEN": "test-ingest-token",
    }


@pytest.mark.parametrize("name", SERVICES)
def test_service_starts_unconfigured_and_reports_what_is_missing(name: str, broker: Broker, tmp_path: Path) -> None:
    with ServiceProcess(name, bare_env(broker, tmp_path), tmp_path) as service:
        report = service.wait_ready(check="nats")
        checks = {c["name"]: c for c in report["checks"]}
        assert report["ready"] is False
        assert checks["nats"]["ok"] is True
        for dependency in NEEDS[name]:
            assert checks[dependency]["configured"] is False
            assert f"STASH2PLEX_{dependency.upper()}__URL" in checks[dependency]["detail"]
        assert set(checks) - {"circuit"} == {"nats"} | NEEDS[name]
        assert httpx.get(service.url + "/readyz").status_code == 503

        metrics = httpx.get(service.url + "/metrics", follow_redirects=False)
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain")
        assert "server" not in metrics.headers  # the server software is not named to clients
        assert f'stash2plex_build_info{{service="{name}"' in metrics.text
        assert f'stash2plex_nats_connected{{service="{name}"}} 1.0' in metrics.text
        assert "stash2plex_stream_messages" in metrics.text
        # uvicorn finishes its shutdown, then exits by the SIGTERM it caught (status 143 in a shell).
        assert service.stop() in (0, -signal.SIGTERM)
        assert "Application shutdown complete" in service.log()


async def test_topology_exists_once_a_service_is_up(broker: Broker, tmp_path: Path) -> None:
    nc = await nats.connect(broker.url)
    js = nc.jetstream()
    for stream in ("SYNC", "GAPS", "DLQ"):
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await js.delete_stream(stream)
    with ServiceProcess("ingest", bare_env(broker, tmp_path), tmp_path) as service:
        service.wait_ready(check="nats")
        names = {info.config.name for info in await js.streams_info()}
        # The control subject answers with the same report as /readyz.
        reply = await nc.request("s2p.ctl.ingest.status", b"{}", timeout=5)
    await nc.close()
    assert {"SYNC", "GAPS", "DLQ", "KV_s2p_state", "KV_s2p_sync"} <= names
    answer = json.loads(reply.data)
    assert answer["ok"] is True
    assert answer["service"] == "ingest"
    assert {c["name"] for c in answer["checks"]} == {"nats", "stash"}


def test_unreachable_broker_keeps_the_service_alive_and_not_ready(tmp_path: Path) -> None:
    env = {"STASH2PLEX_NATS__URL": "nats://127.0.0.1:1", "STASH2PLEX_DATA_DIR": str(tmp_path)}
    with ServiceProcess("provider", env, tmp_path) as service:
        report = service.readiness()
        nats_check = next(c for c in report["checks"] if c["name"] == "nats")
        assert nats_check["ok"] is False
        assert "not connected" in nats_check["detail"]
        assert httpx.get(service.url + "/healthz").status_code == 200


def test_invalid_settings_exit_2_naming_the_variable(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stash2plex.syncer"],
        env={"PATH": "/usr/bin:/bin", "STASH2PLEX_PLEX__URL": "nope", "STASH2PLEX_SYNCER__PORT": "99999"},
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    assert "STASH2PLEX_PLEX__URL" in result.stderr
    assert "STASH2PLEX_SYNCER__PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_without_a_nats_url_a_service_runs_its_own_broker(tmp_path: Path) -> None:
    from tests.harness.net import free_port

    env = {
        "STASH2PLEX_NATS__URL": "",
        "STASH2PLEX_DATA_DIR": str(tmp_path / "data"),
        "STASH2PLEX_NATS__EMBEDDED_PORT": str(free_port()),
        "STASH2PLEX_NATS__EMBEDDED_MONITOR_PORT": str(free_port()),
        "STASH2PLEX_INGEST__TOKEN": "test-ingest-token",
    }
    with ServiceProcess("ingest", env, tmp_path) as service:
        report = service.wait_ready(check="nats")
        nats_check = next(c for c in report["checks"] if c["name"] == "nats")
        assert nats_check["ok"] is True
        assert "(embedded)" in nats_check["detail"]
    assert (tmp_path / "data" / "nats" / "jetstream").is_dir()


def test_container_healthcheck_command_follows_the_service(broker: Broker, tmp_path: Path) -> None:
    def healthcheck(url: str) -> int:
        env = {"PATH": "/usr/bin:/bin", "STASH2PLEX_HEALTHCHECK_URL": url}
        command = [sys.executable, "-m", "stash2plex.common.healthcheck"]
        return subprocess.run(command, env=env, capture_output=True, timeout=30, check=False).returncode

    with ServiceProcess("reconciler", bare_env(broker, tmp_path), tmp_path) as service:
        assert healthcheck(service.url + "/healthz") == 0
    assert healthcheck(service.url + "/healthz") == 1


def configured_env(broker: Broker, tmp_path: Path, stash: StashSim, plex: PlexSim) -> dict[str, str]:
    return connected_env(broker.url, tmp_path / "data", stash, plex)


def test_with_stash_and_plex_answering_the_service_is_ready(
    broker: Broker, tmp_path: Path, stash_sim: StashSim, plex_sim: PlexSim
) -> None:
    with ServiceProcess("syncer", configured_env(broker, tmp_path, stash_sim, plex_sim), tmp_path) as service:
        report = service.wait_ready()
        assert report["ready"] is True, report
        assert httpx.get(service.url + "/readyz").status_code == 200
        metrics = httpx.get(service.url + "/metrics").text
    assert 'stash2plex_dependency_up{dependency="plex",service="syncer"} 1.0' in metrics
    assert 'stash2plex_dependency_up{dependency="stash",service="syncer"} 1.0' in metrics
    assert "Version" in stash_sim.requests.operations()


def test_wrong_credentials_are_named_on_readyz_and_never_logged(
    broker: Broker, tmp_path: Path, stash_sim: StashSim, plex_sim: PlexSim
) -> None:
    env = configured_env(broker, tmp_path, stash_sim, plex_sim)
    env["STASH2PLEX_PLEX__TOKEN"] = "wrong-plex-token-1234"
    env["STASH2PLEX_STASH__API_KEY"] = "wrong-stash-key-5678"
    with ServiceProcess("reconciler", env, tmp_path) as service:
        checks = {c["name"]: c for c in service.wait_ready(check="nats")["checks"]}
        log = service.log()
    assert "STASH2PLEX_PLEX__TOKEN" in checks["plex"]["detail"]
    assert "rejected the token" in checks["plex"]["detail"]
    assert "STASH2PLEX_STASH__API_KEY" in checks["stash"]["detail"]
    assert "wrong-plex-token-1234" not in log
    assert "wrong-stash-key-5678" not in log


def test_plex_outage_shows_on_readyz(broker: Broker, tmp_path: Path, stash_sim: StashSim, plex_sim: PlexSim) -> None:
    with ServiceProcess("syncer", configured_env(broker, tmp_path, stash_sim, plex_sim), tmp_path) as service:
        assert service.wait_ready()["ready"] is True
        plex_sim.stop()
        plex = next(c for c in service.readiness()["checks"] if c["name"] == "plex")
        assert plex["ok"] is False
        assert "cannot reach Plex" in plex["detail"]
        plex_sim.start()
        assert service.wait_ready()["ready"] is True
