"""Benchmark: Stash hook → JetStream-acknowledged, through one uvicorn worker of ingest.

    python tests/bench/ingest.py

Prints latency p50/p99 at 200 req/s, the highest sustained rate, and the forwarder's own
wall time per hook (process start to exit) with ingest up and down; the last line is JSON.
Targets (issue 3): p99 <= 10 ms at 200 req/s, >= 1,500 hooks/s, forwarder <= 80 ms up and
<= 1.5 s down.
"""

from __future__ import annotations

import asyncio
import json
import socket
import statistics
import sys
import tempfile
import threading
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench._load import closed_loop, open_loop
from tests.harness.broker import running_broker
from tests.harness.net import free_port
from tests.harness.plugin import InstalledPlugin
from tests.harness.services import ServiceProcess

TOKEN = "bench-token-0123456789"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
SCENES = 5000


def body(n: int) -> bytes:
    event = {"event_id": uuid.uuid4().hex, "type": "Scene.Update.Post", "id": n % SCENES, "inputFields": ["title"]}
    return json.dumps(event).encode()


def forwarder_ms(plugin: InstalledPlugin, runs: int) -> float:
    times = [plugin.run_hook("Scene.Update.Post", n).seconds for n in range(runs)]
    return statistics.median(times) * 1000


def hung_listener() -> tuple[int, socket.socket]:
    """A port that accepts connections and never answers: ingest hanging, the worst 'down'."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    held: list[socket.socket] = []

    def accept_forever() -> None:
        while True:
            held.append(sock.accept()[0])

    threading.Thread(target=accept_forever, daemon=True).start()
    return int(sock.getsockname()[1]), sock


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with running_broker(tmp / "nats") as broker:
            env = {
                "STASH2PLEX_NATS__URL": broker.url,
                "STASH2PLEX_INGEST__TOKEN": TOKEN,
                "STASH2PLEX_LOG__LEVEL": "WARNING",
            }
            with ServiceProcess("ingest", env, tmp) as ingest:
                ingest.wait_ready(check="nats")
                port = ingest.port
                warm = asyncio.run(closed_loop("127.0.0.1", port, "/v1/hooks/stash", body, HEADERS, 2.0, 16))
                at_200 = asyncio.run(
                    open_loop("127.0.0.1", port, "/v1/hooks/stash", body, HEADERS, rate=200, total=3000)
                )
                peak = max(
                    (
                        asyncio.run(closed_loop("127.0.0.1", port, "/v1/hooks/stash", body, HEADERS, 5.0, c))
                        for c in (16, 64)
                    ),
                    key=lambda r: r.rate,
                )
                plugin = InstalledPlugin(tmp / "plugin", ingest.url, TOKEN)
                up_ms = forwarder_ms(plugin, 30)
            refused = InstalledPlugin(tmp / "plugin-refused", f"http://127.0.0.1:{free_port()}", TOKEN)
            refused_ms = forwarder_ms(refused, 10)
            hung_port, _keep = hung_listener()
            hung = InstalledPlugin(tmp / "plugin-hung", f"http://127.0.0.1:{hung_port}", TOKEN)
            hung_ms = forwarder_ms(hung, 5)

    assert set(at_200.statuses) == {202}, at_200.statuses
    assert set(peak.statuses) == {202}, peak.statuses
    print(f"warm-up: {len(warm.latencies_s)} hooks")
    print(
        f"at 200 req/s ({len(at_200.latencies_s)} hooks): p50 {at_200.percentile_ms(0.5):.2f} ms, "
        f"p99 {at_200.percentile_ms(0.99):.2f} ms (hook accepted = JetStream acknowledged)"
    )
    print(f"max sustained: {peak.rate:.0f} hooks/s (p99 {peak.percentile_ms(0.99):.1f} ms)")
    print(
        f"forwarder per hook: {up_ms:.1f} ms with ingest up; "
        f"{refused_ms:.1f} ms refused; {hung_ms:.1f} ms hung (spooled)"
    )
    print(
        json.dumps(
            {
                "p50_ms": round(at_200.percentile_ms(0.5), 3),
                "p99_ms": round(at_200.percentile_ms(0.99), 3),
                "max_rps": round(peak.rate),
                "forwarder_ms_up": round(up_ms, 1),
                "forwarder_ms_down": round(max(refused_ms, hung_ms), 1),
            }
        )
    )


if __name__ == "__main__":
    main()
