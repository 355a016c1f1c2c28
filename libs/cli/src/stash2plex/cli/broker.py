"""Connecting the CLI to the stack's broker, failing fast and clearly when there is none."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import nats
from nats.aio.client import Client as NatsClient
from nats.errors import NoServersError
from nats.js import JetStreamContext

from stash2plex.common.settings import CommonSettings

CONNECT_LIMIT_S = 3.0


class BrokerUnreachableError(RuntimeError):
    """No NATS server answers where the settings say it is."""


def nats_url(settings: CommonSettings) -> str:
    """The configured broker, or the embedded one ``stash2plex up`` starts."""
    return settings.nats.url or f"nats://{settings.nats.embedded_host}:{settings.nats.embedded_port}"


async def reachable(url: str) -> None:
    """Fail fast on a refused port: nats-py keeps retrying a refused first connection."""
    first = urlsplit(url.split(",")[0].strip())
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(first.hostname, first.port or 4222), CONNECT_LIMIT_S)
    except (OSError, TimeoutError) as error:
        reason = str(error) or type(error).__name__
        raise BrokerUnreachableError(
            f"no NATS server at {url} ({reason}); is the stack running? (stash2plex up)"
        ) from None
    writer.close()


@asynccontextmanager
async def connected(url: str) -> AsyncIterator[tuple[NatsClient, JetStreamContext]]:
    """A short-lived connection for one command, and JetStream on it."""
    await reachable(url)
    try:
        nc = await nats.connect(url, allow_reconnect=False, connect_timeout=CONNECT_LIMIT_S)
    except (NoServersError, OSError, TimeoutError) as error:
        raise BrokerUnreachableError(f"NATS at {url} refused the connection ({error})") from None
    try:
        yield nc, nc.jetstream(timeout=5)
    finally:
        await nc.close()


@asynccontextmanager
async def jetstream(url: str) -> AsyncIterator[JetStreamContext]:
    async with connected(url) as (_, js):
        yield js
