"""The pending work: sync jobs waiting in ``SYNC`` and fan-outs waiting in ``ENTITY``.

``stash2plex queue clear`` drops both (after a mistaken "sync all", say). Dead letters and
gaps are not pending work and stay; jobs a syncer holds right now are dropped too, and
their acknowledgement then finds nothing, which is harmless.
"""

from __future__ import annotations

from nats.js import JetStreamContext
from pydantic import BaseModel, Field

from stash2plex.common.topology import ENTITY_STREAM, SYNC_STREAM


class PendingWork(BaseModel):
    sync_jobs: int = Field(ge=0, description="Sync jobs waiting or in flight (SYNC stream).")
    fan_outs: int = Field(ge=0, description="Entity changes and backfills not yet fanned out (ENTITY stream).")

    @property
    def total(self) -> int:
        return self.sync_jobs + self.fan_outs


async def pending(js: JetStreamContext) -> PendingWork:
    sync = await js.stream_info(SYNC_STREAM)
    entity = await js.stream_info(ENTITY_STREAM)
    return PendingWork(sync_jobs=sync.state.messages, fan_outs=entity.state.messages)


async def clear(js: JetStreamContext) -> PendingWork:
    """Drop every pending job and fan-out; returns how many there were."""
    before = await pending(js)
    await js.purge_stream(ENTITY_STREAM)  # first, so no fan-out refills SYNC after it is emptied
    await js.purge_stream(SYNC_STREAM)
    return before
