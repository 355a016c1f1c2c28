"""The provider's lock-free metrics read on /metrics exactly as prometheus_client's own would."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from stash2plex.provider.tally import Tally, TallyHistogram

BUCKETS = (0.0005, 0.001, 0.005, 0.01, 0.5, 1.0, 5.0)


def exposition(registry: CollectorRegistry) -> list[str]:
    """The exposition's lines, without the ``_created`` series only prometheus_client writes."""
    return [line for line in generate_latest(registry).decode().splitlines() if "_created" not in line]


def test_a_tally_reads_like_a_counter() -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    tally = Tally("s2p_requests", "Requests.", ["endpoint", "outcome"], registry=ours)
    counter = Counter("s2p_requests", "Requests.", ["endpoint", "outcome"], registry=theirs)
    for metric in (tally, counter):
        metric.labels("match", "ok").inc()
        metric.labels("match", "ok").inc(2)
        metric.labels("metadata", "not_found").inc()
        metric.labels("root", "ok")  # a series at 0 from the start
    assert exposition(ours) == exposition(theirs)
    assert 's2p_requests_total{endpoint="match",outcome="ok"} 3.0' in exposition(ours)


def test_a_tally_histogram_reads_like_a_histogram_with_inclusive_bounds() -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    mine = TallyHistogram("s2p_seconds", "Latency.", ["endpoint"], buckets=BUCKETS, registry=ours)
    reference = Histogram("s2p_seconds", "Latency.", ["endpoint"], buckets=BUCKETS, registry=theirs)
    values = [0.0001, 0.0005, 0.0007, 0.001, 0.004, 0.01, 0.3, 1.0, 4.9, 5.0, 7.5, 120.0]
    for metric in (mine, reference):
        for value in values:
            metric.labels("match").observe(value)
        metric.labels("metadata").observe(0.002)
    assert exposition(ours) == exposition(theirs)
    assert 's2p_seconds_bucket{endpoint="match",le="0.0005"} 2.0' in exposition(ours)  # le is "at most"
    assert 's2p_seconds_count{endpoint="match"} 12.0' in exposition(ours)


def test_wrong_labels_and_decreasing_counters_are_refused() -> None:
    registry = CollectorRegistry()
    tally = Tally("s2p_things", "Things.", ["kind"], registry=registry)
    with pytest.raises(ValueError, match="takes labels"):
        tally.labels("a", "b")
    with pytest.raises(ValueError, match="only goes up"):
        tally.labels("a").inc(-1)
    with pytest.raises(ValueError, match="increasing"):
        TallyHistogram("s2p_bad", "Bad.", [], buckets=(1.0, 0.5), registry=registry)


def test_a_name_already_registered_is_refused_as_prometheus_client_does() -> None:
    registry = CollectorRegistry()
    Counter("s2p_twice", "First.", registry=registry)
    with pytest.raises(ValueError, match="Duplicated"):
        Tally("s2p_twice", "Second.", [], registry=registry)
