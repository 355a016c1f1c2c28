"""A small, fast HTTP/1.1 load generator on asyncio streams (keep-alive, one request in
flight per connection), so the benchmark measures ingest rather than a client library."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Results:
    latencies_s: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed_s: float = 0.0

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies_s)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def rate(self) -> float:
        return len(self.latencies_s) / self.elapsed_s if self.elapsed_s else 0.0


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        assert self.reader is not None
        assert self.writer is not None
        head = f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head += f"Content-Length: {len(body)}\r\n\r\n"
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        if length:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def open_loop(
    host: str,
    port: int,
    path: str,
    make_body: Callable[[int], bytes],
    headers: dict[str, str],
    rate: float,
    total: int,
    connections: int = 32,
) -> Results:
    """Send ``total`` requests at a fixed ``rate`` (requests start on schedule, not when the last ends)."""
    results = Results()
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        conn = Connection(host, port)
        await conn.open()
        pool.put_nowait(conn)

    async def one(n: int) -> None:
        conn = await pool.get()
        started = time.perf_counter()
        status = await conn.post(path, make_body(n), headers)
        results.latencies_s.append(time.perf_counter() - started)
        results.statuses[status] = results.statuses.get(status, 0) + 1
        pool.put_nowait(conn)

    tasks = []
    begin = time.perf_counter()
    for n in range(total):
        delay = begin + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n)))
    await asyncio.gather(*tasks)
    results.elapsed_s = time.perf_counter() - begin
    while not pool.empty():
        pool.get_nowait().close()
    return results


async def closed_loop(
    host: str,
    port: int,
    path: str,
    make_body: Callable[[int], bytes],
    headers: dict[str, str],
    seconds: float,
    connections: int,
) -> Results:
    """As fast as ingest answers, ``connections`` requests in flight, for ``seconds``."""
    results = Results()
    counter = iter(range(10**9))
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        conn = Connection(host, port)
        await conn.open()
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                status = await conn.post(path, make_body(next(counter)), headers)
                results.latencies_s.append(time.perf_counter() - started)
                results.statuses[status] = results.statuses.get(status, 0) + 1
        finally:
            conn.close()

    begin = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    results.elapsed_s = time.perf_counter() - begin
    return results
