"""Values from Stash's plugin UI laid over environment settings."""

from __future__ import annotations

import logging

import pytest

from stash2plex.common.plugin_settings import apply_overlay
from stash2plex.ingest.settings import IngestOptions

FIELDS = {"recentHours": "recent_hours", "pageSize": "entity_page_size"}


def test_ui_values_replace_environment_values() -> None:
    base = IngestOptions(recent_hours=24, entity_page_size=200)
    result = apply_overlay(base, {"recentHours": 6, "pageSize": "50", "unrelated": True}, FIELDS)
    assert result.recent_hours == 6
    assert result.entity_page_size == 50
    assert base.recent_hours == 24  # the environment's settings are left as they were


def test_unset_or_empty_ui_values_keep_the_environment_value() -> None:
    base = IngestOptions(recent_hours=12)
    assert apply_overlay(base, {"recentHours": ""}, FIELDS).recent_hours == 12
    assert apply_overlay(base, {}, FIELDS).recent_hours == 12


def test_an_invalid_ui_value_is_ignored_with_a_warning_naming_it(caplog: pytest.LogCaptureFixture) -> None:
    base = IngestOptions(recent_hours=12, entity_page_size=100)
    with caplog.at_level(logging.WARNING):
        result = apply_overlay(base, {"recentHours": -3, "pageSize": 20}, FIELDS)
    assert result.recent_hours == 12
    assert result.entity_page_size == 20  # one bad value does not throw away the good ones
    assert "recentHours" in caplog.text
