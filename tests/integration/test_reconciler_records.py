"""The reconciler's pipelined sync-record reads against the real broker: the same answers as
``SyncRecords.get`` for every kind of key, in order, never more than the bound in flight."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import nats
import pytest
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.errors import ServiceUnavailableError

from stash2plex.common import topology
from stash2plex.common.settings import NatsSettings
from stash2plex.reconciler.records import RecordReader
from stash2plex.syncer.sync_record import ItemRecord, SyncRecord, SyncRecords, record_key
from tests.harness.broker import Broker

MOMENT = datetime(2025, 6, 1, 12, tzinfo=UTC)


def record(scene_id: str, content_hash: str = "abc") -> SyncRecord:
    item = ItemRecord(rating_key=f"9{scene_id}", section_id="1", written={"title": "00ff"}, pending=("thumb",))
    return SyncRecord(
        scene_id=scene_id, stash_updated_at=MOMENT, content_hash=content_hash, items=(item,), synced_at=MOMENT
    )


async def records_bucket(js: JetStreamContext) -> SyncRecords:
    await topology.ensure_topology(js, NatsSettings())
    return SyncRecords(await js.key_value(topology.SYNC_RECORDS_BUCKET))


async def test_every_kind_of_key_reads_as_the_syncers_own_get(js: JetStreamContext) -> None:
    records = await records_bucket(js)
    kv = records.kv
    await records.put(record("1"))
    await records.put(record("2", "old"))
    await records.put(record("2", "new"))  # only the last value counts
    await records.put(record("3"))
    await kv.delete(record_key("3"))
    await records.put(record("4"))
    await kv.purge(record_key("4"))
    await kv.put(record_key("5"), b"")
    await kv.put(record_key("6"), b'{"not": "a record"}')
    ids = ["6", "5", "4", "3", "2", "1", "7"]  # 7 was never written

    got = await RecordReader(js, limit=3).read(ids)

    assert got == [await records.get(scene_id) for scene_id in ids]
    assert got[4] == record("2", "new")
    assert got[5] == record("1")
    assert got[:4] == [None] * 4
    assert got[6] is None
    assert await RecordReader(js, limit=3).read([]) == []


async def test_many_more_scenes_than_the_bound_come_back_in_order_with_at_most_the_bound_in_flight(
    broker: Broker, js: JetStreamContext
) -> None:
    records = await records_bucket(js)
    ids = [str(n) for n in range(1, 401)]
    await asyncio.gather(*(records.put(record(scene_id, f"h{scene_id}")) for scene_id in ids if int(scene_id) % 3))

    spy = await nats.connect(broker.url)
    in_flight, most = 0, 0
    api = f"$JS.API.STREAM.MSG.GET.KV_{topology.SYNC_RECORDS_BUCKET}"

    async def watch(msg: Msg) -> None:  # one subscription: requests and answers in the broker's order
        nonlocal in_flight, most
        if msg.subject == api:
            in_flight += 1
        elif msg.subject.startswith("_INBOX."):
            in_flight -= 1
        most = max(most, in_flight)

    try:
        await spy.subscribe(">", cb=watch)
        await spy.flush()
        got = await RecordReader(js, limit=8).read(ids)
        await spy.flush()
    finally:
        await spy.close()

    assert [r.content_hash if r else None for r in got] == [
        f"h{scene_id}" if int(scene_id) % 3 else None for scene_id in ids
    ]
    assert 1 <= most <= 8
    assert in_flight == 0


async def test_no_answer_is_a_timeout_and_no_responder_an_error(nc: NatsClient, js: JetStreamContext) -> None:
    await records_bucket(js)
    silent = await nc.subscribe("test.records.silent")  # takes requests, never answers
    reader = RecordReader(js, limit=4, timeout_s=0.3)
    reader.api = "test.records.silent"
    with pytest.raises(NatsTimeoutError):
        await reader.read(["1", "2"])
    await silent.unsubscribe()

    reader.api = "test.records.nobody"
    with pytest.raises(ServiceUnavailableError):
        await reader.read(["1"])
