"""Ingest's own metrics (the shared ones live in :mod:`stash2plex.common.metrics`)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

HOOKS = Counter(
    "stash2plex_ingest_hooks",
    "Hook events received, by hook type and outcome (queued, duplicate, ignored, invalid, unauthorized, unavailable).",
    ["hook", "outcome"],
)
PUBLISH_SECONDS = Histogram(
    "stash2plex_ingest_publish_seconds",
    "Time from publish to JetStream's acknowledgement.",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
SPOOL_REPLAYS = Counter(
    "stash2plex_ingest_spool_replays", "Events that reached ingest after waiting in the plugin's spool."
)
ENTITY_FANOUT = Counter(
    "stash2plex_ingest_entity_jobs", "Sync jobs made from performer/studio/tag/group changes and backfills.", ["kind"]
)
TASKS = Counter(
    "stash2plex_ingest_tasks", "Plugin and CLI tasks run through ingest, by task and outcome.", ["task", "outcome"]
)
