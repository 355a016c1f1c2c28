"""The generating commands as an operator or CI runs them: ``stash2plex config reference --check``,
``config env-example`` and ``plugin package``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

ENV_EXAMPLE = REPO_ROOT / ".env.example"
SOURCE = REPO_ROOT / "deploy" / "stash-plugin"


def test_the_check_option_fails_on_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "configuration.md"
    stale.write_text("# an old reference\n")
    command = [sys.executable, "-m", "stash2plex.cli", "config", "reference", "--output", str(stale), "--check"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert "out of date" in result.stderr
    subprocess.run(command[:-1], check=True, timeout=60)
    assert subprocess.run(command, capture_output=True, timeout=60, check=False).returncode == 0
    example = [sys.executable, "-m", "stash2plex.cli", "config", "env-example"]
    printed = subprocess.run(example, capture_output=True, text=True, timeout=60, check=True).stdout
    assert printed == ENV_EXAMPLE.read_text()


def test_the_command_builds_the_source_reproducibly(tmp_path: Path) -> None:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600"}  # 2026-01-01 00:00:00 UTC
    command = [sys.executable, "-m", "stash2plex.cli", "plugin", "package", "--source", str(SOURCE), "--json"]
    first = subprocess.run([*command, "--out", str(tmp_path / "a")], env=env, capture_output=True, text=True,
                           timeout=60, check=False)  # fmt: skip
    assert first.returncode == 0, first.stderr
    entry = json.loads(first.stdout)
    assert entry["date"] == "2026-01-01 00:00:00"
    second = subprocess.run([*command, "--out", str(tmp_path / "b")], env=env, capture_output=True, text=True,
                            timeout=60, check=False)  # fmt: skip
    assert json.loads(second.stdout)["sha256"] == entry["sha256"]
    missing = subprocess.run([*command[:5], "--source", str(tmp_path / "nowhere")], capture_output=True, text=True,
                             timeout=60, check=False)  # fmt: skip
    assert missing.returncode == 2
    assert "not found" in missing.stderr
