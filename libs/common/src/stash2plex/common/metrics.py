"""Prometheus helpers shared by every service.

``/metrics`` is served as a plain route (see :mod:`stash2plex.common.http`), not a mounted
sub-app: a mount answers ``/metrics`` with a redirect to ``/metrics/`` that some scrapers
and health checks do not follow.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Info, generate_latest
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

NAMESPACE = "stash2plex"

BUILD_INFO = Info(f"{NAMESPACE}_build", "Version of the running Stash2Plex service.", ["service"])
NATS_CONNECTED = Gauge(f"{NAMESPACE}_nats_connected", "1 while the service holds a connection to NATS.", ["service"])
NATS_DISCONNECTS = Counter(f"{NAMESPACE}_nats_disconnects", "Times the connection to NATS was lost.", ["service"])
DEPENDENCY_UP = Gauge(
    f"{NAMESPACE}_dependency_up",
    "1 when the last readiness probe of a dependency (nats, stash, plex) succeeded, 0 when it failed.",
    ["service", "dependency"],
)
DEPENDENCY_CONFIGURED = Gauge(
    f"{NAMESPACE}_dependency_configured",
    "1 when the settings a dependency needs are present.",
    ["service", "dependency"],
)
STREAM_MESSAGES = Gauge(
    f"{NAMESPACE}_stream_messages", "Messages held in a JetStream stream (SYNC: jobs waiting).", ["stream"]
)
CONSUMER_PENDING = Gauge(
    f"{NAMESPACE}_consumer_pending", "Messages a durable consumer has not been delivered yet.", ["consumer"]
)
CONSUMER_ACK_PENDING = Gauge(
    f"{NAMESPACE}_consumer_ack_pending", "Messages delivered to a consumer and not acknowledged yet.", ["consumer"]
)


def render(registry: CollectorRegistry = DEFAULT_REGISTRY) -> tuple[bytes, str]:
    """The exposition body and its content type."""
    return generate_latest(registry), CONTENT_TYPE_LATEST
