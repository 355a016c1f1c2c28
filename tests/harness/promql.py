"""Which metrics the dashboard and the alert rules ask for, and which ones the code exports.

The PromQL is parsed (promql-parser), not grepped, so a label value or a function name is
never mistaken for a metric.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import yaml
from prometheus_client import REGISTRY

from tests.conftest import REPO_ROOT

DASHBOARDS = REPO_ROOT / "deploy" / "grafana" / "dashboards"
RULES = REPO_ROOT / "deploy" / "prometheus" / "alerts.yml"
METRICS_MODULES = (
    "stash2plex.common.metrics",
    "stash2plex.ingest.metrics",
    "stash2plex.syncer.metrics",
    "stash2plex.provider.metrics",
    "stash2plex.reconciler.metrics",
)
GRAFANA_VARIABLES = re.compile(r"\$__(rate_interval|interval|range)\b")

PROMETHEUS_OWN = {"up"}
"""Series Prometheus makes itself for every target."""

PENDING: dict[str, str] = {}
"""Names the rules may use before the code exports them, each with the reason."""

NATS_EXPORTER_JSZ = {
    # prometheus-nats-exporter -jsz=all (collector/jsz.go): fixed names, not derived from the JSON.
    "jetstream_server_jetstream_disabled", "jetstream_server_total_streams", "jetstream_server_total_consumers",
    "jetstream_server_total_messages", "jetstream_server_total_message_bytes", "jetstream_server_max_memory",
    "jetstream_server_max_storage", "jetstream_stream_total_messages", "jetstream_stream_total_bytes",
    "jetstream_stream_first_seq", "jetstream_stream_last_seq", "jetstream_stream_consumer_count",
    "jetstream_consumer_delivered_consumer_seq", "jetstream_consumer_delivered_stream_seq",
    "jetstream_consumer_num_ack_pending", "jetstream_consumer_num_redelivered", "jetstream_consumer_num_waiting",
    "jetstream_consumer_num_pending", "jetstream_consumer_ack_floor_stream_seq",
    "jetstream_consumer_ack_floor_consumer_seq",
}  # fmt: skip
VARZ_PREFIX = "gnatsd_varz_"
"""prometheus-nats-exporter -varz: one gauge per numeric top-level field of the server's /varz."""


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (Grafana's $__ variables allowed)."""
    parsed = promql_parser.parse(GRAFANA_VARIABLES.sub("5m", expr))
    names: set[str] = set()

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.add(node.name)
            for matcher in node.matchers.matchers:
                if matcher.name == "__name__":
                    names.add(matcher.value)
        return True

    promql_parser.walk(parsed, visit)
    return names


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def dashboard_queries(path: Path) -> list[tuple[str, str]]:
    """``(panel title, expr)`` for every query of a dashboard, annotations included."""
    dashboard = json.loads(path.read_text())
    queries = [
        (panel.get("title", "?"), target["expr"])
        for panel in _panels(dashboard.get("panels", []))
        for target in panel.get("targets", [])
        if target.get("expr")
    ]
    queries += [(f"annotation {a['name']}", a["expr"]) for a in dashboard["annotations"]["list"] if a.get("expr")]
    return queries


def rule_queries(path: Path = RULES) -> list[tuple[str, str]]:
    rules = yaml.safe_load(path.read_text())
    return [(rule.get("alert") or rule["record"], rule["expr"]) for group in rules["groups"] for rule in group["rules"]]


def names_in(queries: list[tuple[str, str]]) -> dict[str, set[str]]:
    """metric name → the panels or alerts that use it."""
    used: dict[str, set[str]] = {}
    for where, expr in queries:
        for name in metric_names(expr):
            used.setdefault(name, set()).add(where)
    return used


_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("_count", "_sum", "_created"),
    "info": ("_info",),
    "gauge": ("",),
}


def exported_names() -> set[str]:
    """Every series name the services' metric modules register (labelled or not, observed or not)."""
    for module in METRICS_MODULES:
        importlib.import_module(module)
    names: set[str] = set()
    for family in REGISTRY.collect():
        if family.name.startswith("stash2plex_"):
            names |= {family.name + suffix for suffix in _SUFFIXES.get(family.type, ("",))}
    return names


def is_exporter_metric(name: str) -> bool:
    return name.startswith((VARZ_PREFIX, "jetstream_", "gnatsd_"))
