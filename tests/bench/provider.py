"""Benchmark: the provider answering Plex at 50 concurrent requests, against the Stash simulator.

    python tests/bench/provider.py

Three processes: the Stash simulator (1,000 generated scenes), the provider (one uvicorn
worker, production settings), and this load generator (50 keep-alive connections, one
request in flight on each). Each figure is the p99 over bursts of 50 requests sent at once:

* match cold: a provider just started, every request a file never asked about (its full
  Stash path, as Plex sends it), so each one queries Stash;
* match warm: the same requests again, answered from the provider's caches;
* metadata cold: ``GET /library/metadata/<ratingKey>`` for scenes the provider never read.

The whole measurement runs :data:`RUNS` times, each with a fresh provider. The machines this
runs on share their CPUs with others, and a burst's p99 is how long the slowest burst took:
one stretch of a slower host moves a single run's figure by half. So each figure is the
median of the runs' p99s, and the worst run is printed (and in the JSON) beside it.

Printed besides: p50s; metadata asked right after each match (Plex's order: the match
brought the scene); a cold run of identical requests (one Stash query shared per burst);
the time the simulator alone needs for one burst's queries, the floor under every cold
figure; and the same warm bursts answered by uvicorn with an app that does nothing
(:mod:`._http_floor`), the floor under the warm figure, with the load generator's own CPU
per answer (how fast this machine is today). The last line is JSON with ``match_p99_ms_cold``, ``match_p99_ms_warm`` and
``metadata_p99_ms_cold`` first. Targets (issue 6): match p99 <= 50 ms cold and <= 5 ms warm,
metadata p99 <= 50 ms cold.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.harness.broker import running_broker
from tests.harness.net import free_port, wait_for_port
from tests.harness.services import ServiceProcess
from tests.sims.stash import StashData, make_scenes

SCENES = 1000
SEED = 7
API_KEY = "bench-api-key-0123456789"
CONCURRENCY = 50
BURSTS = 10
WARM_BURSTS = 40
RUNS = 5
MATCH_PATH = "/library/metadata/matches"


@dataclass
class Sample:
    latencies_s: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def p(self, q: float) -> float:
        ordered = sorted(self.latencies_s)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


class Connection:
    """One keep-alive HTTP/1.1 connection, parsing no more than the status and the length.

    The client shares the machine with the provider: the less it does per answer, the more
    the figures say about the provider rather than about the load generator.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def request(self, method: str, path: str, body: bytes = b"") -> int:
        assert self.reader is not None
        assert self.writer is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAccept: application/json\r\n"
        if method == "POST":
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        block = await self.reader.readuntil(b"\r\n\r\n")
        status = int(block[9:12])
        at = block.lower().find(b"content-length:")
        if at >= 0:
            length = int(block[at + 15 : block.index(b"\r\n", at)])
            if length:
                await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


Request = tuple[str, str, bytes]


