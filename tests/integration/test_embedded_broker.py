"""The embedded broker keeps what it stored across a crash (file storage)."""

from __future__ import annotations

import nats

from stash2plex.common.contracts import SyncJob, SyncReason
from stash2plex.common.settings import NatsSettings
from stash2plex.common.topology import SYNC_STREAM, ensure_topology
from tests.harness.broker import Broker


async def test_messages_survive_a_sigkill_of_the_broker(private_broker: Broker) -> None:
    nc = await nats.connect(private_broker.url, allow_reconnect=False)
    js = nc.jetstream()
    await ensure_topology(js, NatsSettings())
    for scene in range(20):
        job = SyncJob(scene_id=str(scene), reason=SyncReason.MANUAL)
        await js.publish(job.subject, job.to_bytes(), headers={"Nats-Msg-Id": job.msg_id})
    await nc.close()

    private_broker.kill()
    private_broker.restart()

    nc = await nats.connect(private_broker.url, allow_reconnect=False)
    js = nc.jetstream()
    done = await ensure_topology(js, NatsSettings())
    info = await js.stream_info(SYNC_STREAM)
    await nc.close()
    assert done[SYNC_STREAM] == "unchanged"
    assert info.state.messages == 20
