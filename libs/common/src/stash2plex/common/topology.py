"""The NATS topology, declared once: streams, KV buckets and durable consumers.

Every service calls :func:`ensure_topology` at start. It creates what is missing, updates
what drifted from the declaration (say a new DLQ retention), and refuses with a clear error
the changes JetStream cannot make in place (a stream's retention policy).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    KeyValueConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BucketNotFoundError, NotFoundError

from stash2plex.common.settings import NatsSettings
from stash2plex.common.subjects import DLQ_PREFIX, ENTITY_PREFIX, GAP_PREFIX, SYNC_PREFIX, GapKind

log = logging.getLogger(__name__)

SYNC_STREAM = "SYNC"
GAPS_STREAM = "GAPS"
DLQ_STREAM = "DLQ"
ENTITY_STREAM = "ENTITY"
STATE_BUCKET = "s2p_state"
"""Circuit breaker, outage history, reconciliation history, leader lease."""
SYNC_RECORDS_BUCKET = "s2p_sync"
"""One record per scene: Stash ``updated_at``, content hash, Plex rating keys."""
LOCKS_BUCKET = "s2p_locks"
"""Per-scene locks, so two syncer replicas never work on one scene at once; they expire if a holder dies."""
LOCK_TTL_S = 90.0

# Keys in the state bucket, written by the syncer and the reconciler, read by status.
CIRCUIT_KEY = "circuit.plex"
OUTAGES_KEY = "outages.plex"
RECONCILE_HISTORY_KEY = "reconcile.history"

SYNC_CONSUMER = "syncer"
GAPS_CONSUMER = "syncer-gaps"
ENTITY_CONSUMER = "ingest-entities"

DAY = 24 * 3600.0


class TopologyError(RuntimeError):
    """The broker holds a stream JetStream cannot change into the declared one."""


@dataclass(frozen=True)
class Topology:
    """What :func:`ensure_topology` makes exist."""

    streams: list[StreamConfig]
    buckets: list[KeyValueConfig] = field(default_factory=list)


def _stream(
    settings: NatsSettings, name: str, description: str, subject: str, retention: RetentionPolicy, max_age_days: float
) -> StreamConfig:
    """Every stream: file storage, the newest message per subject, the same dedup window."""
    return StreamConfig(
        name=name,
        description=description,
        subjects=[subject],
        retention=retention,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_msgs_per_subject=1,
        max_age=max_age_days * DAY,
        duplicate_window=settings.duplicate_window_s,
        num_replicas=settings.replicas,
    )


def declare(settings: NatsSettings) -> Topology:
    """The streams and buckets for these settings."""
    work, limits = RetentionPolicy.WORK_QUEUE, RetentionPolicy.LIMITS
    return Topology(
        streams=[
            _stream(
                settings,
                SYNC_STREAM,
                "Pending sync jobs, one per scene: a burst of edits coalesces into the newest.",
                f"{SYNC_PREFIX}.*",
                work,
                settings.sync_max_age_days,
            ),
            _stream(
                settings,
                GAPS_STREAM,
                "Differences between Stash and Plex found by reconciliation or the provider.",
                f"{GAP_PREFIX}.*.*",
                limits,
                settings.gaps_max_age_days,
            ),
            _stream(
                settings,
                DLQ_STREAM,
                "Jobs the syncer gave up on, with the error, attempts and failure times.",
                f"{DLQ_PREFIX}.*",
                limits,
                settings.dlq_max_age_days,
            ),
            _stream(
                settings,
                ENTITY_STREAM,
                "Changes that touch many scenes (a performer rename, sync all), fanned out by ingest.",
                f"{ENTITY_PREFIX}.*.*",
                work,
                settings.sync_max_age_days,
            ),
        ],
        buckets=[
            KeyValueConfig(bucket=STATE_BUCKET, history=5, storage=StorageType.FILE, replicas=settings.replicas),
            KeyValueConfig(bucket=SYNC_RECORDS_BUCKET, history=1, storage=StorageType.FILE, replicas=settings.replicas),
            KeyValueConfig(
                bucket=LOCKS_BUCKET, history=1, ttl=LOCK_TTL_S, storage=StorageType.FILE, replicas=settings.replicas
            ),
        ],
    )


def _consumer(name: str, description: str, ack_wait_s: float, max_ack_pending: int, max_deliver: int) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=name,
        name=name,
        description=description,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=ack_wait_s,
        max_ack_pending=max_ack_pending,
        max_deliver=max_deliver,
    )


def sync_consumer_config(*, ack_wait_s: float, max_ack_pending: int, max_deliver: int = -1) -> ConsumerConfig:
    """The syncer's durable pull consumer on ``SYNC`` (shared by every syncer replica)."""
    config = _consumer(SYNC_CONSUMER, "Syncer: every pending sync job.", ack_wait_s, max_ack_pending, max_deliver)
    config.filter_subject = f"{SYNC_PREFIX}.*"
    return config


