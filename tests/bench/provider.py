"""Benchmark: the provider answering Plex at 50 concurrent requests, against the Stash simulator.

    python tests/bench/provider.py

Three processes: the Stash simulator (1,000 generated scenes), the provider (one uvicorn
worker, production settings), and this load generator (50 keep-alive connections, one
request in flight on each). Each figure is the p99 over bursts of 50 requests sent at once:

* match cold: a provider just started, every request a file never asked about (its full
  Stash path, as Plex sends it), so each one queries Stash;
* match warm: the same requests again, answered from the provider's caches;
* metadata cold: ``GET /library/metadata/<ratingKey>`` for scenes the provider never read.

Printed besides: p50s, the Stash simulator's own time per query (from the provider's
metrics), and a cold run of identical requests (50 Plex servers asking about one file:
one Stash query shared). The last line is JSON with ``match_p99_ms_cold``,
``match_p99_ms_warm`` and ``metadata_p99_ms_cold``. Targets (issue 6): match p99 <= 50 ms
cold and <= 5 ms warm, metadata p99 <= 50 ms cold.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
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
def stash_simulator() -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "tests.sims.stash", "--port", str(port), "--generate", str(SCENES)]
    command += ["--seed", str(SEED), "--api-key", API_KEY]
    process = subprocess.Popen(command, cwd=Path(__file__).resolve().parents[2], stdout=subprocess.DEVNULL)
    try:
        wait_for_port("127.0.0.1", port, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


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
    with ServiceProcess("provider", env, tmp) as provider:
        provider.wait_ready(check="stash", timeout=30)
        run(provider)


def main() -> None:
    data: StashData = make_scenes(SCENES, SEED)
    scenes = sorted(data.scenes.values(), key=lambda s: s.id)
    paths = [data.file_path(s.files[0]) for s in scenes if s.files]
    count = CONCURRENCY * BURSTS
    match_cold, match_warm, metadata_cold, identical = Sample(), Sample(), Sample(), Sample()
    stash_ms: dict[str, float] = {}
    matched_requests = [match_request(p) for p in paths[:count]]
    metadata_ids = [s.id for s in scenes[count : count * 2]]

    def run_match(provider: ServiceProcess) -> None:
        run(bursts(provider.port, [match_request(paths[-1])], Sample()))  # connections, imports
        run(bursts(provider.port, matched_requests, match_cold))
        warm = [matched_requests[i % count] for i in range(CONCURRENCY * WARM_BURSTS)]
        run(bursts(provider.port, warm[:count], Sample()))  # warm-up: every answer cached and sent once
        run(bursts(provider.port, warm, match_warm))
        run(bursts(provider.port, [metadata_request(i) for i in metadata_ids], metadata_cold))
        stash_ms.update(stash_seconds_per_query(provider.url))

    def run_identical(provider: ServiceProcess) -> None:
        run(bursts(provider.port, [match_request(paths[-1])], Sample()))
        for n in range(BURSTS):
            same = [match_request(paths[count + n])] * CONCURRENCY
            run(bursts(provider.port, same, identical))

    with tempfile.TemporaryDirectory() as tmp_name, stash_simulator() as stash_url:
        tmp = Path(tmp_name)
        with running_broker(tmp / "nats") as broker:
            env = provider_env(stash_url, broker.url)
            fresh_provider(env, tmp, run_match)
            fresh_provider(env, tmp, run_identical)

    for name, sample in (("match cold", match_cold), ("match warm", match_warm), ("metadata cold", metadata_cold)):
        assert set(sample.statuses) == {200}, (name, sample.statuses)
    print(f"{SCENES} scenes in the Stash simulator; bursts of {CONCURRENCY} concurrent requests")
    for name, sample in (("match cold", match_cold), ("match warm", match_warm), ("metadata cold", metadata_cold)):
        print(f"{name:14} ({len(sample.latencies_s)}): p50 {sample.p(0.5):.2f} ms, p99 {sample.p(0.99):.2f} ms")
    print(f"identical cold ({len(identical.latencies_s)}): p99 {identical.p(0.99):.1f} ms (one Stash query per burst)")
    print("Stash simulator per query: " + ", ".join(f"{k} {v:.1f} ms" for k, v in sorted(stash_ms.items())))
    print(
        json.dumps(
            {
                "match_p99_ms_cold": round(match_cold.p(0.99), 2),
                "match_p99_ms_warm": round(match_warm.p(0.99), 2),
                "metadata_p99_ms_cold": round(metadata_cold.p(0.99), 2),
                "match_p50_ms_cold": round(match_cold.p(0.5), 2),
                "match_p50_ms_warm": round(match_warm.p(0.5), 2),
                "metadata_p50_ms_cold": round(metadata_cold.p(0.5), 2),
                "identical_match_p99_ms_cold": round(identical.p(0.99), 2),
                "stash_ms_per_query": {k: round(v, 2) for k, v in stash_ms.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
