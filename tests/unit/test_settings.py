"""Settings: env names, nesting, .env, secrets and the errors a user sees."""

from __future__ import annotations

from pathlib import Path

import pytest

from stash2plex.common.settings import CommonSettings, SettingsError, env_name, load_settings
from stash2plex.syncer.settings import SyncerSettings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("STASH2PLEX_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout


def test_nested_variables_reach_their_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STASH2PLEX_PLEX__URL", "http://plex.local:32400")
    monkeypatch.setenv("STASH2PLEX_PLEX__TOKEN", "plex-secret-token")
    monkeypatch.setenv("STASH2PLEX_SYNCER__PORT", "9001")
    settings = load_settings(SyncerSettings)
    assert str(settings.plex.url) == "http://plex.local:32400/"
    assert settings.plex.token is not None
    assert settings.plex.token.get_secret_value() == "plex-secret-token"
    assert settings.syncer.port == 9001
    assert "plex-secret-token" not in repr(settings)


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("STASH2PLEX_STASH__URL=http://stash:9999\nSTASH2PLEX_LOG__LEVEL=debug\n")
    settings = load_settings(CommonSettings)
    assert settings.stash.graphql_url == "http://stash:9999/graphql"
    assert settings.log.level == "DEBUG"


def test_every_invalid_value_is_named_by_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STASH2PLEX_PLEX__URL", "plex-without-scheme")
    monkeypatch.setenv("STASH2PLEX_NATS__EMBEDDED_PORT", "seventy")
    monkeypatch.setenv("STASH2PLEX_NATS__URL", "http://wrong:4222")
    monkeypatch.setenv("STASH2PLEX_LOG__LEVEL", "loud")
    with pytest.raises(SettingsError) as caught:
        load_settings(CommonSettings)
    text = str(caught.value)
    for name in (
        "STASH2PLEX_PLEX__URL",
        "STASH2PLEX_NATS__EMBEDDED_PORT",
        "STASH2PLEX_NATS__URL",
        "STASH2PLEX_LOG__LEVEL",
    ):
        assert name in text
    assert "'seventy'" in text


def test_blank_urls_mean_not_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STASH2PLEX_NATS__URL", "  ")
    monkeypatch.setenv("STASH2PLEX_STASH__URL", "")
    settings = load_settings(CommonSettings)
    assert settings.nats.url is None
    assert settings.missing_for("stash") == ["STASH2PLEX_STASH__URL", "STASH2PLEX_STASH__API_KEY"]


def test_missing_names_only_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STASH2PLEX_PLEX__URL", "http://plex:32400")
    assert load_settings(CommonSettings).missing_for("plex", "stash") == [
        "STASH2PLEX_STASH__URL",
        "STASH2PLEX_STASH__API_KEY",
        "STASH2PLEX_PLEX__TOKEN",
    ]


def test_store_dir_defaults_under_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STASH2PLEX_DATA_DIR", str(tmp_path / "state"))
    assert load_settings(CommonSettings).nats_store_dir == tmp_path / "state" / "nats"


def test_secrets_lists_configured_secret_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STASH2PLEX_STASH__API_KEY", "stash-key-123")
    assert load_settings(CommonSettings).secrets() == ["stash-key-123"]


def test_env_name() -> None:
    assert env_name("nats", "embedded_port") == "STASH2PLEX_NATS__EMBEDDED_PORT"


def test_lists_are_comma_separated_and_a_bad_item_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STASH2PLEX_SYNCER__REQUEUE_ON_RECOVERY", "transient, not_found")
    assert [c.value for c in load_settings(SyncerSettings).syncer.requeue_on_recovery] == ["transient", "not_found"]
    monkeypatch.setenv("STASH2PLEX_SYNCER__REQUEUE_ON_RECOVERY", "transient,sometimes")
    with pytest.raises(SettingsError) as caught:
        load_settings(SyncerSettings)
    assert "STASH2PLEX_SYNCER__REQUEUE_ON_RECOVERY (item 2)" in str(caught.value)
    assert "'sometimes'" in str(caught.value)


def test_syncer_bounds_must_be_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STASH2PLEX_SYNCER__CONCURRENCY_MIN", "8")
    monkeypatch.setenv("STASH2PLEX_SYNCER__CONCURRENCY_MAX", "2")
    with pytest.raises(SettingsError, match="concurrency_min must not exceed concurrency_max"):
        load_settings(SyncerSettings)


def test_path_rules_come_from_one_json_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "STASH2PLEX_PATHS__RULES",
        r'[{"stash": "^/data/(.*)$", "plex": "D:/Media/\\1", "plex_separator": "windows", "case_sensitive": false},'
        r' {"stash": "^/clips/", "plex": "/mnt/clips/"}]',
    )
    paths = load_settings(CommonSettings).paths.mapper()
    assert paths.to_plex("/data/a/b.mp4").path == "D:\\Media\\a\\b.mp4"
    assert paths.to_stash("d:\\media\\a\\b.mp4").path == "/data/a/b.mp4"
    assert paths.to_plex("/clips/c.mp4").path == "/mnt/clips/c.mp4"


def test_without_path_rules_paths_are_shared_as_they_are(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("STASH2PLEX_PATHS__RULES=\n")
    settings = load_settings(CommonSettings)
    assert settings.paths.rules == []
    assert settings.paths.mapper().to_plex("/data/a.mp4").path == "/data/a.mp4"


def test_path_rules_in_dotenv_keep_their_backslashes_unquoted(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        r'STASH2PLEX_PATHS__RULES=[{"stash": "^/data/(.*)$", "plex": "D:\\\\Media\\\\\\1"}]' + "\n"
    )
    assert load_settings(CommonSettings).paths.mapper().to_plex("/data/a.mp4").path == "D:\\Media\\a.mp4"


def test_an_invalid_path_rule_is_named_by_variable_number_and_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "STASH2PLEX_PATHS__RULES",
        r'[{"stash": "^/ok/", "plex": "/fine/"}, {"stash": "^/data/(.*)$", "plex": "/media/\\2"}]',
    )
    with pytest.raises(SettingsError) as caught:
        load_settings(CommonSettings)
    text = str(caught.value)
    assert "STASH2PLEX_PATHS__RULES" in text
    assert "rule 2 ('^/data/(.*)$')" in text
    assert "refers to group 2, but the pattern has 1 group(s)" in text


def test_path_rules_that_are_not_json_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STASH2PLEX_PATHS__RULES", "^/data/ -> /media/")
    with pytest.raises(SettingsError, match=r"STASH2PLEX_PATHS__RULES: .*not a JSON list of rules"):
        load_settings(CommonSettings)
