"""The reconciler's metrics (prefix ``stash2plex_reconciler_``; no scene ids as label values)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from stash2plex.common.subjects import GapKind

OUTCOMES = ("completed", "failed", "skipped")

PASSES = Counter(
    "stash2plex_reconciler_passes",
    "Reconciliation passes by outcome (completed, failed, skipped: Plex down, circuit open, "
    "not configured, or another pass running).",
    ["outcome"],
)
PASS_SECONDS = Histogram(
    "stash2plex_reconciler_pass_seconds",
    "Duration of a completed or failed pass, from the lease to the last gap published.",
    buckets=(1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
GAPS_FOUND = Counter("stash2plex_reconciler_gaps_found", "Gaps found and published, by kind.", ["kind"])
ITEMS_COMPARED = Counter("stash2plex_reconciler_items_compared", "Stash scenes compared with their Plex items.")
LAST_PASS = Gauge(
    "stash2plex_reconciler_last_pass_timestamp_seconds", "When this replica last completed a pass (Unix time)."
)
PASS_RUNNING = Gauge("stash2plex_reconciler_pass_running", "1 while this replica runs a pass.")

for _outcome in OUTCOMES:
    PASSES.labels(_outcome)
for _kind in GapKind:
    GAPS_FOUND.labels(_kind.value)
