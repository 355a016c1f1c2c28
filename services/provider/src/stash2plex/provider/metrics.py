"""The provider's own metrics (the shared ones live in :mod:`stash2plex.common.metrics`).

Labels never carry scene ids or paths: endpoints and outcomes are small fixed sets. The
ones every request touches are :mod:`.tally` metrics (no lock per increment); the rest are
``prometheus_client``'s.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from stash2plex.provider.tally import Tally, TallyHistogram

REQUESTS = Tally(
    "stash2plex_provider_requests",
    "Requests Plex made of the provider, by endpoint (root, match, metadata, images, extras, image) and outcome "
    "(ok, not_found, bad_request, unavailable, error).",
    ["endpoint", "outcome"],
)
LATENCY = TallyHistogram(
    "stash2plex_provider_request_seconds",
    "Time to answer Plex, by endpoint.",
    ["endpoint"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
MATCHES = Tally(
    "stash2plex_provider_matches",
    "Match requests by how the best candidate was found: guid, path, basename, title, none.",
    ["method"],
)
CACHE_LOOKUPS = Tally(
    "stash2plex_provider_cache_lookups",
    "Cache lookups by cache and result (hit, miss); the hit ratio is hit / (hit + miss).",
    ["cache", "result"],
)
COALESCED = Tally(
    "stash2plex_provider_coalesced",
    "Lookups that waited for an identical one already asking Stash instead of asking again.",
    ["lookup"],
)
STASH_QUERIES = Counter(
    "stash2plex_provider_stash_queries", "Queries the provider sent to Stash, by lookup kind.", ["lookup"]
)
STASH_ERRORS = Counter(
    "stash2plex_provider_stash_errors",
    "Failed Stash requests (after retries), by kind: unavailable, auth, query, timeout.",
    ["kind"],
)
# Every kind exists at 0 from the start, so increase() sees the first error.
for _kind in ("unavailable", "auth", "query", "timeout", "not_configured"):
    STASH_ERRORS.labels(_kind)
STASH_SECONDS = Histogram(
    "stash2plex_provider_stash_seconds",
    "Time Stash took to answer one provider query (retries included).",
    ["lookup"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
GAPS = Counter(
    "stash2plex_provider_gaps",
    "Gaps the provider published (missing_in_stash, plex_empty) or could not publish (outcome failed).",
    ["kind", "outcome"],
)
IMAGE_BYTES = Counter("stash2plex_provider_image_bytes", "Image bytes the proxy passed on to Plex.")
