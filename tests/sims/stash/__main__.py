"""Run the Stash simulator as a process (for the service processes and manual poking).

    python -m tests.sims.stash --port 9999 --generate 200 --api-key secret

It prints ``stash sim listening on <url>`` once it accepts connections, then runs
until SIGINT/SIGTERM. Faults are switched over HTTP: ``POST /__sim/faults``.
"""

from __future__ import annotations

import argparse
import gc
import signal
import sys
import threading
from pathlib import Path

from tests.sims.stash.generate import make_scenes
from tests.sims.stash.server import StashSim
from tests.sims.stash.store import StashData, parse_offset


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.sims.stash", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9999)
    seed = parser.add_mutually_exclusive_group()
    seed.add_argument("--seed-json", type=Path, help="load the library from this JSON file")
    seed.add_argument("--generate", type=int, metavar="N", help="generate N realistic scenes")
    parser.add_argument("--seed", type=int, default=0, help="random seed for --generate")
    parser.add_argument("--windows-paths", action="store_true", help="simulate a Stash on Windows (with --generate)")
    parser.add_argument("--tz-offset", help="the server's UTC offset, e.g. +02:00 (with --generate)")
    parser.add_argument("--api-key", help="require this ApiKey (Stash with authentication on)")
    parser.add_argument("--schema-dir", type=Path, help="Stash schema directory (default: ../shared/reference/...)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.seed_json:
        data = StashData.from_json_file(args.seed_json)
    elif args.generate is not None:
        kwargs = {"tz": parse_offset(args.tz_offset)} if args.tz_offset else {}
        data = make_scenes(args.generate, args.seed, path_style="windows" if args.windows_paths else "posix", **kwargs)
    else:
        data = StashData()
    sim = StashSim(data, api_key=args.api_key, host=args.host, port=args.port, schema_dir=args.schema_dir)

    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    sim.start()
    gc.collect()
    gc.freeze()  # the generated library and the parsed schema stay: full collections need not walk them
    print(f"stash sim listening on {sim.url}", flush=True)
    while not stopping.wait(0.5):
        pass
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
