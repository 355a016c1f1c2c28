"""One pass at a time across replicas: a lease in NATS KV that carries the pass's progress.

The lease is the key ``reconcile.pass`` in the ``s2p_locks`` bucket, created only if absent
(compare-and-swap), so of two replicas firing together exactly one gets it. Its holder rewrites
it with the pass's progress about once a second, which also restarts the bucket's TTL: when a
holder dies, the key expires (``LOCK_TTL_S``) and the next pass can run. A lease left by a
process of this host that no longer exists is taken over at once (as the syncer's scene locks do).
"""

from __future__ import annotations

import logging

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from pydantic import ValidationError

from stash2plex.common.kv import delete_at_revision
from stash2plex.common.reconciliation import LEASE_KEY, PassProgress
from stash2plex.syncer.locks import holder_is_dead

log = logging.getLogger(__name__)


class LeaseLostError(RuntimeError):
    """Another replica holds the lease now (ours expired while this process stalled)."""


class PassLease:
    """The lease of one pass, held from :meth:`acquire` to :meth:`release`."""

    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv
        self.revision: int | None = None

    async def acquire(self, progress: PassProgress) -> PassProgress | None:
        """Take the lease; on failure return the pass that holds it (None means we have it)."""
        seen = progress
        for _ in range(3):
            try:
                self.revision = await self.kv.create(LEASE_KEY, progress.model_dump_json().encode())
                return None
            except KeyWrongLastSequenceError:
                pass
            try:
                entry = await self.kv.get(LEASE_KEY)
            except KeyNotFoundError:
                continue  # released in between: try again
            holder = _parse(entry.value)
            if holder is not None and not holder_is_dead(holder.holder):
                return holder
            seen = holder or seen
            log.warning("taking over the reconciliation lease of %s, which is gone", holder.holder if holder else "?")
            await delete_at_revision(self.kv, LEASE_KEY, entry.revision)
        return seen

    async def refresh(self, progress: PassProgress) -> None:
        """Publish the progress and keep the lease alive; :class:`LeaseLostError` if someone else has it."""
        if self.revision is None:
            raise LeaseLostError("the lease is not held")
        try:
            self.revision = await self.kv.update(LEASE_KEY, progress.model_dump_json().encode(), last=self.revision)
        except (KeyWrongLastSequenceError, KeyNotFoundError):
            self.revision = None
            raise LeaseLostError("the reconciliation lease expired and another pass may run") from None

    async def release(self) -> None:
        if self.revision is None:
            return
        await delete_at_revision(self.kv, LEASE_KEY, self.revision)
        self.revision = None


def _parse(raw: bytes | None) -> PassProgress | None:
    if not raw:
        return None
    try:
        return PassProgress.model_validate_json(raw)
    except ValidationError:
        return None
