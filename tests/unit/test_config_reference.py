"""The configuration reference and .env.example are generated from the settings models; these
tests fail when either file drifts from the code, or when the generator misses a setting."""

from __future__ import annotations

import os
import re

import pytest
from pydantic import BaseModel, Field

from stash2plex.cli.config_docs import catalogue, env_example, reference_markdown, type_name
from stash2plex.common.settings import CommonSettings, load_settings
from stash2plex.syncer.settings import SyncerSettings
from tests.conftest import REPO_ROOT

REFERENCE = REPO_ROOT / "docs" / "configuration.md"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
REGENERATE = (
    "python -m stash2plex.cli config reference --output docs/configuration.md && "
    "python -m stash2plex.cli config env-example --output .env.example"
)


def test_the_reference_matches_the_settings_models() -> None:
    assert REFERENCE.read_text() == reference_markdown(), f"docs/configuration.md drifted; run: {REGENERATE}"


def test_env_example_matches_the_settings_models() -> None:
    assert ENV_EXAMPLE.read_text() == env_example(), f".env.example drifted; run: {REGENERATE}"


def test_every_setting_has_a_description_and_is_documented() -> None:
    settings = catalogue()
    assert len({s.env for s in settings}) == len(settings)
    assert [s.env for s in settings if not s.description] == []
    reference, example = REFERENCE.read_text(), ENV_EXAMPLE.read_text()
    for setting in settings:
        assert f"`{setting.env}`" in reference
        assert re.search(rf"^#? ?{setting.env}=", example, flags=re.MULTILINE), setting.env


def test_nested_groups_are_walked_to_their_leaves() -> None:
    names = {s.env: s for s in catalogue()}
    assert names["STASH2PLEX_SYNCER__FIELDS__POSTER"].default == "true"
    assert names["STASH2PLEX_SYNCER__MATCH__STRICT"].section == "syncer.match"
    assert names["STASH2PLEX_PROVIDER__POSTER_MODE"].type == "one of `screenshot`, `letterbox`"
    assert names["STASH2PLEX_NATS__URL"].services == ("every service",)
    assert names["STASH2PLEX_INGEST__TOKEN"].secret


def test_defaults_shown_are_the_defaults_the_services_use(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("STASH2PLEX_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(REPO_ROOT / "docs")  # no .env here
    settings = load_settings(SyncerSettings)
    shown = {s.env: s.default for s in catalogue()}
    assert shown["STASH2PLEX_SYNCER__CONCURRENCY_MAX"] == str(settings.syncer.concurrency_max)
    assert shown["STASH2PLEX_SYNCER__RECOVERY_RAMP_S"] == f"{settings.syncer.recovery_ramp_s:g}"
    assert shown["STASH2PLEX_NATS__DLQ_MAX_AGE_DAYS"] == f"{settings.nats.dlq_max_age_days:g}"
    assert shown["STASH2PLEX_SYNCER__PORT"] == str(settings.syncer.port)


def test_a_new_setting_shows_up_in_the_generated_files(monkeypatch: pytest.MonkeyPatch) -> None:
    class Extra(BaseModel):
        knob: int = Field(default=7, description="A knob added later.")

    class Bigger(SyncerSettings):
        extra: Extra = Extra()

    import stash2plex.cli.config_docs as config_docs

    monkeypatch.setitem(config_docs.SERVICE_SETTINGS, "syncer", Bigger)
    assert "`STASH2PLEX_EXTRA__KNOB` | integer | `7` | A knob added later." in reference_markdown()
    assert reference_markdown() != REFERENCE.read_text()


def test_type_names_say_how_to_write_a_value() -> None:
    assert type_name(CommonSettings.model_fields["paths"].annotation) != ""
    from stash2plex.syncer.settings import SyncerOptions

    requeue = SyncerOptions.model_fields["requeue_on_recovery"].annotation
    assert type_name(requeue) == "comma-separated, of `transient`, `not_found`, `permanent`, `configuration`"


def test_every_compose_variable_is_in_env_example() -> None:
    compose = (REPO_ROOT / "compose.yaml").read_text()
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", compose))
    example = ENV_EXAMPLE.read_text()
    assert used
    assert [name for name in sorted(used) if f"{name}=" not in example] == []
