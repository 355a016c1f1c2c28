"""The declared topology: what each stream promises, and drift detection."""

from __future__ import annotations

from dataclasses import replace

from nats.js.api import RetentionPolicy

from stash2plex.common.settings import NatsSettings
from stash2plex.common.topology import DLQ_STREAM, GAPS_STREAM, SYNC_STREAM, declare, gaps_consumer_config, stream_drift


def streams(settings: NatsSettings | None = None) -> dict[str, object]:
    return {s.name: s for s in declare(settings or NatsSettings()).streams}  # type: ignore[misc]


def test_sync_is_a_coalescing_work_queue() -> None:
    sync = declare(NatsSettings()).streams[0]
    assert sync.name == SYNC_STREAM
    assert sync.retention == RetentionPolicy.WORK_QUEUE
    assert sync.max_msgs_per_subject == 1


def test_dlq_retention_follows_the_setting() -> None:
    dlq = next(s for s in declare(NatsSettings(dlq_max_age_days=3)).streams if s.name == DLQ_STREAM)
    assert dlq.max_age == 3 * 24 * 3600


def test_drift_reports_only_changed_fields() -> None:
    gaps = next(s for s in declare(NatsSettings()).streams if s.name == GAPS_STREAM)
    assert stream_drift(gaps, gaps) == {}
    older = replace(gaps, max_age=60.0, subjects=list(reversed(gaps.subjects or [])))
    assert set(stream_drift(older, gaps)) == {"max_age"}


def test_gaps_consumer_skips_missing_in_stash() -> None:
    config = gaps_consumer_config(ack_wait_s=30, max_ack_pending=8)
    assert config.filter_subjects is not None
    assert all("missing_in_stash" not in s for s in config.filter_subjects)
    assert len(config.filter_subjects) == 3
