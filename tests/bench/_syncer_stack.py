"""Plumbing for ``tests/bench/syncer.py``: simulators outside pytest, production settings,
``/metrics`` scraping and per-process CPU accounting, so the benchmark itself reads as its method."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from nats.js import JetStreamContext

from stash2plex.common.contracts import SyncJob, SyncReason
from stash2plex.syncer.settings import SyncerOptions
from tests.harness.broker import Broker
from tests.harness.library import Libraries, paired_libraries
from tests.harness.services import ServiceProcess
from tests.harness.syncer import FAST, pending, start_syncer
from tests.sims.plex.model import Library
from tests.sims.plex.sim import PlexSim
from tests.sims.stash.fixtures import SIM_API_KEY
from tests.sims.stash.generate import make_scenes
from tests.sims.stash.server import StashSim

PREFIX = "STASH2PLEX_SYNCER__"


def production(**overrides: str) -> dict[str, str]:
    """The harness's FAST settings put back to the syncer's own defaults, then ``overrides``.

    Read from :class:`SyncerOptions` so the benchmark follows the defaults when they change.
    """
    defaults = SyncerOptions()
    env = {name: str(getattr(defaults, name[len(PREFIX) :].lower())) for name in FAST if name.startswith(PREFIX)}
    env["STASH2PLEX_LOG__LEVEL"] = "INFO"
    env.update(overrides)
    return env


SIM_SWITCH_INTERVAL_S = 0.001
"""Both simulators share this process's GIL. At Python's default 5 ms, a Plex reply that is due
waits behind a Stash answer being built, and "Plex answers in 50 ms" becomes 70-80 ms."""


@contextmanager
def simulated_libraries(scenes: int, seed: int) -> Iterator[Libraries]:
    """A Stash and a Plex simulator in this process, paired by file path (the fixtures' way)."""
    started: list[StashSim | PlexSim] = []
    sys.setswitchinterval(SIM_SWITCH_INTERVAL_S)

    def stash_factory(*, scenes: int, seed: int) -> StashSim:
        sim = StashSim(make_scenes(scenes, seed), api_key=SIM_API_KEY)
        started.append(sim)
        return sim.start()

    def plex_factory(library: Library) -> PlexSim:
        sim = PlexSim(library)
        started.append(sim)
        sim.start()
        return sim

    try:
        yield paired_libraries(stash_factory, plex_factory, scenes=scenes, seed=seed)
    finally:
        for sim in reversed(started):
            if isinstance(sim, PlexSim):
                sim.faults.clear()
            else:
                sim.faults.reset()
            sim.stop()


def syncer(broker: Broker, libraries: Libraries, tmp: Path, name: str, **overrides: str) -> ServiceProcess:
    """A syncer process with production settings (plus ``overrides``), consuming once this returns."""
    service = start_syncer(broker, libraries, tmp, name=name, **production(**overrides))
    report = service.wait_ready(check="circuit")
    if not any(c["name"] == "circuit" and c["ok"] for c in report.get("checks", [])):
        raise RuntimeError(f"{name} did not start consuming: {report}\n{service.log()}")
    return service


# -- /metrics ---------------------------------------------------------------------------------


def scrape(url: str) -> dict[str, float]:
    """Every sample of a Prometheus text page, keyed by its name and labels as printed."""
    samples: dict[str, float] = {}
    for line in httpx.get(url + "/metrics", timeout=5).text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            samples[key] = float(value)
    return samples


@dataclass(frozen=True)
class JobTimes:
    """The syncer's job and external-wait histograms between two scrapes."""

    jobs: int
    job_s: float
    stash_s: float
    plex_s: float

    @classmethod
    def between(cls, before: dict[str, float], after: dict[str, float]) -> JobTimes:
        def delta(key: str) -> float:
            return after.get(key, 0.0) - before.get(key, 0.0)

        return cls(
            jobs=round(delta("stash2plex_syncer_job_seconds_count")),
            job_s=delta("stash2plex_syncer_job_seconds_sum"),
            stash_s=delta('stash2plex_syncer_external_seconds_sum{system="stash"}'),
            plex_s=delta('stash2plex_syncer_external_seconds_sum{system="plex"}'),
        )

    def per_job_ms(self, seconds: float) -> float:
        return seconds / self.jobs * 1000 if self.jobs else float("nan")

    @property
    def own_ms(self) -> float:
        """Job time not spent waiting on Stash or Plex: the syncer's own overhead."""
        return self.per_job_ms(self.job_s - self.stash_s - self.plex_s)


def outcomes(samples: dict[str, float]) -> dict[str, int]:
    prefix = 'stash2plex_syncer_jobs_total{outcome="'
    return {k[len(prefix) : -2]: round(v) for k, v in samples.items() if k.startswith(prefix)}


# -- CPU --------------------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(stat: Path) -> float:
    """User plus system CPU seconds so far of a process (all its threads) or of one thread."""
    fields = stat.read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_s() -> tuple[float, float]:
    """CPU seconds every core has been busy so far, and how much of it was stolen by the hypervisor."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / TICK, steal / TICK


@dataclass
class CpuMeter:
    """CPU used by each process of the stack over one phase; ``bench`` is this process (the simulators)."""

    stats: dict[str, Path]
    started: dict[str, float] = field(default_factory=dict)
    used: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0

    def __enter__(self) -> CpuMeter:
        self.started = self._now()
        self.wall = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        ended = self._now()
        self.wall = time.perf_counter() - self.wall
        self.used = {name: ended[name] - self.started[name] for name in ended}

    def _now(self) -> dict[str, float]:
        busy, steal = machine_s()
        now = {"bench": time.process_time(), **{name: cpu_s(stat) for name, stat in self.stats.items()}}
        return {**now, "machine": busy, "steal": steal}

    def summary(self) -> str:
        """e.g. ``bench 71% · syncer 66% · … · other processes 3% (of 200%)``: percent of one core."""
        ours = sum(v for k, v in self.used.items() if k not in {"machine", "steal"} and "thread" not in k)
        shown = {k: v for k, v in self.used.items() if k not in {"machine", "steal"}}
        shown["other processes"] = max(0.0, self.used["machine"] - self.used["steal"] - ours)
        shown["stolen"] = self.used["steal"]
        parts = " · ".join(f"{name} {used / self.wall * 100:.0f}%" for name, used in shown.items())
        return f"{parts} (of {os.cpu_count() or 1}00%)"


def processes(broker: Broker, **services: ServiceProcess) -> dict[str, Path]:
    """The stat files to meter: each service, its event-loop (main) thread, and the broker."""
    found: dict[str, Path] = {}
    for name, service in services.items():
        if service.process is not None:
            pid = service.process.pid
            found[name] = Path(f"/proc/{pid}/stat")
            found[f"{name} loop thread"] = Path(f"/proc/{pid}/task/{pid}/stat")
    if broker.embedded is not None and broker.embedded.process is not None:
        found["nats"] = Path(f"/proc/{broker.embedded.process.pid}/stat")
    return found


# -- what the libraries and the logs say ------------------------------------------------------


def own_path_scenes(libraries: Libraries) -> set[int]:
    """Scenes none of whose files another scene shares (the generator repeats ``intro.*`` in a folder).

    Two scenes with one path both edit the same Plex items, so only the last write shows.
    """
    data = libraries.stash.data
    users = Counter(data.file_path(f) for scene in data.scenes.values() for f in scene.files)
    return {s.id for s in data.scenes.values() if all(users[data.file_path(f)] == 1 for f in s.files)}


def in_step(libraries: Libraries) -> str:
    own = own_path_scenes(libraries)
    done = own & set(libraries.in_step())
    return f"{len(done)}/{len(own)} scenes in step ({len(libraries.rating_keys) - len(own)} share a file path)"


def warnings(log: Path, top: int = 4) -> str:
    """The most frequent WARNING/ERROR messages of a service log, numbers blanked."""
    seen: Counter[str] = Counter()
    for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("level") in {"WARNING", "ERROR", "CRITICAL"}:
            seen[re.sub(r"\d+(\.\d+)?", "N", str(record.get("message", "")))[:90]] += 1
    return "; ".join(f"{n}× {message}" for message, n in seen.most_common(top)) or "none"


# -- the queue --------------------------------------------------------------------------------


async def queue(js: JetStreamContext, scene_ids: list[int], chunk: int = 500) -> None:
    """Publish one sync job per scene, ``chunk`` acknowledgements awaited together (10,000 in ~2 s)."""
    for start in range(0, len(scene_ids), chunk):
        jobs = [SyncJob(scene_id=str(s), reason=SyncReason.MANUAL) for s in scene_ids[start : start + chunk]]
        await asyncio.gather(*(js.publish(j.subject, j.to_bytes(), headers={"Nats-Msg-Id": j.msg_id}) for j in jobs))


async def warm_up(js: JetStreamContext, scene_ids: list[int]) -> None:
    """Connect, read Plex's listing with one job alone, then the rest: the index is not built concurrently.

    (Jobs racing the first index build fail with "no Plex item" and retry only after
    ``retry_not_found_base_s``, a minute by default; the benchmark keeps that out of its figures.)
    """
    for batch in (scene_ids[:1], scene_ids[1:]):
        await queue(js, batch)
        if await drained(js, 90) is None:
            raise RuntimeError(f"the warm-up jobs did not finish: {await pending(js)} left")


async def drained(js: JetStreamContext, within_s: float, every_s: float = 0.05) -> float | None:
    """Seconds until the SYNC stream is empty (every job acknowledged), or None if it did not empty."""
    started = time.perf_counter()
    while time.perf_counter() - started < within_s:
        if await pending(js) == 0:
            return time.perf_counter() - started
        await asyncio.sleep(every_s)
    return None


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (what ``tests/bench/_load.py`` reports too)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def plain(value: Any) -> Any:
    """A JSON-friendly figure: rounded, NaN as null."""
    if isinstance(value, float):
        return None if value != value else round(value, 2)
    return value