def run(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run the load on uvloop (as the provider runs): a slower client would blur the figures."""
    uvloop.run(coroutine)


async def bursts(port: int, requests: list[Request], sample: Sample) -> None:
    """Send ``requests`` in bursts of :data:`CONCURRENCY`, all of a burst at once, one per connection."""
    connections = [await Connection("127.0.0.1", port).open() for _ in range(CONCURRENCY)]

    async def one(conn: Connection, request: Request) -> None:
        started = time.perf_counter()
        status = await conn.request(*request)
        sample.latencies_s.append(time.perf_counter() - started)
        sample.statuses[status] = sample.statuses.get(status, 0) + 1

    try:
        for start in range(0, len(requests), CONCURRENCY):
            batch = requests[start : start + CONCURRENCY]
            await asyncio.gather(*(one(c, r) for c, r in zip(connections, batch, strict=False)))
    finally:
        for conn in connections:
            conn.close()


def match_request(path: str) -> Request:
    return ("POST", MATCH_PATH, json.dumps({"type": 1, "filename": path, "manual": 0}).encode())


def metadata_request(scene_id: int) -> Request:
    return ("GET", f"/library/metadata/scene-{scene_id}", b"")


@contextmanager
def serving(module: str, *arguments: str, timeout: float = 30) -> Iterator[int]:
    """``python -m <module> --port <free port> <arguments>`` until the block ends; yields the port."""
    port = free_port()
    command = [sys.executable, "-m", module, "--port", str(port), *arguments]
    process = subprocess.Popen(command, cwd=Path(__file__).resolve().parents[2], stdout=subprocess.DEVNULL)
    try:
        wait_for_port("127.0.0.1", port, timeout=timeout)
        yield port
    finally:
        process.terminate()
        process.wait(10)


def http_floor(size: int) -> AbstractContextManager[int]:
    """The do-nothing server of :mod:`._http_floor` answering ``size`` bytes; yields its port."""
    return serving("tests.bench._http_floor", "--size", str(size))


@contextmanager
def stash_simulator() -> Iterator[str]:
    arguments = ("--generate", str(SCENES), "--seed", str(SEED), "--api-key", API_KEY)
    with serving("tests.sims.stash", *arguments, timeout=60) as port:
        yield f"http://127.0.0.1:{port}"


def provider_env(stash_url: str, nats_url: str) -> dict[str, str]:
    return {
        "STASH2PLEX_STASH__URL": stash_url,
        "STASH2PLEX_STASH__API_KEY": API_KEY,
        "STASH2PLEX_NATS__URL": nats_url,
        "STASH2PLEX_LOG__LEVEL": "WARNING",
    }


def stash_seconds_per_query(url: str) -> dict[str, float]:
    """Mean time Stash took per provider query, by lookup kind, from the provider's metrics."""
    text = httpx.get(url + "/metrics", timeout=5).text
    sums = dict(re.findall(r'stash2plex_provider_stash_seconds_sum\{lookup="(\w+)"\} ([0-9.e+-]+)', text))
    counts = dict(re.findall(r'stash2plex_provider_stash_seconds_count\{lookup="(\w+)"\} ([0-9.e+-]+)', text))
    return {k: float(sums[k]) / float(counts[k]) * 1000 for k in sums if float(counts.get(k, 0))}


def fresh_provider(env: dict[str, str], tmp: Path, run: Callable[[ServiceProcess], None]) -> None:
    """A provider started for ``run`` and stopped after it: empty caches."""
    with ServiceProcess("provider", env, tmp) as provider:
        provider.wait_ready(check="stash", timeout=30)
        run(provider)


def simulator_alone(stash_url: str, scene_ids: list[int], paths: list[str]) -> dict[str, float]:
    """Milliseconds the Stash simulator itself needs for one burst's queries, asked directly.

    This is the floor under every cold figure: the simulator executes GraphQL in Python on one
    thread, where a real Stash answers in Go, concurrently.
    """
    from pydantic import AnyHttpUrl, SecretStr

    from stash2plex.common.settings import StashSettings
    from stash2plex.provider.stash import ProviderStashClient, paths_regex

    async def measure() -> dict[str, float]:
        settings = StashSettings(url=AnyHttpUrl(stash_url), api_key=SecretStr(API_KEY), timeout_s=60)
        async with ProviderStashClient(settings) as client:
            await client.provider_scenes(ids=["1"], limit=1)
            started = time.perf_counter()
            await client.provider_scenes(ids=[str(i) for i in scene_ids], limit=len(scene_ids))
            by_ids = time.perf_counter() - started
            started = time.perf_counter()
            await client.provider_scenes(scene_filter=paths_regex(paths), limit=len(paths) * 25)
            by_paths = time.perf_counter() - started
        return {"ids": by_ids * 1000, "paths": by_paths * 1000}

    return asyncio.run(measure())


SAMPLES = ("match cold", "match warm", "metadata cold", "after match", "identical", "http floor")
NOTES = {
    "match cold": "files never asked about, full paths",
    "match warm": "the same files again",
    "metadata cold": "scenes never read",
    "after match": "metadata right after its match, Plex's order",
    "identical": "cold, 50 identical matches per burst",
    "http floor": "warm bursts, uvicorn with an app doing nothing",
}


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def main() -> None:
    data: StashData = make_scenes(SCENES, SEED)
    scenes = sorted(data.scenes.values(), key=lambda s: s.id)
    paths = [data.file_path(s.files[0]) for s in scenes if s.files]
    count = CONCURRENCY * BURSTS
    runs: list[dict[str, Sample]] = []
    stash_ms: dict[str, float] = {}
    floor: dict[str, float] = {}
    client_cpu_us: list[float] = []
    answer_bytes: list[int] = []
    matched = [s.id for s in scenes[:count]]
    matched_requests = [match_request(p) for p in paths[:count]]
    metadata_ids = [s.id for s in scenes[count : count * 2]]

    def run_match(provider: ServiceProcess, samples: dict[str, Sample]) -> None:
        run(bursts(provider.port, [match_request(paths[-1])], Sample()))  # connections, imports
        run(bursts(provider.port, matched_requests, samples["match cold"]))
        run(bursts(provider.port, [metadata_request(i) for i in matched], samples["after match"]))
        warm = [matched_requests[i % count] for i in range(CONCURRENCY * WARM_BURSTS)]
        run(bursts(provider.port, warm[:count], Sample()))  # warm-up: every answer cached and sent once
        started = time.process_time()
        run(bursts(provider.port, warm, samples["match warm"]))
        client_cpu_us.append((time.process_time() - started) / len(warm) * 1e6)
        answer_bytes.append(len(httpx.post(provider.url + MATCH_PATH, content=warm[0][2], timeout=5).content))
        run(bursts(provider.port, [metadata_request(i) for i in metadata_ids], samples["metadata cold"]))
        stash_ms.update(stash_seconds_per_query(provider.url))

    def run_identical(provider: ServiceProcess, samples: dict[str, Sample]) -> None:
        run(bursts(provider.port, [match_request(paths[-1])], Sample()))
        for n in range(BURSTS):
            same = [match_request(paths[count + n])] * CONCURRENCY
            run(bursts(provider.port, same, samples["identical"]))

    with tempfile.TemporaryDirectory() as tmp_name, stash_simulator() as stash_url:
        tmp = Path(tmp_name)
        with running_broker(tmp / "nats") as broker:
            env = provider_env(stash_url, broker.url)
            floor_requests = [matched_requests[0]] * (CONCURRENCY * WARM_BURSTS)
            for number in range(RUNS):
                samples = {name: Sample() for name in SAMPLES}
                fresh_provider(env, tmp, functools.partial(run_match, samples=samples))
                fresh_provider(env, tmp, functools.partial(run_identical, samples=samples))
                with http_floor(answer_bytes[-1]) as floor_port:
                    run(bursts(floor_port, floor_requests[:count], Sample()))
                    run(bursts(floor_port, floor_requests, samples["http floor"]))
                for name, sample in samples.items():
                    assert set(sample.statuses) == {200}, (number, name, sample.statuses)
                runs.append(samples)
                line = ", ".join(f"{n} p99 {s.p(0.99):.2f} ms" for n, s in samples.items())
                print(f"run {number + 1}/{RUNS}: {line}; load generator {client_cpu_us[-1]:.0f} µs CPU an answer")
        floor = simulator_alone(stash_url, metadata_ids[:CONCURRENCY], paths[count : count + CONCURRENCY])

    def p(name: str, q: float) -> list[float]:
        return [samples[name].p(q) for samples in runs]

    print(
        f"{SCENES} scenes in the Stash simulator; bursts of {CONCURRENCY} concurrent requests; "
        f"median of {RUNS} runs, p50 / p99 (worst run's p99):"
    )
    for name in SAMPLES:
        size = len(runs[0][name].latencies_s)
        print(
            f"  {name:14} {median(p(name, 0.5)):8.2f} / {median(p(name, 0.99)):8.2f} ms "
            f"({max(p(name, 0.99)):6.2f})  ({size} a run; {NOTES[name]})"
        )
    print(
        f"the simulator alone, one burst's work asked directly: {CONCURRENCY} scenes by id {floor['ids']:.0f} ms, "
        f"{CONCURRENCY} exact paths {floor['paths']:.0f} ms (a cold burst cannot answer faster)"
    )
    print(
        f"the load generator's own CPU per warm answer: {median(client_cpu_us):.0f} µs "
        f"({min(client_cpu_us):.0f}-{max(client_cpu_us):.0f}; the lower, the faster this machine is now)"
    )
    print(
        "Stash time per provider query (last run), queueing included: "
        + ", ".join(f"{k} {v:.1f} ms" for k, v in stash_ms.items())
    )
    figures = {
        "match_p99_ms_cold": median(p("match cold", 0.99)),
        "match_p99_ms_warm": median(p("match warm", 0.99)),
        "metadata_p99_ms_cold": median(p("metadata cold", 0.99)),
        "match_p99_ms_cold_worst_run": max(p("match cold", 0.99)),
        "match_p99_ms_warm_worst_run": max(p("match warm", 0.99)),
        "metadata_p99_ms_cold_worst_run": max(p("metadata cold", 0.99)),
        "match_p50_ms_cold": median(p("match cold", 0.5)),
        "match_p50_ms_warm": median(p("match warm", 0.5)),
        "metadata_p50_ms_cold": median(p("metadata cold", 0.5)),
        "metadata_after_match_p99_ms": median(p("after match", 0.99)),
        "identical_match_p99_ms_cold": median(p("identical", 0.99)),
        "simulator_burst_ms_ids": floor["ids"],
        "simulator_burst_ms_paths": floor["paths"],
        "http_floor_p99_ms_warm": median(p("http floor", 0.99)),
        "load_generator_cpu_us_per_answer": median(client_cpu_us),
    }
    print(json.dumps({**{k: round(v, 2) for k, v in figures.items()}, "runs": RUNS}))


if __name__ == "__main__":
    main()
