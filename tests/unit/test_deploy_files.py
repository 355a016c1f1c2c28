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


def test_compose_runs_every_service_with_a_real_entrypoint_and_healthcheck_url() -> None:
    services = compose()["services"]
    assert isinstance(services, dict)
    for name in ("ingest", "syncer", "reconciler", "provider"):
        spec = services[name]
        assert spec["command"] == [f"stash2plex-{name}"]
        assert f"stash2plex-{name}" in entrypoints()
        assert spec["environment"]["STASH2PLEX_NATS__URL"] == "nats://nats:4222"
        assert spec["environment"]["STASH2PLEX_HEALTHCHECK_URL"].endswith("/healthz")
        assert spec["depends_on"]["nats"]["condition"] == "service_healthy"
    assert {"nats", "prometheus", "grafana"} <= set(services)


def test_image_runs_as_a_non_root_user_with_a_healthcheck() -> None:
    dockerfile = (REPO_ROOT / "deploy" / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, flags=re.MULTILINE)
    assert users
    assert users[-1] not in ("root", "0")
    assert "HEALTHCHECK" in dockerfile
    assert dockerfile.count("FROM ") >= 2, "multi-stage build"
    assert "requirements/runtime.lock" in dockerfile


def pins(path: Path) -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", path.read_text(), flags=re.MULTILINE)
    return {name.lower(): version for name, version in found}


def test_the_image_lock_agrees_with_the_development_lock() -> None:
    runtime = pins(REPO_ROOT / "requirements" / "runtime.lock")
    full = pins(REPO_ROOT / "requirements" / "lock.txt")
    assert runtime
    assert {name: (version, full.get(name)) for name, version in runtime.items() if full.get(name) != version} == {}


def test_prometheus_scrapes_every_service() -> None:
    config = yaml.safe_load((REPO_ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    targets = {t for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
    assert {"ingest:9910", "syncer:9911", "reconciler:9912", "provider:9913"} <= targets
