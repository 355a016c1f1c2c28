#!/usr/bin/env python3
"""One entry point for a fresh checkout: needs only Python 3.11+ (standard library).

    python3 run.py up      start the whole stack (embedded NATS and the four services)
    python3 run.py test    run the whole test suite with a coverage report
    python3 run.py check   lint (ruff) and type-check (mypy)
    python3 run.py setup   only create/refresh the virtual environment

The first call creates ``.venv`` and installs the exact versions in
``requirements/lock.txt`` plus the project's own packages (editable); later calls reuse it
and reinstall only when the lock file or a ``pyproject.toml`` changed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("STASH2PLEX_VENV", ROOT / ".venv"))
LOCK = ROOT / "requirements" / "lock.txt"
PARTS = ["libs/common", "services/ingest", "services/syncer", "services/reconciler", "services/provider", "libs/cli"]
STAMP = VENV / ".stash2plex-installed"


def fail(message: str) -> None:
    print(f"run.py: {message}", file=sys.stderr)
    raise SystemExit(1)


def bin_path(name: str) -> Path:
    folder = "Scripts" if os.name == "nt" else "bin"
    suffix = ".exe" if os.name == "nt" else ""
    return VENV / folder / f"{name}{suffix}"


def fingerprint() -> str:
    digest = hashlib.sha256(sys.version.encode())
    for path in [LOCK, *(ROOT / part / "pyproject.toml" for part in PARTS)]:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_environment() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - run.py is what an old Python meets first
        fail(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}")
    if STAMP.exists() and STAMP.read_text() == fingerprint() and bin_path("python").exists():
        return
    if not bin_path("python").exists():
        print(f"creating the virtual environment in {VENV}", flush=True)
        try:
            venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
        except (OSError, subprocess.CalledProcessError) as error:
            fail(f"could not create {VENV} ({error}); on Debian/Ubuntu install python3-venv first")
    python = str(bin_path("python"))
    print("installing pinned dependencies (first run only; takes a minute)", flush=True)
    steps = [
        [python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        [python, "-m", "pip", "install", "--quiet", "-r", str(LOCK)],
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            *[arg for p in PARTS for arg in ("-e", str(ROOT / p))],
        ],
    ]
    for step in steps:
        if subprocess.call(step, cwd=ROOT) != 0:
            fail("installation failed (see pip's message above)")
    STAMP.write_text(fingerprint())


def run(command: list[str]) -> int:
    """Run inside the environment; Ctrl-C goes to the child, which shuts down cleanly."""
    env = {
        **os.environ,
        "VIRTUAL_ENV": str(VENV),
        "PATH": f"{bin_path('python').parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    try:
        return subprocess.call(command, cwd=ROOT, env=env)
    except KeyboardInterrupt:
        return 130


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    task, rest = argv[0], argv[1:]
    if task not in ("up", "test", "check", "setup"):
        fail(f"unknown task {task!r}; use up, test, check or setup")
    ensure_environment()
    python = str(bin_path("python"))
    if task == "setup":
        return 0
    if task == "up":
        return run([python, "-m", "stash2plex.cli", "up", *rest])
    if task == "test":
        args = rest or ["tests"]
        return run([python, "-m", "pytest", "--cov", "--cov-report=term", "-p", "no:cacheprovider", *args])
    code = run([python, "-m", "ruff", "check", "."])
    code |= run([python, "-m", "ruff", "format", "--check", "."])
    code |= run([python, "-m", "mypy", "libs/common/src", "libs/cli/src", "services", "tests", "run.py"])
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
