"""Run the simulator as a process: ``python -m tests.sims.plex --port N [--token T] [--seed-json F | --generate N]``.

Prints its URL on the first line of stdout, then serves until SIGINT/SIGTERM. The
control API (``/__sim/...``) stands in for the test-side handles.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from tests.sims.plex.generate import make_library
from tests.sims.plex.seed import load_library
from tests.sims.plex.sim import DEFAULT_TOKEN, PlexSim


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.sims.plex", description="Plex Media Server simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="X-Plex-Token to require ('' disables the check)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--seed-json", help="library JSON (see tests/sims/plex/seed.py)")
    source.add_argument("--generate", type=int, default=0, help="N generated movies in section 1")
    parser.add_argument("--seed", type=int, default=0, help="seed for --generate")
    args = parser.parse_args(argv)

    library = load_library(args.seed_json) if args.seed_json else make_library(args.generate, seed=args.seed)
    sim = PlexSim(library, token=args.token or None, host=args.host, port=args.port or None)
    sim.start()
    print(sim.url, flush=True)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    sim.faults.clear()
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
