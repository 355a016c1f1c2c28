"""A page's sync records in one go: JetStream's get-message API pipelined, ``limit`` requests in flight.

``KeyValue.get`` costs a request future, a task of ours and nats-py's parsing per key: about 0.1 ms
of CPU each, ten seconds for 100,000 scenes. The same requests (``$JS.API.STREAM.MSG.GET`` with
``last_by_subj``, answered by the stream leader, so a record just written is read back) are sent
here back to back, each reply naming its position on one wildcard inbox. Once half of them are
answered, as many go out again in one write (one write per request would cost more than the
reads), so the broker never has more than ``limit`` of a pass's reads at once.

The answers mean what ``SyncRecords.get`` makes of them: a key never written, deleted or purged is
no record (``None``), as is an empty or unreadable value (logged); any other API error is raised.
Batched direct gets (``multi_last``) would need ``allow_direct`` on the bucket, which would also
move the syncer's own reads to direct gets: this keeps the bucket as it is.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Sequence
from typing import Any

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.errors import APIError
from pydantic import ValidationError

from stash2plex.common import topology
from stash2plex.syncer.sync_record import SyncRecord, record_key

log = logging.getLogger(__name__)

KV_OPERATION = "KV-Operation"
REMOVED = frozenset({"DEL", "PURGE"})


def header_values(encoded: str) -> dict[str, str]:
    """The headers of a stored message (``hdrs``: base64 of ``NATS/1.0\\r\\nName: value\\r\\n…``)."""
    lines = base64.b64decode(encoded).decode("utf-8", "replace").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon and name:
            headers[name.strip()] = value.strip()
    return headers


def stored_value(answer: dict[str, Any]) -> bytes | None:
    """The value in one get-message answer: None for no message, or a delete or purge marker."""
    error = answer.get("error")
    if error is not None:
        if error.get("code") == 404:
            return None  # no message for the subject (or no stream): kv.get's KeyNotFoundError
        APIError.from_error(error)  # raises the error nats-py raises for it
    message = answer.get("message") or {}
    hdrs = message.get("hdrs")
    if hdrs and header_values(hdrs).get(KV_OPERATION) in REMOVED:
        return None
    data = message.get("data")
    return base64.b64decode(data) if data else None


def parse_record(scene_id: str, value: bytes | None) -> SyncRecord | None:
    """As ``SyncRecords.get`` reads a value: an unreadable record counts as none (the next sync rewrites it)."""
    if not value:
        return None
    try:
        return SyncRecord.model_validate_json(value)
    except ValidationError as error:
        log.warning("ignoring the unreadable sync record of scene %s: %s", scene_id, error)
        return None


class RecordReader:
    """Reads the sync records of many scenes at once from the ``s2p_sync`` bucket's stream."""

    def __init__(
        self,
        js: JetStreamContext,
        limit: int,
        *,
        bucket: str = topology.SYNC_RECORDS_BUCKET,
        timeout_s: float | None = None,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        # nats-py offers no public way back from a JetStream context to its connection and API prefix.
        self.nc: NatsClient = js._nc
        self.api = f"{js._prefix}.STREAM.MSG.GET.KV_{bucket}"
        self.subject_prefix = f"$KV.{bucket}."
        self.limit = limit
        self.timeout_s = timeout_s if timeout_s is not None else js._timeout

    async def read(self, scene_ids: Sequence[str]) -> list[SyncRecord | None]:
        """The record of each scene, in order (None where there is none)."""
        values = await self.values(scene_ids)
        return [parse_record(scene_id, value) for scene_id, value in zip(scene_ids, values, strict=True)]

    async def values(self, scene_ids: Sequence[str]) -> list[bytes | None]:
        """The stored value of each scene's record key, in order."""
        if not scene_ids:
            return []
        batch = _Batch(self, scene_ids)
        return await batch.run()


class _Batch:
    """One ``values`` call: more requests go out as answers come in, never more than ``limit`` unanswered."""

    def __init__(self, reader: RecordReader, scene_ids: Sequence[str]) -> None:
        self.reader = reader
        self.requests = [
            json.dumps({"last_by_subj": reader.subject_prefix + record_key(scene_id)}).encode()
            for scene_id in scene_ids
        ]
        self.values: list[bytes | None] = [None] * len(scene_ids)
        self.sent = self.answered = 0
        self.inbox = ""
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def run(self) -> list[bytes | None]:
        nc = self.reader.nc
        self.inbox = nc.new_inbox()
        subscription = await nc.subscribe(self.inbox + ".*", cb=self._answer)
        try:
            await self._top_up()
            await self._wait()
        finally:
            await subscription.unsubscribe()
        return self.values

    async def _top_up(self) -> None:
        """Requests up to ``limit`` unanswered; published back to back, they leave in one write."""
        nc, api, inbox = self.reader.nc, self.reader.api, self.inbox
        end = min(len(self.requests), self.answered + self.reader.limit)
        while self.sent < end:
            position = self.sent
            self.sent += 1
            await nc.publish(api, self.requests[position], reply=f"{inbox}.{position}")

    async def _answer(self, msg: Msg) -> None:
        if self.done.done():
            return
        try:
            position = int(msg.subject.rpartition(".")[2])
            if not msg.data:  # a status instead of an answer: no responders (503), or another failure
                raise APIError.from_msg(msg)
            self.values[position] = stored_value(json.loads(msg.data))
            self.answered += 1
            if self.answered == len(self.requests):
                self.done.set_result(None)
            elif 2 * (self.sent - self.answered) <= self.reader.limit:
                await self._top_up()
        except Exception as error:  # the waiting caller raises it (a failed answer, or a publish that failed)
            if not self.done.done():
                self.done.set_exception(error)

    async def _wait(self) -> None:
        """Until every answer is in; a broker that answers nothing for ``timeout_s`` is a timeout."""
        while True:
            seen = self.answered
            try:
                await asyncio.wait_for(asyncio.shield(self.done), self.reader.timeout_s)
                return
            except TimeoutError:
                if self.answered == seen:
                    self.done.cancel()
                    raise NatsTimeoutError from None
