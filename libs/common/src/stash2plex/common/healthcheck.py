"""``python -m stash2plex.common.healthcheck``: the container HEALTHCHECK, one for every service.

The image runs every service; which one is in a container is its command. So the check reads
the container's command line (``/proc/1/cmdline``), finds ``stash2plex-<service>`` (or
``-m stash2plex.<service>``) in it, and asks that service's own ``/healthz`` on its configured
port, with the standard library only (the slim image has no curl). ``STASH2PLEX_HEALTHCHECK_URL``
overrides all of that. Exit 0 healthy, 1 not.
"""

from __future__ import annotations

import os
import re
import sys
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

DEFAULT_PORTS = {"ingest": 9910, "syncer": 9911, "reconciler": 9912, "provider": 9913}
"""Each service's default port (its settings' ``DEFAULT_PORT``; a test keeps the two in step)."""
_SERVICE = re.compile(r"(?:^|/|\.)stash2plex[-.](ingest|syncer|reconciler|provider)$")


class NoServiceError(LookupError):
    """The command line runs no Stash2Plex service."""


def service_of(argv: Sequence[str]) -> str:
    """The service a command line runs (``stash2plex-syncer``, a path to it, or ``-m stash2plex.syncer``)."""
    for arg in argv:
        found = _SERVICE.search(arg)
        if found:
            return found.group(1)
    raise NoServiceError(f"no stash2plex service in {' '.join(argv)!r}")


def health_url(environ: Mapping[str, str], argv: Sequence[str]) -> str:
    explicit = environ.get("STASH2PLEX_HEALTHCHECK_URL", "").strip()
    if explicit:
        return explicit
    service = service_of(argv)
    prefix = f"STASH2PLEX_{service.upper()}__"
    port = environ.get(prefix + "PORT", "").strip() or str(DEFAULT_PORTS[service])
    host = environ.get(prefix + "HOST", "").strip()
    host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    return f"http://{host}:{port}/healthz"


def container_command(proc: Path = Path("/proc/1/cmdline")) -> list[str]:
    """PID 1's arguments: the service itself, or an init (``init: true``) followed by it."""
    try:
        raw = proc.read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def main() -> int:
    try:
        url = health_url(os.environ, container_command())
    except NoServiceError as error:
        print(f"unhealthy: {error}; set STASH2PLEX_HEALTHCHECK_URL", file=sys.stderr)
        return 1
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:  # noqa: S310 - a local http URL we build
            return 0 if answer.status == 200 else 1
    except OSError as error:
        print(f"unhealthy: {url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
