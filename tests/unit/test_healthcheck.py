"""The container HEALTHCHECK finds its service from the container's command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from stash2plex.common.healthcheck import NoServiceError, container_command, health_url, service_of


@pytest.mark.parametrize(
    ("argv", "service"),
    [
        (["stash2plex-syncer"], "syncer"),
        (["/opt/stash2plex/bin/python", "/opt/stash2plex/bin/stash2plex-provider"], "provider"),
        (["/sbin/docker-init", "--", "stash2plex-reconciler"], "reconciler"),
        (["python", "-m", "stash2plex.ingest"], "ingest"),
    ],
)
def test_the_service_is_read_from_the_command(argv: list[str], service: str) -> None:
    assert service_of(argv) == service


def test_a_command_that_runs_no_service_is_unhealthy() -> None:
    with pytest.raises(NoServiceError):
        service_of(["stash2plex", "status"])
    with pytest.raises(NoServiceError):
        service_of(["stash2plex-syncerx"])


def test_the_url_follows_the_port_setting_and_the_override() -> None:
    assert health_url({}, ["stash2plex-syncer"]) == "http://127.0.0.1:9911/healthz"
    env = {"STASH2PLEX_PROVIDER__PORT": "8000", "STASH2PLEX_PROVIDER__HOST": "0.0.0.0"}
    assert health_url(env, ["stash2plex-provider"]) == "http://127.0.0.1:8000/healthz"
    assert health_url({"STASH2PLEX_HEALTHCHECK_URL": "http://x:1/healthz"}, []) == "http://x:1/healthz"


def test_the_container_command_is_read_from_proc(tmp_path: Path) -> None:
    cmdline = tmp_path / "cmdline"
    cmdline.write_bytes(b"/sbin/docker-init\0--\0stash2plex-ingest\0")
    assert container_command(cmdline) == ["/sbin/docker-init", "--", "stash2plex-ingest"]
    assert container_command(tmp_path / "missing") == []
