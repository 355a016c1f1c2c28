"""The real Prometheus, with the shipped config and alert rules, scraping the four services running
as real processes (real broker, simulated Stash and Plex) after some real work: every target is
up, every rule loads, every dashboard query runs, and every metric the dashboard names is there.

prometheus-nats-exporter is a Go binary no registry here ships, so the ``nats`` job is left
out of this scrape; the exporter metrics the dashboard uses are checked against the real
broker's monitoring endpoint instead (the exporter derives them from it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.harness.broker import Broker
from tests.harness.library import Libraries, paired_libraries
from tests.harness.prometheus import Prometheus, local_config
from tests.harness.promql import (
    DASHBOARDS,
    GRAFANA_VARIABLES,
    NATS_EXPORTER_JSZ,
    VARZ_PREFIX,
    dashboard_queries,
    is_exporter_metric,
    names_in,
)
from tests.harness.services import SERVICES, ServiceProcess
from tests.harness.syncer import syncer_env
from tests.sims.plex.sim import PlexSimFactory
from tests.sims.stash.fixtures import StashSimFactory

TOKEN = "prometheus-test-token"
DASHBOARD = DASHBOARDS / "stash2plex.json"


@pytest.fixture
def libraries(stash_sim_factory: StashSimFactory, plex_sim_factory: PlexSimFactory) -> Libraries:
    return paired_libraries(stash_sim_factory, plex_sim_factory, scenes=4)


@pytest.fixture
def services(broker: Broker, libraries: Libraries, tmp_path: Path) -> Iterator[dict[str, ServiceProcess]]:
    env = {**syncer_env(broker, libraries, tmp_path), "STASH2PLEX_INGEST__TOKEN": TOKEN}
    running = {name: ServiceProcess(name, env, tmp_path) for name in SERVICES}
    try:
        for service in running.values():
            service.start()
        for service in running.values():
            assert service.wait_ready()["ready"], service.log()
        yield running
    finally:
        for service in running.values():
            service.stop()


def do_some_work(services: dict[str, ServiceProcess], libraries: Libraries) -> None:
    """What a user's stack does in a minute: an edit in Stash reaches Plex, Plex asks the provider."""
    scene = next(iter(libraries.rating_keys))
    libraries.stash.data.scenes[scene].title = "Seen by Prometheus"
    hook = {"id": str(scene), "type": "Scene.Update.Post", "inputFields": ["title"], "event_id": "prom-test-0001"}
    answer = httpx.post(
        services["ingest"].url + "/v1/hooks/stash", json=hook, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    assert answer.status_code == 202, answer.text
    deadline = time.monotonic() + 30
    while libraries.plex_title(scene) != "Seen by Prometheus":
        assert time.monotonic() < deadline, services["syncer"].log()
        time.sleep(0.1)
    path = libraries.stash.data.file_path(libraries.stash.data.scenes[scene].files[0])
    match = httpx.post(
        services["provider"].url + "/library/metadata/matches", json={"type": 1, "filename": path}, timeout=10
    )
    assert match.status_code == 200, match.text


def wait_for(what: str, check: Any, prometheus: Prometheus, timeout_s: float = 45) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"{what} not true after {timeout_s}s\n{prometheus.log()}"
        time.sleep(0.5)


def test_prometheus_scrapes_every_service_and_finds_every_dashboard_metric(
    services: dict[str, ServiceProcess], libraries: Libraries, tmp_path: Path
) -> None:
    do_some_work(services, libraries)
    targets = {"stash2plex": {name: f"127.0.0.1:{service.port}" for name, service in services.items()}}
    prometheus = Prometheus(tmp_path, local_config(targets)).start()
    try:

        def all_up() -> bool:
            active = prometheus.api("targets")["activeTargets"]
            return len(active) == len(SERVICES) and all(t["health"] == "up" for t in active)

        wait_for("every target up", all_up, prometheus)
        active = prometheus.api("targets")["activeTargets"]
        assert {t["labels"]["component"] for t in active} == set(SERVICES)

        groups = prometheus.api("rules")["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        assert len(rules) == 9
        assert [r["name"] for r in rules if r["health"] != "ok"] == []

        wanted = {n for n in names_in(dashboard_queries(DASHBOARD)) if not is_exporter_metric(n)}

        def missing() -> set[str]:
            present = set(prometheus.api("label/__name__/values"))
            return wanted - present

        deadline = time.monotonic() + 45
        while (gone := missing()) and time.monotonic() < deadline:  # gauges refresh every 15 s
            time.sleep(0.5)
        assert gone == set(), f"scraped, but not present: {sorted(gone)}"

        for title, expr in dashboard_queries(DASHBOARD):
            query = GRAFANA_VARIABLES.sub("1m", expr)
            answer = httpx.get(f"{prometheus.url}/api/v1/query", params={"query": query}, timeout=10).json()
            assert answer["status"] == "success", f"{title}: {expr}: {answer}"

        synced = prometheus.api("query", query='sum(stash2plex_syncer_jobs_total{outcome="synced"})')["result"]
        assert float(synced[0]["value"][1]) >= 1
    finally:
        prometheus.stop()


def test_the_dashboard_exporter_metrics_come_from_the_real_broker(broker: Broker) -> None:
    """prometheus-nats-exporter -varz makes gnatsd_varz_<field> of each numeric /varz field; -jsz has fixed names."""
    assert broker.embedded is not None
    monitor = broker.embedded.config.monitor_url
    varz = httpx.get(f"{monitor}/varz", timeout=5).json()
    numeric = {key for key, value in varz.items() if isinstance(value, int | float) and not isinstance(value, bool)}
    used = {name for name in names_in(dashboard_queries(DASHBOARD)) if is_exporter_metric(name)}
    assert any(name.startswith(VARZ_PREFIX) for name in used)
    assert any(name.startswith("jetstream_") for name in used)
    for name in used:
        if name.startswith(VARZ_PREFIX):
            assert name.removeprefix(VARZ_PREFIX) in numeric, f"the broker's /varz has no numeric field for {name}"
        else:
            assert name in NATS_EXPORTER_JSZ, f"{name} is not one of prometheus-nats-exporter's -jsz metrics"
