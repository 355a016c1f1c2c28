"""Keep a set of child processes running: start them in order, prefix their output,
restart one that crashes (with backoff), and stop them all, services before the broker,
on Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stash2plex.common.procs import die_with_parent

RESTART_FIRST_DELAY_S = 1.0
RESTART_MAX_DELAY_S = 30.0
STABLE_AFTER_S = 60.0
"""A child that ran this long before crashing starts again at the first delay."""
STOP_GRACE_S = 15.0


def next_delay(previous: float | None, ran_for: float) -> float:
    """Exponential restart backoff that forgets past crashes once a child has been stable."""
    if previous is None or ran_for >= STABLE_AFTER_S:
        return RESTART_FIRST_DELAY_S
    return min(previous * 2, RESTART_MAX_DELAY_S)


@dataclass
class Managed:
    name: str
    command: list[str]
    env: dict[str, str]
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    delay: float | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None


Output = Callable[[str, str], None]
Event = Callable[[str], None]


class Supervisor:
    """Runs children until :meth:`stop`; ``output(name, line)`` gets every line they print."""

    def __init__(self, output: Output, event: Event, state_file: Path | None = None) -> None:
        self.output = output
        self.event = event
        self.state_file = state_file
        self.children: dict[str, Managed] = {}
        self.stopping = asyncio.Event()
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def spawn(self, name: str, command: list[str], env: dict[str, str]) -> Managed:
        """Start a child now and keep it running in the background."""
        child = Managed(name=name, command=command, env=env)
        self.children[name] = child
        await self._start(child)
        self._tasks[name] = asyncio.create_task(self._keep_running(child), name=f"keep:{name}")
        return child

    async def _start(self, child: Managed) -> None:
        child.process = await asyncio.create_subprocess_exec(
            *child.command,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=child.env,
            start_new_session=True,  # Ctrl-C reaches only us; we stop children in order.
            preexec_fn=die_with_parent(),
        )
        self._write_state()

    async def _pump(self, child: Managed, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            self.output(child.name, raw.decode(errors="replace").rstrip())

    async def _keep_running(self, child: Managed) -> None:
        while True:
            process = child.process
            assert process is not None
            started = time.monotonic()
            pump = asyncio.create_task(self._pump(child, process))
            code = await process.wait()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pump, 2)
            if self.stopping.is_set():
                return
            ran_for = time.monotonic() - started
            child.delay = next_delay(child.delay, ran_for)
            self.event(f"{child.name} exited with code {code} after {ran_for:.1f}s; restarting in {child.delay:g}s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), child.delay)
            if self.stopping.is_set():
                return
            child.restarts += 1
            await self._start(child)

    async def stop_child(self, name: str, grace: float = STOP_GRACE_S) -> None:
        """SIGTERM, wait, then SIGKILL: one child."""
        child = self.children.get(name)
        if child is None or child.process is None or child.process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            child.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(child.process.wait(), grace)
        except TimeoutError:
            self.event(f"{name} did not stop within {grace:g}s; killing it")
            with contextlib.suppress(ProcessLookupError):
                child.process.kill()
            await child.process.wait()

    async def stop(self, order: list[list[str]]) -> None:
        """Stop every child, one group after another (services first, then the broker)."""
        self.stopping.set()
        for group in order:
            await asyncio.gather(*(self.stop_child(name) for name in group))
        remaining = [name for name in self.children if all(name not in group for group in order)]
        await asyncio.gather(*(self.stop_child(name) for name in remaining))
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 5)
        if self.state_file is not None:
            with contextlib.suppress(OSError):
                self.state_file.unlink()

    def _write_state(self) -> None:
        """Record the children's pids, for ``stash2plex status`` and for tests that kill one."""
        if self.state_file is None:
            return
        state = {
            "supervisor_pid": os.getpid(),
            "children": {name: {"pid": c.pid, "restarts": c.restarts} for name, c in self.children.items()},
        }
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.state_file)
