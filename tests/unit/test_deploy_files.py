"""Deployment files are checked statically (no Docker engine runs here)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import jsonschema
import yaml

from tests.conftest import REPO_ROOT, SHARED


def entrypoints() -> set[str]:
    names: set[str] = set()
    for pyproject in REPO_ROOT.glob("*/*/pyproject.toml"):
        names |= set(tomllib.loads(pyproject.read_text()).get("project", {}).get("scripts", {}))
    return names


def compose() -> dict[str, object]:
    loaded: dict[str, object] = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())
    return loaded


def compose_validator() -> jsonschema.Draft7Validator:
    schema = json.loads((SHARED / "reference" / "compose" / "compose-spec.json").read_text())
    return jsonschema.Draft7Validator(schema)


def test_compose_file_validates_against_the_compose_spec() -> None:
    errors = [f"{list(e.path)}: {e.message}" for e in compose_validator().iter_errors(compose())]
    assert errors == []


def test_the_compose_check_catches_a_broken_file() -> None:
    broken = compose()
    broken["services"]["syncer"]["restart"] = 3  # type: ignore[index]
    broken["services"]["ingest"]["depends_on"] = {"nats": {"condition": "when-it-feels-like-it"}}  # type: ignore[index]
    assert len(list(compose_validator().iter_errors(broken))) >= 2


SERVICES = ("ingest", "syncer", "reconciler", "provider")


def test_compose_runs_every_service_with_a_real_entrypoint_after_a_healthy_broker() -> None:
    services = compose()["services"]
    assert isinstance(services, dict)
    for name in SERVICES:
        spec = services[name]
        assert spec["command"] == [f"stash2plex-{name}"]
        assert f"stash2plex-{name}" in entrypoints()
        assert spec["environment"]["STASH2PLEX_NATS__URL"] == "nats://nats:4222"
        assert spec["depends_on"]["nats"]["condition"] == "service_healthy"
        assert spec["env_file"] == [{"path": ".env", "required": False}]
    for name, spec in services.items():
        assert spec["restart"] == "unless-stopped", name
    assert {"nats", "nats-exporter", "prometheus", "grafana"} <= set(services)
    assert services["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy"
    assert services["nats-exporter"]["depends_on"]["nats"]["condition"] == "service_healthy"


def test_compose_publishes_only_what_stash_plex_and_people_reach() -> None:
    services = compose()["services"]
    assert isinstance(services, dict)
    published = {name: spec.get("ports", []) for name, spec in services.items() if spec.get("ports")}
    assert set(published) == {"ingest", "provider", "grafana", "prometheus"}
    assert published["prometheus"] == ["${STASH2PLEX_PROMETHEUS_PUBLISH:-127.0.0.1:9090}:9090"]  # this machine only
    assert "ports" not in services["nats"]


def test_nats_keeps_its_store_in_a_volume_and_serves_monitoring_to_the_exporter() -> None:
    spec = compose()
    services, volumes = spec["services"], spec["volumes"]
    assert isinstance(services, dict)
    assert isinstance(volumes, dict)
    nats = services["nats"]
    command = nats["command"]
    assert "--jetstream" in command
    assert command[command.index("--store_dir") + 1] == "/data"
    assert "nats-data:/data" in nats["volumes"]
    assert "nats-data" in volumes
    monitor = command[command.index("--http_port") + 1]
    assert monitor in " ".join(nats["healthcheck"]["test"])
    exporter = services["nats-exporter"]["command"]
    assert exporter[-1] == f"http://nats:{monitor}"
    assert "-jsz=all" in exporter
    assert "-varz" in exporter


def test_prometheus_and_grafana_get_their_provisioning_files() -> None:
    services = compose()["services"]
    assert isinstance(services, dict)
    prometheus = services["prometheus"]
    assert "./deploy/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    config = yaml.safe_load((REPO_ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    for rule_file in config["rule_files"]:
        assert (REPO_ROOT / "deploy" / "prometheus" / rule_file).is_file()

    grafana = services["grafana"]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in grafana["volumes"]}
    provider = yaml.safe_load((REPO_ROOT / "deploy/grafana/provisioning/dashboards/stash2plex.yml").read_text())
    dashboards_in_container = provider["providers"][0]["options"]["path"]
    assert mounts[dashboards_in_container] == "./deploy/grafana/dashboards"
    assert mounts["/etc/grafana/provisioning"] == "./deploy/grafana/provisioning"
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (REPO_ROOT / "deploy/grafana/dashboards" / Path(home).name).is_file()
    datasource = yaml.safe_load((REPO_ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())
    (source,) = datasource["datasources"]
    assert source["url"] == "http://prometheus:9090"
    dashboard = json.loads((REPO_ROOT / "deploy/grafana/dashboards/stash2plex.json").read_text())
    uids = {p["datasource"]["uid"] for p in dashboard["panels"] if p["type"] != "row"}
    assert uids == {source["uid"]}


def test_image_runs_as_a_non_root_user_with_a_healthcheck() -> None:
    dockerfile = (REPO_ROOT / "deploy" / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, flags=re.MULTILINE)
    assert users
    assert users[-1] not in ("root", "0")
    assert re.search(r'^\s+CMD \["python", "-m", "stash2plex.common.healthcheck"\]', dockerfile, flags=re.MULTILINE)
    assert dockerfile.count("FROM ") >= 2, "multi-stage build"
    assert "requirements/runtime.lock" in dockerfile
    final_stage = dockerfile.rsplit("FROM ", 1)[1]
    assert "COPY --from=build /opt/stash2plex" in final_stage  # only the environment, no compilers or sources
    cmd = re.findall(r'^CMD \["([^"]+)"\]', dockerfile, flags=re.MULTILINE)
    assert cmd
    assert cmd[-1] in entrypoints()


def test_the_image_leaves_out_secrets_and_what_it_does_not_run() -> None:
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()
    for entry in (".env", ".git", "tests", ".venv"):
        assert entry in ignored
    assert "libs" not in ignored
    assert "services" not in ignored
    assert "requirements" not in ignored


def test_the_healthcheck_knows_every_service_default_port() -> None:
    import importlib

    from stash2plex.common.healthcheck import DEFAULT_PORTS

    for name in SERVICES:
        assert DEFAULT_PORTS[name] == importlib.import_module(f"stash2plex.{name}.settings").DEFAULT_PORT


def pins(path: Path) -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", path.read_text(), flags=re.MULTILINE)
    return {name.lower(): version for name, version in found}


def test_the_image_lock_agrees_with_the_development_lock() -> None:
    runtime = pins(REPO_ROOT / "requirements" / "runtime.lock")
    full = pins(REPO_ROOT / "requirements" / "lock.txt")
    assert runtime
    assert {name: (version, full.get(name)) for name, version in runtime.items() if full.get(name) != version} == {}


def test_prometheus_scrapes_every_service_replica_and_the_exporter() -> None:
    import importlib

    config = yaml.safe_load((REPO_ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    discovered = {(sd["names"][0], sd["port"]) for sd in jobs["stash2plex"]["dns_sd_configs"]}
    expected = {(name, importlib.import_module(f"stash2plex.{name}.settings").DEFAULT_PORT) for name in SERVICES}
    assert discovered == expected  # by DNS: every replica of a scaled service is scraped
    assert jobs["nats"]["static_configs"][0]["targets"] == ["nats-exporter:7777"]
    services = compose()["services"]
    assert isinstance(services, dict)
    assert {name for name, _ in discovered} <= set(services)
