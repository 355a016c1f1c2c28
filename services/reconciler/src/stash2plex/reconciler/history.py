"""The pass history in NATS KV: the last passes as one JSON list, appended by compare-and-swap."""

from __future__ import annotations

import json
from datetime import datetime

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from stash2plex.common import topology
from stash2plex.common.reconciliation import PassRecord, parse_history

CAS_TRIES = 20


class PassHistory:
    """Reads and appends the list under ``reconcile.history`` in ``s2p_state``."""

    def __init__(self, kv: KeyValue, size: int) -> None:
        self.kv, self.size = kv, size

    async def _read(self) -> tuple[list[PassRecord], int | None]:
        try:
            entry = await self.kv.get(topology.RECONCILE_HISTORY_KEY)
        except KeyNotFoundError:
            return [], None
        return parse_history(entry.value), entry.revision

    async def passes(self) -> list[PassRecord]:
        """Oldest first."""
        return (await self._read())[0]

    async def append(self, record: PassRecord) -> list[PassRecord]:
        """Add one pass, keeping the newest ``size``; two replicas appending at once both land."""
        for _ in range(CAS_TRIES):
            passes, revision = await self._read()
            kept = [*passes, record][-self.size :]
            body = json.dumps([p.model_dump(mode="json") for p in kept]).encode()
            try:
                if revision is None:
                    await self.kv.create(topology.RECONCILE_HISTORY_KEY, body)
                else:
                    await self.kv.update(topology.RECONCILE_HISTORY_KEY, body, last=revision)
            except KeyWrongLastSequenceError:
                continue
            return kept
        raise RuntimeError("the reconciliation history changes too fast to append to")

    async def last_completed(self) -> PassRecord | None:
        done = [p for p in await self.passes() if p.outcome == "completed"]
        return done[-1] if done else None

    async def any_started_since(self, moment: datetime) -> PassRecord | None:
        """A pass (of any outcome) that started at or after ``moment``: a scheduled run already handled."""
        later = [p for p in await self.passes() if p.started_at >= moment]
        return later[-1] if later else None