def entity_consumer_config(*, ack_wait_s: float = 60, max_ack_pending: int = 2) -> ConsumerConfig:
    """Ingest's consumer that turns an entity change into one sync job per scene it touches."""
    description = "Ingest: fan entity changes out to the scenes they touch."
    config = _consumer(ENTITY_CONSUMER, description, ack_wait_s, max_ack_pending, -1)
    config.filter_subject = f"{ENTITY_PREFIX}.*.*"
    return config


def gaps_consumer_config(*, ack_wait_s: float, max_ack_pending: int, max_deliver: int = -1) -> ConsumerConfig:
    """The syncer's durable pull consumer on the gap kinds it can act on."""
    description = "Syncer: gaps it can close (not missing_in_stash, which is only reported)."
    config = _consumer(GAPS_CONSUMER, description, ack_wait_s, max_ack_pending, max_deliver)
    config.filter_subjects = [f"{GAP_PREFIX}.{kind.value}.*" for kind in GapKind if kind.actionable]
    return config


# Fields of a stream's config we declare; anything else the server fills in is left alone.
_COMPARED = ("description", "subjects", "retention", "storage", "discard", "max_msgs_per_subject", "num_replicas")
_COMPARED_SECONDS = ("max_age", "duplicate_window")


def stream_drift(current: StreamConfig, wanted: StreamConfig) -> dict[str, tuple[Any, Any]]:
    """The declared fields whose value on the server differs, as ``{field: (server, declared)}``."""
    drift: dict[str, tuple[Any, Any]] = {}
    for name in _COMPARED:
        have, want = getattr(current, name), getattr(wanted, name)
        if name == "subjects":
            have, want = sorted(have or []), sorted(want or [])
        if have != want:
            drift[name] = (have, want)
    for name in _COMPARED_SECONDS:
        have_s, want_s = float(getattr(current, name) or 0), float(getattr(wanted, name) or 0)
        if abs(have_s - want_s) > 0.001:
            drift[name] = (have_s, want_s)
    return drift


async def ensure_stream(js: JetStreamContext, wanted: StreamConfig) -> str:
    """Create or update one stream; returns what was done (``created``, ``updated`` or ``unchanged``)."""
    assert wanted.name is not None
    try:
        info = await js.stream_info(wanted.name)
    except NotFoundError:
        await js.add_stream(wanted)
        log.info("created stream", extra={"stream": wanted.name})
        return "created"
    drift = stream_drift(info.config, wanted)
    if not drift:
        return "unchanged"
    if "retention" in drift:
        have, want = drift["retention"]
        raise TopologyError(
            f"stream {wanted.name} has retention {have} but Stash2Plex needs {want}; JetStream cannot change "
            f"that in place. Back up and delete the stream (nats stream rm {wanted.name}) and start again."
        )
    await js.update_stream(wanted)
    log.info("updated stream", extra={"stream": wanted.name, "changed": sorted(drift)})
    return "updated"


async def ensure_bucket(js: JetStreamContext, wanted: KeyValueConfig) -> str:
    """Create a KV bucket if it does not exist yet."""
    try:
        await js.key_value(wanted.bucket)
        return "unchanged"
    except BucketNotFoundError:
        await js.create_key_value(config=wanted)
        log.info("created key-value bucket", extra={"bucket": wanted.bucket})
        return "created"


async def ensure_topology(js: JetStreamContext, settings: NatsSettings) -> dict[str, str]:
    """Make every stream and bucket exist as declared; safe to call from every replica at every start."""
    topology = declare(settings)
    done: dict[str, str] = {}
    for stream in topology.streams:
        assert stream.name is not None
        done[stream.name] = await ensure_stream(js, stream)
    for bucket in topology.buckets:
        done[bucket.bucket] = await ensure_bucket(js, bucket)
    return done


async def ensure_consumer(js: JetStreamContext, stream: str, config: ConsumerConfig) -> None:
    """Create or update a durable consumer (``pull_subscribe`` alone would keep a stale config)."""
    await js.add_consumer(stream, config)
