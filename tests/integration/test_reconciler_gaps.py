"""A seeded pair of libraries with a known number of each gap kind: a pass finds exactly those, the
real syncer closes the actionable ones, and a second pass finds none left.

Plex is a Windows server here (``D:\\Media\\Videos\\…``, one letter case off) behind a path rule;
one scene has two files, each a Plex item of its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.errors import NoKeysError

from stash2plex.common.contracts import Gap, SyncJob, SyncReason
from stash2plex.common.topology import GAPS_CONSUMER, GAPS_STREAM, SYNC_RECORDS_BUCKET
from tests.harness.broker import Broker
from tests.harness.library import Libraries
from tests.harness.reconciler import reconciler_process, run_pass
from tests.harness.syncer import pending, start_syncer, syncer_env, wait_until
from tests.sims.plex.model import Library
from tests.sims.plex.sim import PlexSimFactory
from tests.sims.stash.fixtures import StashSimFactory
from tests.sims.stash.store import StashData

RULE = {"stash": "^/data/videos/(.*)$", "plex": "D:/Media/Videos/\\1", "plex_separator": "windows"}
RULES = [{**RULE, "case_sensitive": False}]
ROOT = "/data/videos"


def plex_path(stash_path: str) -> str:
    """What the Windows Plex shows for a Stash file (its own letter case for the drive folder)."""
    return "D:\\media\\Videos\\" + stash_path.removeprefix(ROOT + "/").replace("/", "\\")


@dataclass
class Seeded:
    libraries: Libraries
    keys: dict[int, list[int]]
    """Scene → its Plex items."""
    synced_first: list[int]
    renamed_performer: int
    stash_edited: int
    plex_edited: int
    missing_in_plex: list[int]
    missing_in_stash: list[int]
    plex_empty: list[int]
    never_synced_bare: int


def seed(stash_factory: StashSimFactory, plex_factory: PlexSimFactory) -> Seeded:
    data = StashData()
    old = datetime.now(UTC) - timedelta(days=30)
    studio = data.add_studio("Harbor Films", created_at=old)
    ada, ben = data.add_performer("Ada", created_at=old), data.add_performer("Ben", created_at=old)
    cleo = data.add_performer("Cleo", created_at=old)  # in one scene only
    tag = data.add_tag("Outdoor", created_at=old)

    def scene(n: int, *, bare: bool = False, files: int = 1, performer: int | None = None) -> int:
        paths = [f"{ROOT}/Harbor/scene {n}{'' if i == 0 else ' (copy)'}.mp4" for i in range(files)]
        if bare:
            return data.add_scene(title=f"Bare {n}", paths=paths, created_at=old, updated_at=old).id
        return data.add_scene(
            title=f"Scene {n}",
            details=f"Details of scene {n}.",
            date="2024-03-0" + str(n % 9 + 1),
            studio_id=studio.id,
            performer_ids=[performer or (ada.id if n % 2 else ben.id)],
            tag_ids=[tag.id],
            paths=paths,
            created_at=old,
            updated_at=old,
        ).id

    in_step = [scene(n) for n in range(1, 4)]
    renamed, stash_edited, plex_edited = scene(4, performer=cleo.id), scene(5), scene(6)
    two_files = scene(7, files=2)
    empty_one = scene(8)
    bare = scene(9, bare=True)
    lacking = [scene(10), scene(11)]

    library = Library()
    section = library.add_section("Stash Scenes", locations=["D:\\Media\\Videos"])
    keys: dict[int, list[int]] = {}
    for scene_id, record in data.scenes.items():
        if scene_id in lacking:
            for file in record.files:  # on disk, not scanned yet: a scan of the folder adds them
                library.stage_file(section.id, plex_path(data.file_path(file)))
            continue
        keys[scene_id] = [
            int(library.add_item(section.id, f"item {scene_id}", files=[plex_path(data.file_path(f))]).rating_key)
            for f in record.files
        ]
    orphans = [
        int(library.add_item(section.id, f"orphan {n}", files=[f"D:\\Media\\Videos\\Gone\\orphan {n}.mp4"]).rating_key)
        for n in (1, 2)
    ]
    stash = stash_factory(data)
    plex = plex_factory(library)
    first_keys = {scene_id: items[0] for scene_id, items in keys.items()}
    return Seeded(
        libraries=Libraries(stash=stash, plex=plex, section_id=section.id, rating_keys=first_keys),
        keys=keys,
        synced_first=[*in_step, renamed, stash_edited, plex_edited],
        renamed_performer=renamed,
        stash_edited=stash_edited,
        plex_edited=plex_edited,
        missing_in_plex=lacking,
        missing_in_stash=orphans,
        plex_empty=[two_files, empty_one],
        never_synced_bare=bare,
    )


async def gaps_on_stream(js: JetStreamContext, pass_id: str) -> list[Gap]:
    sub = await js.subscribe("s2p.gap.>", ordered_consumer=True)
    found: list[Gap] = []
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=1)
            except TimeoutError:
                break
            gap = Gap.from_bytes(msg.data)
            if gap.pass_id == pass_id:
                found.append(gap)
    finally:
        await sub.unsubscribe()
    return found


async def gaps_drained(js: JetStreamContext) -> bool:
    info = await js.consumer_info(GAPS_STREAM, GAPS_CONSUMER)
    return (info.num_pending or 0) == 0 and (info.num_ack_pending or 0) == 0 and await pending(js) == 0


async def test_a_pass_finds_each_gap_and_after_the_syncer_a_second_finds_none_actionable(
    broker: Broker,
    js: JetStreamContext,
    nc: NatsClient,
    tmp_path: Path,
    stash_sim_factory: StashSimFactory,
    plex_sim_factory: PlexSimFactory,
) -> None:
    seeded = seed(stash_sim_factory, plex_sim_factory)
    libraries, data, plex = seeded.libraries, seeded.libraries.stash.data, seeded.libraries.plex
    env = syncer_env(broker, libraries, tmp_path, STASH2PLEX_PATHS__RULES=json.dumps(RULES))
    syncer = start_syncer(broker, libraries, tmp_path, STASH2PLEX_PATHS__RULES=json.dumps(RULES))
    try:
        syncer.wait_ready(check="circuit")  # its streams and buckets exist before jobs and records are looked at
        for scene_id in seeded.synced_first:  # synced once, as hooks would have
            job = SyncJob(scene_id=str(scene_id), reason=SyncReason.MANUAL)
            await js.publish(job.subject, job.to_bytes(), headers={"Nats-Msg-Id": job.msg_id})
        records = await js.key_value(SYNC_RECORDS_BUCKET)

        async def all_synced() -> bool:
            if await pending(js):
                return False
            try:
                return len(await records.keys()) == len(seeded.synced_first)
            except NoKeysError:
                return False

        await wait_until(all_synced, within_s=60)

        # What changes behind the hooks' back:
        data.update_scene(seeded.stash_edited, title="Retitled in Stash")  # updated_at moves
        renamed = data.scenes[seeded.renamed_performer].performer_ids[0]
        data.update_entity(data.performers, renamed, name="Renamed performer")  # the scene's updated_at does not
        plex.library.get(seeded.keys[seeded.plex_edited][0]).title = "Edited in Plex"

        with reconciler_process(env, tmp_path) as reconciler:
            reconciler.wait_ready(check="nats")  # connected, its control verbs answer
            first = await run_pass(nc)
            assert first.outcome == "completed", first
            assert first.gaps == {"plex_empty": 2, "stale": 4, "missing_in_plex": 2, "missing_in_stash": 2}, first
            assert first.scenes_compared == len(data.scenes)
            assert first.plex_items == sum(len(v) for v in seeded.keys.values()) + 2
            assert first.scans == 1  # both missing scenes live in one folder

            published = await gaps_on_stream(js, first.pass_id)
            by_kind: dict[str, set[str]] = {}
            for gap in published:
                by_kind.setdefault(gap.kind.value, set()).add(gap.item_id)
            stale = {seeded.stash_edited, seeded.renamed_performer, seeded.plex_edited, seeded.never_synced_bare}
            assert by_kind == {
                "plex_empty": {str(s) for s in seeded.plex_empty},
                "stale": {str(s) for s in stale},
                "missing_in_plex": {str(s) for s in seeded.missing_in_plex},
                "missing_in_stash": {str(k) for k in seeded.missing_in_stash},
            }

            await wait_until(lambda: gaps_drained(js), within_s=60)
            second = await run_pass(nc)
    finally:
        syncer.stop()

    assert second.outcome == "completed", second
    assert second.actionable == 0, (second, await gaps_on_stream(js, second.pass_id))
    assert second.gaps["missing_in_stash"] == 2  # reported, never written
    two_files = seeded.plex_empty[0]
    assert [plex.library.get(key).title for key in seeded.keys[two_files]] == [data.scenes[two_files].title] * 2
    assert plex.library.get(seeded.keys[seeded.plex_edited][0]).title == data.scenes[seeded.plex_edited].title
