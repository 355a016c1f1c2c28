"""The reconciler's settings and schedule: defaults, named intervals, cron, bad values named."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from stash2plex.common.reconciliation import Scope
from stash2plex.common.settings import SettingsError, load_settings
from stash2plex.reconciler.schedule import Schedule
from stash2plex.reconciler.settings import ReconcilerOptions, ReconcilerSettings

pytestmark = pytest.mark.unit

ZONE = timezone(timedelta(hours=2))


def test_defaults_run_daily_over_everything_and_at_start_after_an_hour() -> None:
    options = ReconcilerOptions()
    assert (options.interval, options.scope, options.startup_after_s) == ("daily", Scope.ALL, 3600)
    noon = datetime(2026, 5, 1, 12, 0).astimezone()  # daily means 03:00 in the service's local time
    assert options.schedule.next_after(noon) == datetime(2026, 5, 2, 3, 0).astimezone()


@pytest.mark.parametrize(
    ("text", "after", "expected"),
    [
        ("hourly", datetime(2026, 5, 1, 12, 10), datetime(2026, 5, 1, 13, 0)),
        ("weekly", datetime(2026, 5, 1, 12, 10), datetime(2026, 5, 3, 3, 0)),  # the Sunday
        ("*/15 * * * *", datetime(2026, 5, 1, 12, 10), datetime(2026, 5, 1, 12, 15)),
        ("* * * * * */10", datetime(2026, 5, 1, 12, 10, 3), datetime(2026, 5, 1, 12, 10, 10)),
    ],
)
def test_named_intervals_and_cron_expressions(text: str, after: datetime, expected: datetime) -> None:
    local = after.astimezone()  # the schedule is in the service's local time
    assert Schedule.parse(text).next_after(local) == expected.astimezone()


@pytest.mark.parametrize("text", ["never", "NEVER", "off", ""])
def test_never_schedules_nothing(text: str) -> None:
    schedule = Schedule.parse(text)
    assert not schedule.enabled
    assert schedule.next_after(datetime.now(ZONE)) is None


def test_a_bad_interval_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STASH2PLEX_RECONCILER__INTERVAL", "every so often")
    with pytest.raises(SettingsError) as error:
        load_settings(ReconcilerSettings)
    assert "STASH2PLEX_RECONCILER__INTERVAL" in str(error.value)
    assert "cron expression" in str(error.value)


def test_the_reconciler_reads_the_syncers_field_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """It judges as the syncer writes: a field the syncer leaves alone is no reason for a gap."""
    monkeypatch.setenv("STASH2PLEX_SYNCER__FIELDS__SUMMARY", "false")
    monkeypatch.setenv("STASH2PLEX_RECONCILER__SCOPE", "7d")
    settings = load_settings(ReconcilerSettings)
    assert settings.syncer.fields.summary is False
    assert settings.reconciler.scope is Scope.WEEK


def test_every_option_has_a_description() -> None:
    assert all(field.description for field in ReconcilerOptions.model_fields.values())
