"""The syncer's write settings from the environment: defaults, nesting, and the errors a user sees."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stash2plex.common.settings import SettingsError, load_settings
from stash2plex.syncer.settings import SyncerSettings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("STASH2PLEX_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def test_defaults_write_everything_strictly_and_safely() -> None:
    options = load_settings(SyncerSettings).syncer
    assert all(options.fields.model_dump().values())
    assert options.match.strict
    assert options.match.libraries == []
    assert options.write.tag_limit == 100
    assert not options.write.preserve_plex_edits
    assert not options.write.unlock_on_destroy


def test_nested_write_settings_come_from_their_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STASH2PLEX_SYNCER__FIELDS__TAGS", "false")
    monkeypatch.setenv("STASH2PLEX_SYNCER__MATCH__LIBRARIES", "Movies, Stash Scenes")
    monkeypatch.setenv("STASH2PLEX_SYNCER__WRITE__PRESERVE_PLEX_EDITS", "true")
    monkeypatch.setenv("STASH2PLEX_SYNCER__WRITE__ACTOR_PHOTO_BASE_URL", "")
    options = load_settings(SyncerSettings).syncer
    assert not options.fields.tags
    assert options.fields.title
    assert options.match.libraries == ["Movies", "Stash Scenes"]
    assert options.write.preserve_plex_edits
    assert options.write.actor_photo_base_url is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("STASH2PLEX_SYNCER__WRITE__TAG_LIMIT", "0"),
        ("STASH2PLEX_SYNCER__WRITE__SCREENSHOT_WAIT_S", "-1"),
        ("STASH2PLEX_SYNCER__FIELDS__POSTER", "maybe"),
        ("STASH2PLEX_SYNCER__WRITE__ACTOR_PHOTO_BASE_URL", "not a url"),
    ],
)
def test_a_bad_value_is_named_by_its_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings(SyncerSettings)
