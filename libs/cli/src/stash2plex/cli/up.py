"""``stash2plex up``: the whole stack on this machine in one command."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
from pathlib import Path
from typing import IO

import httpx
from rich.console import Console
from rich.table import Table
from rich.text import Text

from stash2plex.cli.stack import Stack, child_environment
from stash2plex.cli.supervisor import Supervisor
from stash2plex.common.embedded import EmbeddedNatsError, wait_until_ready

COLOURS = {"nats": "magenta", "ingest": "cyan", "syncer": "green", "reconciler": "yellow", "provider": "blue"}
HEALTH_WAIT_S = 30.0


class UpError(RuntimeError):
    """Why the stack cannot start (port taken, another ``up`` running…)."""


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1" if host in ("0.0.0.0", "") else host, port))
        except OSError:
            return True
    return False


def check_ports(stack: Stack) -> None:
    wanted: list[tuple[str, str, int]] = []
    if stack.nats is not None:
        wanted.append(("nats", stack.nats.host, stack.nats.port))
        if stack.nats.monitor_port:
            wanted.append(("nats monitoring", stack.nats.host, stack.nats.monitor_port))
    wanted += [(spec.name, spec.host, spec.port) for spec in stack.services]
    busy = [f"{name} port {port}" for name, host, port in wanted if port and port_in_use(host, port)]
    if busy:
        raise UpError(
            "already in use: " + ", ".join(busy) + ". Stop what holds them or choose other ports "
            "(STASH2PLEX_<SERVICE>__PORT, STASH2PLEX_NATS__EMBEDDED_PORT)."
        )


@contextlib.contextmanager
def single_instance(data_dir: Path) -> IO[str]:  # type: ignore[misc]
    """Refuse a second ``up`` on the same data dir: two brokers cannot share one store."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = (data_dir / "up.lock").open("w")
    try:
        import fcntl

        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise UpError(f"another 'stash2plex up' is running with data dir {data_dir}") from None
    except ImportError:  # not on POSIX: no lock, the port check still protects the store
        pass
    try:
        yield handle
    finally:
        handle.close()


async def wait_healthy(urls: dict[str, str], limit_s: float) -> dict[str, bool]:
    """Poll each service's ``/healthz`` until all answer or the time is up."""
    healthy = dict.fromkeys(urls, False)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    async with httpx.AsyncClient(timeout=1.0) as client:
        while not all(healthy.values()) and loop.time() < deadline:
            for name, url in urls.items():
                if not healthy[name]:
                    with contextlib.suppress(httpx.HTTPError):
                        healthy[name] = (await client.get(url + "/healthz")).status_code == 200
            await asyncio.sleep(0.2)
    return healthy


async def readiness_hints(urls: dict[str, str]) -> list[str]:
    """What each service still waits for (missing settings, unreachable Stash or Plex)."""
    hints: list[str] = []
    async with httpx.AsyncClient(timeout=5.0) as client:
        for name, url in urls.items():
            with contextlib.suppress(httpx.HTTPError, ValueError):
                report = (await client.get(url + "/readyz")).json()
                hints += [f"{name}: {c['name']}: {c['detail']}" for c in report.get("checks", []) if not c.get("ok")]
    return hints


async def run_stack(stack: Stack, console: Console) -> int:
    """Start everything, keep it running until a signal, then stop it in order."""

    def output(name: str, line: str) -> None:
        prefix = Text(f"{name:<10} | ", style=COLOURS.get(name, "white"))
        console.print(prefix + Text(line), soft_wrap=True, highlight=False)

    def event(message: str) -> None:
        console.print(Text(f"stash2plex | {message}", style="bold red"))

    supervisor = Supervisor(output, event, state_file=stack.settings.data_dir / "up.json")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)

    base_env = child_environment({})
    try:
        if stack.nats is not None:
            nats = stack.nats
            nats.store_dir.mkdir(parents=True, exist_ok=True)
            await supervisor.spawn("nats", [*nats.command()], base_env)
            try:
                await asyncio.to_thread(wait_until_ready, nats, 15.0)
            except EmbeddedNatsError as error:
                event(str(error))
                await supervisor.stop([["nats"]])
                return 1
        for spec in stack.services:
            await supervisor.spawn(spec.name, spec.command, child_environment(spec.env))

        urls = {spec.name: spec.url for spec in stack.services}
        healthy = await wait_healthy(urls, HEALTH_WAIT_S)
        table = Table(title="Stash2Plex is up", title_justify="left")
        table.add_column("part")
        table.add_column("listens on")
        table.add_column("pid", justify="right")
        table.add_column("health")
        if stack.nats is not None:
            nats_child = supervisor.children["nats"]
            monitor = f" (monitoring {stack.nats.monitor_url})" if stack.nats.monitor_url else ""
            table.add_row("nats", stack.nats.url + monitor, str(nats_child.pid), "jetstream ready")
        else:
            table.add_row("nats", stack.nats_url + " (external)", "-", "-")
        for spec in stack.services:
            ok = healthy[spec.name]
            table.add_row(spec.name, spec.url, str(supervisor.children[spec.name].pid), "ok" if ok else "not answering")
        console.print(table)
        console.print(f"data dir: {stack.settings.data_dir}    stop with Ctrl-C")
        if stack.ingest_token_file is not None:
            console.print(
                f"ingest token: in {stack.ingest_token_file} — enter it as the Stash plugin's 'Ingest token' "
                "(or set STASH2PLEX_INGEST__TOKEN)"
            )
        for hint in await readiness_hints(urls):
            console.print(Text(f"waiting | {hint}", style="yellow"))

        await stop.wait()
        console.print("stopping: services first, then the broker")
        return 0
    finally:
        await supervisor.stop([[spec.name for spec in stack.services], ["nats"]])


def up(stack: Stack, console: Console | None = None) -> int:
    console = console or Console(stderr=False, highlight=False)
    try:
        with single_instance(stack.settings.data_dir):
            check_ports(stack)
            return asyncio.run(run_stack(stack, console))
    except UpError as error:
        console.print(Text(f"stash2plex up: {error}", style="bold red"))
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: stash2plex up")
