"""``python -m stash2plex.common.healthcheck``: the container HEALTHCHECK.

The slim image has no curl; this asks the service's own ``/healthz`` with the standard
library and exits 0 or 1. The URL comes from ``STASH2PLEX_HEALTHCHECK_URL``.
"""

from __future__ import annotations

import os
import sys
import urllib.request


def main() -> int:
    url = os.environ.get("STASH2PLEX_HEALTHCHECK_URL", "http://127.0.0.1:9910/healthz")
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:  # noqa: S310 - a local http URL we configure
            return 0 if answer.status == 200 else 1
    except OSError as error:
        print(f"unhealthy: {url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
