"""Benchmark: the syncer's Plex index and its writes, against a simulated library of 100,000 movies.

    python tests/bench/matching.py

The Plex simulator runs as its own process (as Plex would), generating 100,000 movies. Three
figures, each printed with its conditions, then one JSON line (last):

* index_build_s: the syncer's full read of every movie library into its path index (paged
  listing, as on a syncer's first miss);
* lookup_p50_ms / lookup_p99_ms: 10,000 scene lookups (path mapping + index) through
  ``Matcher.match``, the call a job makes, on the built index;
* writes_first / writes_unchanged (and reads_unchanged): 200 fully tagged scenes synced through
  ``PlexWriter`` (fields, genres, actors, collections, rating, poster and background), then the
  same 200 again with nothing changed, as the syncer does it (content hash in the sync record).

Targets (issue 5): index built in <= 30 s, lookup p99 <= 1 ms, zero writes for unchanged scenes.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from stash2plex.common.stash.models import Scene
from stash2plex.syncer.plex_index import MatchQuery
from stash2plex.syncer.settings import SyncerSettings
from stash2plex.syncer.sync_record import SyncRecord
from stash2plex.syncer.writer import PlexWriter, WriteContext
from tests.bench._syncer_stack import percentile, plain
from tests.harness.net import free_port
from tests.sims.plex.generate import make_library
from tests.sims.stash.images import jpeg

ITEMS = 100_000
LOOKUPS = 10_000
SCENES = 200
TOKEN = "bench-token-0123456789"
RULES = [{"stash": "^/stash/", "plex": "/"}]
"""Stash sees Plex's /media/movies as /stash/media/movies: every lookup maps its path."""
STASH = "http://stash.bench:9999"


def start_plex() -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    command = [sys.executable, "-m", "tests.sims.plex", "--port", str(port), "--token", TOKEN, "--generate", str(ITEMS)]
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    process = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    return process, url


def settings(url: str) -> SyncerSettings:
    return SyncerSettings(
        plex={"url": url, "token": TOKEN, "timeout_s": 120},
        stash={"url": STASH, "api_key": "bench"},
        paths={"rules": RULES},
        syncer={"write": {"screenshot_wait_s": 0}},
    )


def scene_for(index: int, file: str) -> Scene:
    """A fully identified scene whose file is the generated Plex item's file."""
    return Scene.model_validate(
        {
            "id": str(index + 1),
            "title": f"Bench scene {index} — ünïcødé 東京",
            "code": f"B-{index:05d}",
            "details": f"Details of scene {index}.\nSecond line.",
            "date": "2023-05-17",
            "rating100": 40 + index % 60,
            "created_at": datetime(2024, 1, 1, tzinfo=UTC),
            "updated_at": datetime(2024, 1, 2, tzinfo=UTC),
            "files": [{"id": str(index), "path": "/stash" + file, "basename": file.rsplit("/", 1)[-1]}],
            "paths": {"screenshot": f"{STASH}/scene/{index + 1}/screenshot?t=1704153600"},
            "studio": {"id": "1", "name": "Bench Studio"},
            "performers": [
                {"id": str(p), "name": f"Performer {p}", "image_path": f"{STASH}/performer/{p}/image?t=1"}
                for p in range(index % 3 + 1)
            ],
            "tags": [{"id": str(t), "name": f"Tag {t}"} for t in range(index % 20 + 1)],
            "groups": [{"group": {"id": "1", "name": "Bench Group"}, "scene_index": index}],
        }
    )


def cover(url: str) -> bytes:
    scene_id = int(url.split("/scene/")[1].split("/")[0])
    return jpeg("scene", scene_id, 0)


def sim_counts(url: str) -> tuple[int, int]:
    writes = httpx.get(url + "/__sim/writes", timeout=30).json()
    reads = httpx.get(url + "/__sim/reads", timeout=30).json()
    return len(writes), int(reads["total"])


def sync_all(writer: PlexWriter, scenes: list[Scene], records: dict[str, SyncRecord]) -> int:
    """One pass the way a job runs: skip what the record says is done, else write; returns items edited."""
    edited = 0
    for scene in scenes:
        desired = writer.prepare(scene)
        record = records.get(scene.id)
        if writer.up_to_date(desired, record):
            continue
        outcome = writer.write(desired, record, WriteContext(fetch=cover, stash_updated_at=scene.updated_at))
        if outcome.error is not None:
            raise outcome.error
        assert outcome.record is not None
        records[scene.id] = outcome.record
        edited += outcome.edited
    return edited


def main() -> dict[str, Any]:
    process, url = start_plex()
    try:
        writer = PlexWriter(settings(url))
        started, cpu = time.perf_counter(), time.process_time()
        index = writer.matcher.rebuild()
        build_s, build_cpu = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"index: {len(index):,} items in {build_s:.1f} s ({len(index) / build_s:,.0f} items/s; "
            f"syncer CPU {build_cpu:.1f} s, the rest is the simulated Plex rendering pages)"
        )

        library = make_library(ITEMS)  # the same deterministic items, to know their files here
        rng = random.Random(5)
        picks = [rng.randrange(1, ITEMS + 1) for _ in range(LOOKUPS)]
        queries = []
        for rk in picks:
            item = library.find(rk)
            assert item is not None
            queries.append(MatchQuery(scene_id=str(rk), files=("/stash" + item.files[0],)))
        latencies: list[float] = []
        for query, rk in zip(queries, picks, strict=True):
            begin = time.perf_counter()
            result = writer.matcher.match(query)
            latencies.append(time.perf_counter() - begin)
            assert result.rating_keys == (str(rk),), (result, rk)
        p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
        print(f"lookup: {LOOKUPS:,} scenes by mapped path, p50 {p50:.3f} ms, p99 {p99:.3f} ms, all found")

        scenes = []
        for n, rk in enumerate(rng.sample(range(1, ITEMS + 1), SCENES)):
            item = library.find(rk)
            assert item is not None
            scenes.append(scene_for(n, item.files[0]))
        records: dict[str, SyncRecord] = {}
        writes_before, _ = sim_counts(url)
        edited = sync_all(writer, scenes, records)
        writes_mid, reads_mid = sim_counts(url)
        again = sync_all(writer, scenes, records)
        writes_after, reads_after = sim_counts(url)
        first, unchanged = writes_mid - writes_before, writes_after - writes_mid
        print(
            f"writes: {SCENES} scenes synced once: {edited} items edited, {first} Plex writes "
            f"({first / SCENES:.1f} per scene: edit, rating, poster, background); "
            f"again unchanged: {again} edited, {unchanged} writes, {reads_after - reads_mid} reads"
        )
        return {
            "index_build_s": plain(build_s),
            "index_items": len(index),
            "lookup_p50_ms": plain(p50),
            "lookup_p99_ms": plain(p99),
            "writes_first": first,
            "writes_unchanged": unchanged,
            "reads_unchanged": reads_after - reads_mid,
        }
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    figures = main()
    targets = figures["index_build_s"] <= 30 and figures["lookup_p99_ms"] <= 1 and figures["writes_unchanged"] == 0
    print("targets met" if targets else "TARGETS MISSED: index <= 30 s, lookup p99 <= 1 ms, 0 unchanged writes")
    print(json.dumps(figures))
