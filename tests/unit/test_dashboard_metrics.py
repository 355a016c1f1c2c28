"""Every query of the Grafana dashboard and every alert names a metric that really exists:
one the services register, one prometheus-nats-exporter derives from the real broker, or one
Prometheus makes itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.harness.promql import (
    DASHBOARDS,
    PENDING,
    PROMETHEUS_OWN,
    dashboard_queries,
    exported_names,
    is_exporter_metric,
    metric_names,
    names_in,
    rule_queries,
)

DASHBOARD_FILES = sorted(DASHBOARDS.glob("*.json"))


def test_the_parser_finds_metrics_and_only_metrics() -> None:
    expr = 'histogram_quantile(0.95, sum by (le) (rate(a_seconds_bucket{stream="b_total"}[$__rate_interval]))) / on() c'
    assert metric_names(expr) == {"a_seconds_bucket", "c"}
    assert metric_names('{__name__="d_total"} and up') == {"d_total", "up"}


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: p.name)
def test_every_dashboard_query_names_an_exported_metric(path: Path) -> None:
    used = names_in(dashboard_queries(path))
    ours = exported_names()
    unknown = {
        name: sorted(where)
        for name, where in used.items()
        if name not in ours and name not in PROMETHEUS_OWN and not is_exporter_metric(name)
    }
    assert unknown == {}, "queries name metrics no service exports"
    assert any(name.startswith("stash2plex_") for name in used)


def test_every_alert_names_an_exported_metric() -> None:
    used = names_in(rule_queries())
    ours = exported_names()
    unknown = {name: sorted(where) for name, where in used.items() if name not in ours | PROMETHEUS_OWN | set(PENDING)}
    assert unknown == {}


def test_pending_names_are_removed_once_the_code_exports_them() -> None:
    assert [name for name in PENDING if name in exported_names()] == [], "drop these from tests/harness/promql.PENDING"
    assert set(PENDING) <= set(names_in(rule_queries())), "a pending name no rule uses"


def test_the_dashboard_covers_what_operators_look_at() -> None:
    (path,) = DASHBOARD_FILES
    dashboard = json.loads(path.read_text())
    used = names_in(dashboard_queries(path))
    for metric in (
        "stash2plex_syncer_jobs_total", "stash2plex_syncer_job_seconds_bucket", "stash2plex_stream_messages",
        "stash2plex_consumer_pending", "stash2plex_consumer_ack_pending", "stash2plex_syncer_circuit_state",
        "stash2plex_syncer_mttr_seconds", "stash2plex_provider_requests_total", "stash2plex_provider_matches_total",
        "gnatsd_varz_connections",
    ):  # fmt: skip
        assert metric in used, metric
    types = {panel["type"] for panel in dashboard["panels"]}
    assert "state-timeline" in types  # the circuit's history
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "prometheus"  # the provisioned datasource, no import step
