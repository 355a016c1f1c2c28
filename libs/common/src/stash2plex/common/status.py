"""The state of the whole pipeline in one answer, read straight from JetStream and KV.

Shared by ingest's status task (what the Stash plugin shows) and ``stash2plex status``.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, NotFoundError

from stash2plex.common import dlq, topology
from stash2plex.common.outages import OutageHistory
from stash2plex.common.reconciliation import read_history, read_running

RECENT_PASSES = 5
"""Reconciliation passes a status shows (the history keeps more)."""


async def _kv_value(js: JetStreamContext, key: str) -> Any:
    try:
        bucket = await js.key_value(topology.STATE_BUCKET)
        entry = await bucket.get(key)
    except (KeyNotFoundError, NotFoundError, BucketNotFoundError):
        return None
    return json.loads(entry.value) if entry.value else None


async def gather_status(js: JetStreamContext) -> dict[str, Any]:
    """Queue depth, jobs in flight, DLQ by error class, circuit, outages (MTBF/MTTR), the last reconciliations."""
    sync = await js.stream_info(topology.SYNC_STREAM)
    dlq_info = await js.stream_info(topology.DLQ_STREAM)
    in_flight = 0
    with contextlib.suppress(NotFoundError):
        consumer = await js.consumer_info(topology.SYNC_STREAM, topology.SYNC_CONSUMER)
        in_flight = consumer.num_ack_pending or 0
    circuit = await _kv_value(js, topology.CIRCUIT_KEY) or {}
    history = OutageHistory.model_validate(await _kv_value(js, topology.OUTAGES_KEY) or {"outages": []})
    passes = [p.model_dump(mode="json") for p in await read_history(js)]
    running = await read_running(js)
    last_outage = history.outages[-1] if history.outages else None
    return {
        "queue_depth": sync.state.messages,
        "in_flight": in_flight,
        "dlq_size": dlq_info.state.messages,
        "dlq_by_error_class": await dlq.counts_by_class(js),
        "circuit": circuit.get("state", "closed"),
        "circuit_reason": circuit.get("reason") or None,
        "last_outage": None
        if last_outage is None
        else {**last_outage.model_dump(mode="json"), "duration_s": last_outage.duration_s},
        "outages": len(history.outages),
        "mtbf_s": history.mtbf_s(),
        "mttr_s": history.mttr_s(),
        "last_reconciliation": passes[-1] if passes else None,
        "reconciliations": passes[-RECENT_PASSES:],
        "reconciliation_running": running.model_dump(mode="json") if running else None,
    }
