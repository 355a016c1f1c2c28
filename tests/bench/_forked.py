"""A simulator in a forked child process: built data crosses the fork as it is, nothing is serialized.

The reconciler benchmark builds 100,000-item libraries in its own process. Run in that process,
both simulators and the benchmark's own seeding share one GIL; forked after the build, each
simulator answers on its own core with the very same data (copy-on-write). Fork before any thread
or event loop starts: a forked child inherits no other thread, and a lock held by one would stay
held.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Callable
from contextlib import AbstractContextManager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from tests.bench._syncer_stack import cpu_s

SimFactory = Callable[[], AbstractContextManager[Any]]
Describe = Callable[[Any], dict[str, Any]]


def _serve(make: SimFactory, describe: Describe, conn: Connection) -> None:
    with make() as sim:
        conn.send(describe(sim))
        with contextlib.suppress(EOFError):  # EOFError: the parent went away
            conn.recv()  # "stop"


class ForkedSim:
    """``with ForkedSim(make, describe) as sim:`` serves ``make()``'s simulator from a child process.

    ``sim.info`` is what ``describe`` said of it there (its URL, its token).
    """

    def __init__(self, make: SimFactory, describe: Describe, name: str) -> None:
        self.make, self.describe, self.name = make, describe, name
        self.info: dict[str, Any] = {}
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None

    def __enter__(self) -> ForkedSim:
        context = multiprocessing.get_context("fork")
        parent, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(self.make, self.describe, child), name=self.name)
        self._process.daemon = True
        self._process.start()
        child.close()
        self._conn = parent
        if not parent.poll(60):
            raise TimeoutError(f"the {self.name} simulator did not start within 60 s")
        self.info = parent.recv()
        return self

    def cpu_s(self) -> float:
        """CPU seconds the child has used so far (all its threads)."""
        assert self._process is not None
        assert self._process.pid is not None
        return cpu_s(Path(f"/proc/{self._process.pid}/stat"))

    def __exit__(self, *exc: object) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):  # the child is gone already
                self._conn.send("stop")
            self._conn.close()
        if self._process is not None:
            self._process.join(15)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
