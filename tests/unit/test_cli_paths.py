"""``stash2plex paths test``: which rule maps a path, as a table or JSON, with configured or trial rules."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from stash2plex.cli.main import app

RULES = [
    {"stash": r"^/data/vr/(.*)$", "plex": r"/plex/VR/\1"},
    {"stash": r"^/data/(.*)$", "plex": r"D:/Media/\1", "plex_separator": "windows", "case_sensitive": False},
    {"stash": r"^/data/(?P<studio>[^/]+)/(.*)$", "plex": r"/by-studio/\2/\g<studio>"},
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("STASH2PLEX_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout


def paths_test(*args: str, rules: object = None) -> Result:
    env = {"COLUMNS": "200"}
    if rules is not None:
        env["STASH2PLEX_PATHS__RULES"] = rules if isinstance(rules, str) else json.dumps(rules)
    return CliRunner().invoke(app, ["paths", "test", *args], env=env)


def test_a_mapped_path_shows_the_rules_tried_and_exits_0() -> None:
    result = paths_test("/data/[2020] Studio/a.mp4", rules=RULES)
    assert result.exit_code == 0, result.output
    assert "rule 2 maps /data/[2020] Studio/a.mp4 → D:\\Media\\[2020] Studio\\a.mp4" in result.output
    assert "compared ignoring case" in result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") > 4}
    assert "no match" in lines["1"]
    assert "matched" in lines["2"]
    assert "not tried" in lines["3"]


def test_reverse_maps_a_plex_path_back_with_the_derived_rule() -> None:
    result = paths_test("--reverse", "d:/MEDIA/x/a.mp4", rules=RULES)
    assert result.exit_code == 0, result.output
    assert "→ /data/x/a.mp4" in result.output
    assert "(derived)" in result.output
    assert "give plex_pattern and stash_template" in result.output  # rule 3 rearranges groups


def test_an_unmapped_path_exits_1_and_stays_as_it_is() -> None:
    result = paths_test("/elsewhere/a.mp4", rules=RULES)
    assert result.exit_code == 1
    assert "no rule matched: /elsewhere/a.mp4 stays as it is" in result.output


def test_without_rules_nothing_maps() -> None:
    result = paths_test("/data/a.mp4")
    assert result.exit_code == 1
    assert "no path rules in STASH2PLEX_PATHS__RULES" in result.output


def test_json_output_is_the_whole_explanation() -> None:
    result = paths_test("--json", "/data/vr/a.mp4", rules=RULES)
    assert result.exit_code == 0
    explanation = json.loads(result.stdout)
    assert explanation["path"] == "/plex/VR/a.mp4"
    assert explanation["rule_number"] == 1
    assert [a["outcome"] for a in explanation["attempts"]] == ["matched", "not_tried", "not_tried"]

    unmapped = paths_test("--json", "--reverse", "/nowhere", rules=RULES)
    assert unmapped.exit_code == 1
    assert json.loads(unmapped.stdout)["mapped"] is False


def test_rules_on_the_command_line_replace_the_configured_ones() -> None:
    trial = json.dumps({"stash": r"^/data/(.*)$", "plex": r"/trial/\1"})
    result = paths_test("--json", "/data/a.mp4", "--rule", trial, rules=RULES)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["path"] == "/trial/a.mp4"


def test_trial_rules_work_even_when_the_configured_ones_are_broken() -> None:
    first = json.dumps({"stash": r"^/x/", "plex": "/y/"})
    second = json.dumps([{"stash": r"^/data/", "plex": "/media/"}])
    result = paths_test("--json", "/data/a.mp4", "--rule", first, "--rule", second, rules="[{broken")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["rule_number"] == 2


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("not json", "--rule 1 is not JSON"),
        ('{"stash": "^/data/"}', "--rule 1: plex: Field required"),
        ('{"stash": "^/data/(", "plex": "/m/"}', "rule 1 ('^/data/('): stash pattern does not compile"),
        ('{"stash": "^/data/(.*)$", "plex": "/m/\\\\2"}', "refers to group 2"),
    ],
)
def test_a_bad_trial_rule_is_explained_and_exits_2(rule: str, message: str) -> None:
    result = paths_test("/data/a.mp4", "--rule", rule)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_invalid_configured_rules_exit_2_naming_the_variable() -> None:
    result = paths_test("/data/a.mp4", rules=[RULES[0], {"stash": r"^/data/(.*)$", "plex": r"D:\Media\1"}])
    assert result.exit_code == 2
    assert "STASH2PLEX_PATHS__RULES" in result.output
    assert r"rule 2 ('^/data/(.*)$'): plex template: bad escape \M" in result.output
