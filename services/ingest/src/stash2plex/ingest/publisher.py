"""Publishing to JetStream with a deadline: ingest answers only once the broker has the job,
and answers 503 quickly when it cannot, so the plugin spools instead of blocking Stash."""

from __future__ import annotations

import time
from dataclasses import dataclass

from nats.aio.client import Client as NatsClient
from nats.errors import ConnectionClosedError, NoRespondersError, OutboundBufferLimitError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.errors import APIError, NoStreamResponseError

from stash2plex.common.contracts import EntityChange, SyncJob
from stash2plex.ingest import metrics


class BrokerUnavailable(Exception):  # noqa: N818 - it says what happened
    """JetStream did not acknowledge in time; the caller should retry later."""

    def __init__(self, message: str, missing_stream: bool = False) -> None:
        super().__init__(message)
        self.missing_stream = missing_stream


@dataclass(frozen=True)
class Published:
    stream: str
    seq: int
    duplicate: bool


async def publish(
    nc: NatsClient | None, js: JetStreamContext | None, job: SyncJob | EntityChange, timeout_s: float
) -> Published:
    """Publish ``job`` with its dedup id and wait for the stream's acknowledgement."""
    if nc is None or js is None or not nc.is_connected:
        raise BrokerUnavailable("not connected to NATS")
    started = time.perf_counter()
    try:
        ack = await js.publish(job.subject, job.to_bytes(), timeout=timeout_s, headers={"Nats-Msg-Id": job.msg_id})
    except (NatsTimeoutError, TimeoutError) as error:
        raise BrokerUnavailable("JetStream did not acknowledge in time") from error
    except (NoStreamResponseError, NoRespondersError) as error:
        raise BrokerUnavailable("JetStream has no stream for this subject", missing_stream=True) from error
    except (ConnectionClosedError, OutboundBufferLimitError, APIError) as error:
        raise BrokerUnavailable(f"NATS refused the publish: {type(error).__name__}") from error
    finally:
        metrics.PUBLISH_SECONDS.observe(time.perf_counter() - started)
    return Published(stream=ack.stream, seq=ack.seq, duplicate=bool(ack.duplicate))
