"""``stash2plex provider register`` against the Plex simulator: registered, already there, refused."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from stash2plex.common.plexguid import IDENTIFIER
from stash2plex.provider.app import create_app
from stash2plex.provider.cli import provider_app
from stash2plex.provider.settings import ProviderOptions, ProviderSettings
from tests.harness.servers import ThreadedServer
from tests.sims.plex import PlexSim

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("STASH2PLEX_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no stray .env


@pytest.fixture
def provider_url() -> Iterator[str]:
    """A provider answering over HTTP (Plex fetches its root document itself)."""
    server = ThreadedServer(create_app(ProviderSettings(provider=ProviderOptions(gaps=False)))).start()
    try:
        yield server.url
    finally:
        server.stop()


def register(plex: PlexSim, *args: str, token: str | None = None) -> Result:
    env = {"STASH2PLEX_PLEX__URL": plex.url, "STASH2PLEX_PLEX__TOKEN": token or plex.token or "", "COLUMNS": "200"}
    return CliRunner().invoke(provider_app, ["register", *args], env=env)


def test_register_adds_the_provider_and_says_what_to_click_next(plex_sim: PlexSim, provider_url: str) -> None:
    result = register(plex_sim, "--url", provider_url)
    assert result.exit_code == 0, result.output
    assert f"registered {IDENTIFIER} at {provider_url}" in result.output
    assert "Settings → Metadata Agents → + Add Agent" in result.output
    assert [p.uri for p in plex_sim.providers.all()] == [provider_url]

    again = register(plex_sim, "--url", provider_url, "--json")
    assert again.exit_code == 0, again.output
    answer = json.loads(again.output)
    assert (answer["outcome"], answer["registered_uri"]) == ("already_registered", provider_url)
    assert len(plex_sim.providers.all()) == 1


def test_a_url_plex_cannot_use_is_explained(plex_sim: PlexSim) -> None:
    result = register(plex_sim, "--url", "http://127.0.0.1:9/nothing-here")
    assert result.exit_code == 1
    assert "must be reachable from the Plex server" in result.output
    assert "did not answer at http://127.0.0.1:9/nothing-here from here" in result.output
    assert plex_sim.providers.all() == []


def test_a_wrong_token_is_named(plex_sim: PlexSim, provider_url: str) -> None:
    result = register(plex_sim, "--url", provider_url, token="not-the-token")
    assert result.exit_code == 1
    assert "Plex refused the token (HTTP 401): check STASH2PLEX_PLEX__TOKEN" in result.output


def test_missing_plex_settings_exit_2() -> None:
    result = CliRunner().invoke(provider_app, ["register"], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "STASH2PLEX_PLEX__URL" in result.output


def test_an_unreachable_plex_exits_3(provider_url: str) -> None:
    env = {"STASH2PLEX_PLEX__URL": "http://127.0.0.1:9", "STASH2PLEX_PLEX__TOKEN": "t", "COLUMNS": "200"}
    result = CliRunner().invoke(provider_app, ["register", "--url", provider_url], env=env)
    assert result.exit_code == 3
    assert "cannot reach Plex at http://127.0.0.1:9" in result.output
