"""The outage history in KV: started when the circuit opens, ended when it closes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from stash2plex.common import topology
from stash2plex.common.outages import OutageHistory
from stash2plex.syncer import metrics


def report_reliability(history: OutageHistory) -> None:
    """MTTR and MTBF as gauges, from the history every replica shares (so all replicas agree)."""
    metrics.MTTR.set(history.mttr_s() or 0)
    metrics.MTBF.set(history.mtbf_s() or 0)


class OutageLog:
    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    async def read(self) -> OutageHistory:
        try:
            entry = await self.kv.get(topology.OUTAGES_KEY)
        except KeyNotFoundError:
            return OutageHistory(outages=[])
        return OutageHistory.model_validate_json(entry.value or b'{"outages": []}')

    async def _change(self, change: Callable[[OutageHistory], OutageHistory]) -> OutageHistory:
        for _ in range(20):
            try:
                entry = await self.kv.get(topology.OUTAGES_KEY)
                history, revision = OutageHistory.model_validate_json(entry.value or b"{}"), entry.revision
            except KeyNotFoundError:
                history, revision = OutageHistory(outages=[]), None
            updated = change(history)
            try:
                if revision is None:
                    await self.kv.create(topology.OUTAGES_KEY, updated.model_dump_json().encode())
                else:
                    await self.kv.update(topology.OUTAGES_KEY, updated.model_dump_json().encode(), last=revision)
            except KeyWrongLastSequenceError:
                continue
            return updated
        raise RuntimeError("the outage history changes too fast to update")

    async def started(self, cause: str) -> OutageHistory:
        return await self._change(lambda h: h.start(datetime.now(UTC), cause))

    async def ended(self, jobs_held: int) -> OutageHistory:
        return await self._change(lambda h: h.end(datetime.now(UTC), jobs_held))
