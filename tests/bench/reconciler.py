"""Benchmark: one full reconciliation pass over 100,000 Stash scenes against 100,000 Plex items.

    python tests/bench/reconciler.py

The libraries are generated in this process (paired by file path through a path rule), then each
simulator is forked into a process of its own with them (:mod:`tests.bench._forked`), so Stash's
GraphQL, Plex's XML and this process's seeding do not queue for one GIL. The reconciler runs as its
own process with its default settings, so its peak resident memory (``VmHWM``) is its own. Most
scenes are in step (their sync records are seeded into NATS KV as the syncer would have written
them); a known number of each gap kind is planted:

* ``missing_in_stash``: Plex items no scene has;
* ``missing_in_plex``: scenes whose files Plex does not have;
* ``plex_empty``: Plex items emptied of their metadata;
* ``stale``: scenes changed in Stash after their last sync, and scenes never synced.

Printed: the setup, the pass's duration and throughput, the reconciler's peak RSS and CPU, the
simulators' and the broker's CPU and the machine's load during the pass, the gaps by kind; last, one JSON line with
``pass_s_100k``, ``peak_rss_mb`` and ``gaps_found`` (and the other figures).
Targets (issue 7): pass <= 60 s, peak RSS <= 300 MB.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import nats
from nats.js import JetStreamContext

from stash2plex.common import topology
from stash2plex.common.settings import NatsSettings, StashSettings
from stash2plex.common.stash.client import StashClient
from stash2plex.common.stash.models import Scene
from stash2plex.reconciler.plex_side import COMPARED_FIELDS
from stash2plex.syncer.mapping import desired_metadata
from stash2plex.syncer.settings import SyncerOptions
from stash2plex.syncer.sync_record import ItemRecord, SyncRecord, record_key, value_hash
from tests.bench._forked import ForkedSim
from tests.bench._syncer_stack import cpu_s, machine_s
from tests.harness.broker import running_broker
from tests.harness.reconciler import reconciler_process, run_pass
from tests.sims.plex.generate import make_library
from tests.sims.plex.sim import PlexSim
from tests.sims.stash.fixtures import SIM_API_KEY
from tests.sims.stash.server import StashSim
from tests.sims.stash.store import StashData

ITEMS = 100_000
PLANTED = 500
"""Of each kind (stale twice: changed after the sync, and never synced)."""
RULES = [{"stash": "^/stash/", "plex": "/"}]
TARGET_S, TARGET_MB = 60.0, 300.0


def build_libraries() -> tuple[StashData, Any, dict[str, int]]:
    """100,000 generated Plex movies and the Stash scenes of all but a few, their metadata alike."""
    library = make_library(ITEMS)
    data = StashData()
    old = datetime(2025, 6, 1, tzinfo=UTC)
    studios: dict[str, int] = {}
    performers: dict[str, int] = {}
    tags: dict[str, int] = {}

    def entity(table: dict[str, int], name: str, add: Any) -> int:
        if name not in table:
            table[name] = add(name, created_at=old).id
        return table[name]

    planted = {"missing_in_stash": 0, "missing_in_plex": 0, "plex_empty": 0}
    for rk in range(1, ITEMS + 1):
        # Kept (``get``, not ``find``): the simulator then lists the very same items without
        # generating each one again during the pass, as a real Plex reads its database.
        item = library.get(rk)
        if rk <= PLANTED:
            planted["missing_in_stash"] += 1  # a Plex item without a scene
            continue
        data.add_scene(
            id=rk,
            title=item.title,
            details=item.summary,
            code=item.tagline,
            date=item.originally_available_at,
            studio_id=entity(studios, item.studio or "", data.add_studio),
            performer_ids=[entity(performers, t.tag, data.add_performer) for t in item.tags.get("actor", [])],
            tag_ids=[entity(tags, t.tag, data.add_tag) for t in item.tags.get("genre", [])],
            paths=["/stash" + item.files[0]],
            created_at=old,
            updated_at=old,
        )
        if rk <= 2 * PLANTED:  # emptied in Plex (after its scene took the metadata)
            item.studio = item.summary = item.originally_available_at = None
            item.tags = {}
            planted["plex_empty"] += 1
    for n in range(PLANTED):  # files Plex has not scanned (in a folder no library holds: no scan)
        data.add_scene(id=ITEMS + 1 + n, title=f"New {n}", paths=[f"/stash/incoming/new {n}.mp4"], created_at=old)
        planted["missing_in_plex"] += 1
    return data, library, planted


async def seed_records(js: JetStreamContext, stash_url: str, library: Any) -> dict[str, int]:
    """Sync records as the syncer leaves them, for every scene Plex has, read through the real client."""
    options = SyncerOptions()
    kv = await js.key_value(topology.SYNC_RECORDS_BUCKET)
    slots = asyncio.Semaphore(256)
    counts = {"stale_changed": 0, "stale_never": 0, "records": 0}
    now = datetime.now(UTC)

    async def put(record: SyncRecord) -> None:
        async with slots:
            await kv.put(record_key(record.scene_id), record.model_dump_json().encode())

    puts: list[asyncio.Task[None]] = []
    settings = StashSettings(url=stash_url, api_key=SIM_API_KEY, timeout_s=120)
    async with StashClient(settings) as stash:
        page = 1
        while True:
            result = await stash.compare_scenes_page(page, 1000)
            for scene in result.scenes:
                record = in_step_record(scene, options, stash_url, library, now)
                if record is None:
                    continue
                number = int(scene.id)
                if 2 * PLANTED < number <= 3 * PLANTED:  # changed in Stash since: an older record
                    record = record.model_copy(update={"stash_updated_at": scene.updated_at - timedelta(hours=1)})
                    counts["stale_changed"] += 1
                elif 3 * PLANTED < number <= 4 * PLANTED:  # never synced: no record at all
                    counts["stale_never"] += 1
                    continue
                puts.append(asyncio.create_task(put(record)))
                counts["records"] += 1
            if not result.has_next:
                break
            page += 1
    await asyncio.gather(*puts)
    return counts


def in_step_record(
    scene: Scene, options: SyncerOptions, stash_url: str, library: Any, now: datetime
) -> SyncRecord | None:
    rk = int(scene.id)
    item = library.find(rk) if rk <= ITEMS else None
    if item is None:
        return None
    desired = desired_metadata(scene, options.fields, options.write, photo_base_url=stash_url)
    shown = {
        "title": item.title,
        "titleSort": item.sort_title,
        "summary": item.summary or "",
        "tagline": item.tagline or "",
        "originallyAvailableAt": item.originally_available_at or "",
        "year": str(item.year) if item.year else "",
        "studio": item.studio or "",
    }
    written = {
        name: value_hash(want)
        for name, want in desired.fields.items()
        if want and name in COMPARED_FIELDS and shown.get(name) == want
    }
    return SyncRecord(
        scene_id=scene.id,
        stash_updated_at=scene.updated_at,
        content_hash=desired.content_hash,
        items=(ItemRecord(rating_key=str(rk), section_id=str(item.section_id), written=written),),
        confidence="path",
        synced_at=now,
    )


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


async def bench(tmp: Path, library: Any, planted: dict[str, int], stash: ForkedSim, plex: ForkedSim) -> dict[str, Any]:
    stash_url = stash.info["url"]
    with running_broker(tmp / "nats") as broker:
        nc = await nats.connect(broker.url)
        js = nc.jetstream(timeout=10)
        await topology.ensure_topology(js, NatsSettings())
        seeded_at = time.perf_counter()
        counts = await seed_records(js, stash_url, library)
        print(f"setup: {counts['records']:,} sync records seeded in {time.perf_counter() - seeded_at:.0f} s")
        expected = {
            "plex_empty": planted["plex_empty"],
            "stale": counts["stale_changed"] + counts["stale_never"],
            "missing_in_plex": planted["missing_in_plex"],
            "missing_in_stash": planted["missing_in_stash"],
        }
        env = {
            "STASH2PLEX_NATS__URL": broker.url,
            "STASH2PLEX_DATA_DIR": str(tmp / "data"),
            "STASH2PLEX_STASH__URL": stash_url,
            "STASH2PLEX_STASH__API_KEY": SIM_API_KEY,
            "STASH2PLEX_STASH__TIMEOUT_S": "120",
            "STASH2PLEX_PLEX__URL": plex.info["url"],
            "STASH2PLEX_PLEX__TOKEN": plex.info["token"] or "",
            "STASH2PLEX_PLEX__TIMEOUT_S": "120",
            "STASH2PLEX_PATHS__RULES": json.dumps(RULES),
            "STASH2PLEX_LOG__LEVEL": "WARNING",
        }
        service = reconciler_process(env, tmp).start()
        try:
            service.wait_ready(check="nats")
            assert service.process is not None
            stat = Path(f"/proc/{service.process.pid}/stat")
            assert broker.embedded is not None
            assert broker.embedded.process is not None
            nats_stat = Path(f"/proc/{broker.embedded.process.pid}/stat")
            cpu_before, sims_before = cpu_s(stat), (stash.cpu_s(), plex.cpu_s(), cpu_s(nats_stat))
            machine_before, clock_before = machine_s()[0], time.perf_counter()
            record = await run_pass(nc, within_s=600)
            cpu = cpu_s(stat) - cpu_before
            stash_cpu, plex_cpu = stash.cpu_s() - sims_before[0], plex.cpu_s() - sims_before[1]
            nats_cpu = cpu_s(nats_stat) - sims_before[2]
            busy = (machine_s()[0] - machine_before) / (time.perf_counter() - clock_before)
            load = os.getloadavg()[0]
            rss = peak_rss_mb(service.process.pid)
        finally:
            service.stop()
            await nc.close()
    seconds = record.duration_s
    print(
        f"pass: {record.outcome}, {record.scenes_compared:,} scenes against {record.plex_items:,} Plex items "
        f"in {seconds:.1f} s ({record.scenes_compared / max(seconds, 1e-9):,.0f} scenes/s); "
        f"reconciler CPU {cpu:.1f} s, peak RSS {rss:.0f} MB"
    )
    print(f"CPU of the others during the pass: Stash {stash_cpu:.1f} s, Plex {plex_cpu:.1f} s, NATS {nats_cpu:.1f} s")
    print(
        f"machine: {busy:.2f} of {os.cpu_count()} cores busy during the pass (everyone's), load {load:.2f} at its end"
    )
    print(f"gaps: {record.gaps} (planted {expected})")
    if record.gaps != expected:
        print("GAPS DIFFER FROM WHAT WAS PLANTED")
    return {
        "pass_s_100k": round(seconds, 1),
        "peak_rss_mb": round(rss, 1),
        "gaps_found": sum(record.gaps.values()),
        "gaps_by_kind": record.gaps,
        "gaps_as_planted": record.gaps == expected,
        "reconciler_cpu_s": round(cpu, 1),
        "stash_sim_cpu_s": round(stash_cpu, 1),
        "plex_sim_cpu_s": round(plex_cpu, 1),
        "nats_cpu_s": round(nats_cpu, 1),
        "machine_busy_cores": round(busy, 2),
        "load_1m": round(load, 2),
    }


def main() -> dict[str, Any]:
    started = time.perf_counter()
    data, library, planted = build_libraries()
    gc.freeze()  # the simulators' data lives for the whole run: keep the collector off it
    took = time.perf_counter() - started
    print(f"setup: {len(data.scenes):,} Stash scenes and {ITEMS:,} Plex items built in {took:.0f} s", flush=True)
    # Forked before any thread or event loop exists (see tests.bench._forked).
    with (
        tempfile.TemporaryDirectory(prefix="s2p-bench-reconciler-") as tmp,
        ForkedSim(lambda: StashSim(data, api_key=SIM_API_KEY), lambda sim: {"url": sim.url}, "stash") as stash,
        ForkedSim(lambda: PlexSim(library), lambda sim: {"url": sim.url, "token": sim.token}, "plex") as plex,
    ):
        return asyncio.run(bench(Path(tmp), library, planted, stash, plex))


if __name__ == "__main__":
    figures = main()
    met = figures["pass_s_100k"] <= TARGET_S and figures["peak_rss_mb"] <= TARGET_MB
    print("targets met" if met else f"TARGETS MISSED: pass <= {TARGET_S:.0f} s, peak RSS <= {TARGET_MB:.0f} MB")
    print(json.dumps(figures))
