"""Run the Stash plugin's forwarder the way Stash runs it: a new process per hook, the hook
JSON on stdin, from a copy of the plugin folder (its spool lives there)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import REPO_ROOT

PLUGIN_SOURCE = REPO_ROOT / "deploy" / "stash-plugin"


@dataclass
class ForwarderRun:
    code: int
    output: dict[str, Any]
    log: str
    seconds: float


class InstalledPlugin:
    """The plugin folder as Stash would have it under ``plugins/Stash2Plex``."""

    def __init__(self, folder: Path, ingest_url: str, token: str) -> None:
        shutil.copytree(PLUGIN_SOURCE, folder, dirs_exist_ok=True)
        self.folder = folder
        self.env = {"PATH": "/usr/bin:/bin", "STASH2PLEX_INGEST_URL": ingest_url, "STASH2PLEX_INGEST_TOKEN": token}

    @property
    def spool(self) -> Path:
        return self.folder / "spool.jsonl"

    def spooled(self) -> list[dict[str, Any]]:
        if not self.spool.exists():
            return []
        return [json.loads(line) for line in self.spool.read_text().splitlines()]

    def command(self) -> list[str]:
        return [sys.executable, str(self.folder / "stash2plex_forward.py")]

    def stdin_for(self, hook_type: str, object_id: int, **extra: Any) -> str:
        hook: dict[str, Any] = {"id": object_id, "type": hook_type, "inputFields": ["id", "title"]}
        hook.update(extra)
        return json.dumps(
            {
                "server_connection": {"Scheme": "http", "Host": "0.0.0.0", "Port": 1, "Dir": str(self.folder)},
                "args": {"mode": "hook", "hookContext": hook},
            }
        )

    def run_hook(self, hook_type: str, object_id: int, **extra: Any) -> ForwarderRun:
        return self.run(self.stdin_for(hook_type, object_id, **extra))

    def run_task(self, task: str, **args: Any) -> ForwarderRun:
        return self.run(json.dumps({"server_connection": {}, "args": {"task": task, **args}}))

    def run(self, stdin: str) -> ForwarderRun:
        started = time.perf_counter()
        result = subprocess.run(
            self.command(), input=stdin, env=self.env, capture_output=True, text=True, timeout=30, check=False
        )
        seconds = time.perf_counter() - started
        output = json.loads(result.stdout) if result.stdout.strip() else {}
        return ForwarderRun(code=result.returncode, output=output, log=result.stderr, seconds=seconds)

    def start_hook(self, hook_type: str, object_id: int) -> subprocess.Popen[str]:
        """Start without waiting, for tests of concurrent hook processes."""
        process = subprocess.Popen(
            self.command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self.env,
            text=True,
        )
        assert process.stdin is not None
        process.stdin.write(self.stdin_for(hook_type, object_id))
        process.stdin.close()
        return process


def new_event_id() -> str:
    return uuid.uuid4().hex
