"""The syncer's metrics (queue depth and ack-pending come from :mod:`stash2plex.common.metrics`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from stash2plex.common.contracts import ErrorClass

JOB_OUTCOMES = ("synced", "unchanged", "skipped", "retried", "dead_lettered", "held")

JOBS = Counter(
    "stash2plex_syncer_jobs",
    "Sync jobs finished, by outcome (synced, unchanged, skipped, retried, dead_lettered, held).",
    ["outcome"],
)
JOB_SECONDS = Histogram(
    "stash2plex_syncer_job_seconds",
    "Time to process one sync job, from delivery to acknowledgement.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
RETRIES = Counter("stash2plex_syncer_retries", "Jobs put back for a later retry, by error class.", ["error_class"])
# Every outcome and class exists from the start at 0, so rate() and increase() see the first one.
for _outcome in JOB_OUTCOMES:
    JOBS.labels(_outcome)
for _error_class in ErrorClass:
    RETRIES.labels(_error_class.value)
CIRCUIT_STATE = Gauge("stash2plex_syncer_circuit_state", "Circuit breaker towards Plex: 0 closed, 1 half-open, 2 open.")
OUTAGES = Counter("stash2plex_syncer_outages", "Plex outages seen (circuit openings).")
OUTAGE_SECONDS = Gauge(
    "stash2plex_syncer_current_outage_seconds", "How long the current Plex outage has lasted (0: none)."
)
MTTR = Gauge(
    "stash2plex_syncer_mttr_seconds",
    "Mean time to recovery over the recorded Plex outages (the shared history stash2plex status shows; 0: none ended).",
)
MTBF = Gauge(
    "stash2plex_syncer_mtbf_seconds",
    "Mean time between the recorded Plex outages (0: fewer than two).",
)
LAST_SUCCESS = Gauge("stash2plex_syncer_last_success_timestamp_seconds", "When a sync job last succeeded (Unix time).")
CONCURRENCY = Gauge(
    "stash2plex_syncer_concurrency_limit", "Plex requests the syncer allows in flight right now (adaptive)."
)
PLEX_REQUEST_SECONDS = Histogram(
    "stash2plex_syncer_plex_request_seconds",
    "Time Plex took to answer one request of the syncer (what the adaptive concurrency limit reacts to).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
IN_FLIGHT = Gauge("stash2plex_syncer_jobs_in_flight", "Jobs being processed by this replica.")
EXTERNAL_SECONDS = Histogram(
    "stash2plex_syncer_external_seconds",
    "Time a job spent waiting on Stash or Plex; the rest of stash2plex_syncer_job_seconds is the syncer's own.",
    ["system"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
