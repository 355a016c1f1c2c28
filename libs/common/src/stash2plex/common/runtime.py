"""What every service does around its own work: start the embedded broker when no NATS URL
is set, connect (and keep reconnecting), ensure the topology, answer control requests,
and keep the queue gauges fresh.

The connection is made in the background, so a service whose broker is still starting
serves ``/healthz`` at once and explains on ``/readyz`` what it is waiting for.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Literal

import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from stash2plex.common import metrics, topology
from stash2plex.common.embedded import EmbeddedNats, config_from_settings
from stash2plex.common.readiness import Check, CheckResult, ReadinessReport, plex_check, run_checks, stash_check
from stash2plex.common.settings import CommonSettings
from stash2plex.common.subjects import control_subject

log = logging.getLogger(__name__)

Dependency = Literal["stash", "plex"]
OnConnected = Callable[[JetStreamContext], Awaitable[None]]
OnStopping = Callable[[], Awaitable[None]]
ControlHandler = Callable[[dict[str, object]], Awaitable[dict[str, object]]]

GAUGE_REFRESH_S = 15.0


class ServiceRuntime:
    """The broker connection and health of one service process."""

    def __init__(self, service: str, settings: CommonSettings, needs: tuple[Dependency, ...] = ()) -> None:
        self.service = service
        self.settings = settings
        self.needs = needs
        self.nc: NatsClient | None = None
        self.js: JetStreamContext | None = None
        self.embedded: EmbeddedNats | None = None
        self.topology_ready = asyncio.Event()
        self.topology_error: str | None = None
        self.started_at = time.time()
        self._on_connected: list[OnConnected] = []
        self._on_stopping: list[OnStopping] = []
        self._control: dict[str, ControlHandler] = {"status": self._status}
        self._checks: dict[str, Check] = {"nats": self._nats_check}
        self._tasks: list[asyncio.Task[None]] = []
        self._last_error_log = (0.0, "")
        self._stopping = False
        for dependency in needs:
            self._checks[dependency] = stash_check(settings) if dependency == "stash" else plex_check(settings)
        metrics.BUILD_INFO.labels(service).info({"version": _version()})

    # -- extension points for the service itself ------------------------------------------
    def on_connected(self, callback: OnConnected) -> None:
        """Run ``callback`` after every (re)connection once the topology exists (e.g. ensure consumers)."""
        self._on_connected.append(callback)

    def on_stopping(self, callback: OnStopping) -> None:
        """Run ``callback`` first on shutdown, while NATS is still connected (finish or release jobs)."""
        self._on_stopping.append(callback)

    def run_in_background(self, task: asyncio.Task[None]) -> None:
        """Cancel ``task`` when the service stops."""
        self._tasks.append(task)

    def add_check(self, name: str, check: Check) -> None:
        self._checks[name] = check

    def add_control(self, verb: str, handler: ControlHandler) -> None:
        """Answer ``s2p.ctl.<service>.<verb>`` requests with ``handler``."""
        self._control[verb] = handler

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def nats_url(self) -> str:
        if self.settings.nats.url:
            return self.settings.nats.url
        assert self.embedded is not None
        return self.embedded.url

    async def start(self) -> None:
        missing = self.settings.missing_for(*self.needs)
        for dependency in ("stash", "plex"):
            configured = not any(dependency.upper() in name for name in missing)
            metrics.DEPENDENCY_CONFIGURED.labels(self.service, dependency).set(1 if configured else 0)
        if missing:
            log.warning("not configured yet, waiting: set %s", ", ".join(missing))
        if not self.settings.nats.url:
            config = config_from_settings(self.settings.nats, self.settings.nats_store_dir)
            log.info("no NATS URL configured: starting the embedded nats-server on %s", config.url)
            self.embedded = await asyncio.to_thread(EmbeddedNats(config).start)
        self._tasks.append(asyncio.create_task(self._connect(), name="nats-connect"))
        self._tasks.append(asyncio.create_task(self._refresh_gauges(), name="queue-gauges"))

    async def stop(self) -> None:
        self._stopping = True
        for callback in self._on_stopping:
            try:
                await callback()
            except Exception:
                log.exception("a shutdown step failed")
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.nc is not None and not self.nc.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.nc.drain(), 5)
            with contextlib.suppress(Exception):
                await self.nc.close()
        metrics.NATS_CONNECTED.labels(self.service).set(0)
        if self.embedded is not None:
            await asyncio.to_thread(self.embedded.stop)

    async def _connect(self) -> None:
        self.nc = await nats.connect(
            servers=[s.strip() for s in self.nats_url.split(",")],
            name=f"stash2plex-{self.service}",
            connect_timeout=self.settings.nats.connect_timeout_s,
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            error_cb=self._on_error,
            disconnected_cb=self._on_disconnected,
            reconnected_cb=self._on_reconnected,
        )
        self.js = self.nc.jetstream(timeout=self.settings.nats.request_timeout_s)
        metrics.NATS_CONNECTED.labels(self.service).set(1)
        log.info("connected to NATS at %s", self.nc.connected_url.netloc if self.nc.connected_url else "?")
        for verb in self._control:
            await self.nc.subscribe(control_subject(self.service, verb), queue=self.service, cb=self._answer_control)
        await self._prepare()

    async def _prepare(self) -> None:
        """Ensure the topology, then let the service set up its own consumers."""
        assert self.js is not None
        while True:
            try:
                done = await topology.ensure_topology(self.js, self.settings.nats)
                for callback in self._on_connected:
                    await callback(self.js)
            except topology.TopologyError as error:
                self.topology_error = str(error)
                log.error("%s", error)
                return
            except Exception as error:
                self.topology_error = f"{type(error).__name__}: {error}"
                log.warning("could not ensure the NATS topology yet (%s); retrying", self.topology_error)
                await asyncio.sleep(2)
                continue
            self.topology_error = None
            self.topology_ready.set()
            log.info("NATS topology ready: %s", ", ".join(f"{k} {v}" for k, v in done.items()))
            return

    def ensure_topology_soon(self) -> None:
        """Recreate missing streams in the background (someone deleted one, or the store was lost)."""
        if self.js is None or any(t.get_name() == "nats-prepare" and not t.done() for t in self._tasks):
            return
        log.warning("a stream is missing; ensuring the NATS topology again")
        self.topology_ready.clear()
        self._tasks.append(asyncio.create_task(self._prepare(), name="nats-prepare"))

    async def _on_error(self, error: Exception) -> None:
        now, text = time.monotonic(), f"{type(error).__name__}: {error}"
        last_at, last_text = self._last_error_log
        if text != last_text or now - last_at > 60:
            log.warning("NATS connection problem: %s", text)
            self._last_error_log = (now, text)

    async def _on_disconnected(self) -> None:
        metrics.NATS_CONNECTED.labels(self.service).set(0)
        if self._stopping:
            return
        metrics.NATS_DISCONNECTS.labels(self.service).inc()
        log.warning("disconnected from NATS; reconnecting")

    async def _on_reconnected(self) -> None:
        metrics.NATS_CONNECTED.labels(self.service).set(1)
        log.info("reconnected to NATS")
        # The broker may have come back with a fresh store: make sure everything exists again.
        self._tasks.append(asyncio.create_task(self._prepare(), name="nats-prepare"))

    # -- health and control ----------------------------------------------------------------
    async def _nats_check(self) -> CheckResult:
        if self.nc is None or not self.nc.is_connected:
            return CheckResult(name="nats", ok=False, detail=f"not connected to {self.nats_url}")
        if self.topology_error:
            return CheckResult(name="nats", ok=False, detail=f"topology: {self.topology_error}")
        if not self.topology_ready.is_set():
            return CheckResult(name="nats", ok=False, detail="connected, ensuring streams")
        return CheckResult(
            name="nats", ok=True, detail=self.nats_url if not self.embedded else f"{self.nats_url} (embedded)"
        )

    async def readiness(self) -> ReadinessReport:
        report = await run_checks(self.service, self._checks)
        for check in report.checks:
            metrics.DEPENDENCY_UP.labels(self.service, check.name).set(1 if check.ok else 0)
        return report

    async def _status(self, _request: dict[str, object]) -> dict[str, object]:
        report = await self.readiness()
        return {**report.model_dump(), "uptime_s": round(time.time() - self.started_at, 1), "version": _version()}

    async def _answer_control(self, msg: Msg) -> None:
        verb = msg.subject.rsplit(".", 1)[-1]
        try:
            request = json.loads(msg.data) if msg.data else {}
            if not isinstance(request, dict):
                raise ValueError("a control request is a JSON object")
            answer: dict[str, object] = {"ok": True, **(await self._control[verb](request))}
        except Exception as error:
            log.exception("control request %s failed", verb)
            answer = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        await msg.respond(json.dumps(answer, default=str).encode())

    async def _refresh_gauges(self) -> None:
        """Queue depth and ack-pending for dashboards, read from the broker every few seconds."""
        await self.topology_ready.wait()
        while True:
            if self.js is not None and self.nc is not None and self.nc.is_connected:
                with contextlib.suppress(Exception):
                    await self._read_queue_state(self.js)
            await asyncio.sleep(GAUGE_REFRESH_S)

    async def _read_queue_state(self, js: JetStreamContext) -> None:
        for stream in (topology.SYNC_STREAM, topology.GAPS_STREAM, topology.DLQ_STREAM):
            info = await js.stream_info(stream)
            metrics.STREAM_MESSAGES.labels(stream).set(info.state.messages)
        for stream, consumer in (
            (topology.SYNC_STREAM, topology.SYNC_CONSUMER),
            (topology.GAPS_STREAM, topology.GAPS_CONSUMER),
        ):
            try:
                cinfo = await js.consumer_info(stream, consumer)
            except NotFoundError:
                continue
            metrics.CONSUMER_PENDING.labels(consumer).set(cinfo.num_pending or 0)
            metrics.CONSUMER_ACK_PENDING.labels(consumer).set(cinfo.num_ack_pending or 0)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("stash2plex-common")
    except PackageNotFoundError:
        return "0+unknown"
