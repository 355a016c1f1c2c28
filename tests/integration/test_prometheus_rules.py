"""promtool (from Debian's prometheus package) accepts the shipped Prometheus config and alert
rules, and the alerts' own unit tests (deploy/prometheus/alerts.test.yml) pass."""

from __future__ import annotations

from pathlib import Path

from tests.harness.prometheus import PROMETHEUS_DIR, promtool


def test_promtool_accepts_the_config_and_finds_its_rules() -> None:
    result = promtool("check", "config", str(PROMETHEUS_DIR / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 rule files found" in result.stdout


def test_promtool_accepts_the_alert_rules() -> None:
    result = promtool("check", "rules", str(PROMETHEUS_DIR / "alerts.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "9 rules found" in result.stdout


def test_the_alerts_fire_when_they_should_and_only_then() -> None:
    result = promtool("test", "rules", str(PROMETHEUS_DIR / "alerts.test.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_a_broken_rule_is_caught(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: sum(rate(x[5m])\n")
    result = promtool("check", "rules", str(broken))
    assert result.returncode != 0
