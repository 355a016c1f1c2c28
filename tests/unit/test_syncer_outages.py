"""The outage history: what happened, and the MTTR / MTBF figures derived from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from stash2plex.common.outages import MAX_OUTAGES, Outage, OutageHistory

pytestmark = pytest.mark.unit

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def history(*spans: tuple[float, float | None]) -> OutageHistory:
    """Outages from (start, end) pairs in minutes after T0."""
    h = OutageHistory()
    for start, end in spans:
        h = h.start(at(start), "Plex down")
        if end is not None:
            h = h.end(at(end), jobs_held=3)
    return h


def test_an_outage_is_ongoing_until_it_ends_and_then_has_a_duration() -> None:
    h = OutageHistory().start(at(0), "connection refused")
    current = h.current()
    assert current is not None
    assert current.ongoing()
    assert current.duration_s is None
    assert current.cause == "connection refused"
    h = h.end(at(5), jobs_held=42)
    assert h.current() is None
    (outage,) = h.outages
    assert not outage.ongoing()
    assert outage.duration_s == 300
    assert outage.jobs_held == 42
    assert outage.cause == "connection refused"


def test_a_second_replica_reporting_the_same_outage_changes_nothing() -> None:
    h = OutageHistory().start(at(0), "first")
    assert h.start(at(1), "second") == h
    ended = h.end(at(2), jobs_held=1)
    assert ended.end(at(3), jobs_held=9) == ended


def test_changes_return_a_new_history_and_leave_the_old_one_as_it_was() -> None:
    empty = OutageHistory()
    started = empty.start(at(0), "down")
    ended = started.end(at(1), jobs_held=0)
    assert empty.outages == []
    assert started.outages[0].ongoing()
    assert not ended.outages[0].ongoing()
    with pytest.raises(ValidationError):
        ended.outages[0].cause = "edited"  # type: ignore[misc]


def test_only_the_last_thirty_outages_are_kept() -> None:
    h = history(*((10 * i, 10 * i + 1) for i in range(MAX_OUTAGES + 5)))
    assert len(h.outages) == MAX_OUTAGES
    assert h.outages[0].started_at == at(50)
    assert h.outages[-1].started_at == at(10 * (MAX_OUTAGES + 4))


def test_mttr_is_the_mean_duration_of_the_outages_that_ended() -> None:
    assert OutageHistory().mttr_s() is None
    assert history((0, None)).mttr_s() is None
    assert history((0, 2), (10, 14), (30, None)).mttr_s() == 180  # (2 + 4) / 2 minutes


def test_mtbf_is_the_mean_uptime_between_the_end_of_one_outage_and_the_start_of_the_next() -> None:
    assert history((0, 2)).mtbf_s() is None
    h = history((0, 2), (10, 14), (30, None))  # up 8 min, then 16 min
    assert h.mtbf_s() == 12 * 60


def test_a_replica_whose_clock_lags_cannot_make_a_negative_duration_or_uptime() -> None:
    h = OutageHistory().start(at(10), "down").end(at(9), jobs_held=0)
    assert h.outages[0].duration_s == 0
    h = h.start(at(8), "down again")
    assert h.outages[-1].started_at == at(10)
    assert h.mtbf_s() == 0


def test_times_without_a_time_zone_are_refused() -> None:
    naive = datetime(2024, 5, 1, 12, 0)
    with pytest.raises(ValueError, match=r"time ?zone"):
        OutageHistory().start(naive, "down")
    with pytest.raises(ValueError, match="time zone"):
        history((0, None)).end(naive, jobs_held=0)
    with pytest.raises(ValueError, match="time zone"):
        history((0, 1)).start(naive, "down")
    with pytest.raises(ValidationError):
        Outage(started_at=naive)


def test_an_outage_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValidationError, match="end before it starts"):
        Outage(started_at=at(5), ended_at=at(4))


def test_an_empty_stored_value_reads_as_no_outages() -> None:
    assert OutageHistory.model_validate_json(b"{}") == OutageHistory(outages=[])


events = st.lists(
    st.tuples(st.sampled_from(["start", "end"]), st.floats(min_value=0, max_value=600), st.integers(0, 10_000)),
    max_size=80,
)


@given(events)
def test_any_sequence_of_reports_gives_a_consistent_history_that_survives_storage(
    reports: list[tuple[str, float, int]],
) -> None:
    h, now = OutageHistory(), T0
    for kind, gap_s, held in reports:
        now += timedelta(seconds=gap_s)
        h = h.start(now, "down") if kind == "start" else h.end(now, jobs_held=held)
    assert len(h.outages) <= MAX_OUTAGES
    assert all(not o.ongoing() for o in h.outages[:-1])
    assert all(o.duration_s is None or o.duration_s >= 0 for o in h.outages)
    for figure in (h.mttr_s(), h.mtbf_s()):
        assert figure is None or figure >= 0
    assert OutageHistory.model_validate_json(h.model_dump_json()) == h


def test_mttr_and_mtbf_gauges_follow_the_shared_history() -> None:
    from datetime import UTC, datetime, timedelta

    from prometheus_client import REGISTRY

    from stash2plex.common.outages import OutageHistory
    from stash2plex.syncer.outage_log import report_reliability

    start = datetime(2026, 1, 1, tzinfo=UTC)
    history = OutageHistory(outages=[]).start(start, "down").end(start + timedelta(minutes=10), 5)
    history = history.start(start + timedelta(hours=2), "down").end(start + timedelta(hours=2, minutes=20), 0)
    report_reliability(history)
    assert REGISTRY.get_sample_value("stash2plex_syncer_mttr_seconds") == 15 * 60
    assert REGISTRY.get_sample_value("stash2plex_syncer_mtbf_seconds") == (2 * 3600 - 10 * 60)
    report_reliability(OutageHistory(outages=[]))
    assert REGISTRY.get_sample_value("stash2plex_syncer_mttr_seconds") == 0
