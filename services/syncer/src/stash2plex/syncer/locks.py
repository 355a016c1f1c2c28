"""Per-scene locks in NATS KV, so two syncer replicas never work on one scene at once.

JetStream coalesces edits of one scene into one pending job, but a new edit that arrives
while the previous job is in flight is delivered again at once, possibly to another replica.
The lock key is created only if absent (``create``). Its value names the holder
(``host:pid``): a lock left by a process of this host that no longer exists (a crash, a
SIGKILL) is taken over at once; any other stale lock expires with the bucket's TTL, which a
running job keeps pushing back with :meth:`SceneLocks.refresh`.
"""

from __future__ import annotations

import os
import socket

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from stash2plex.common.kv import delete_at_revision

HOST = socket.gethostname()


def this_process() -> str:
    return f"{HOST}:{os.getpid()}"


def holder_is_dead(owner: str) -> bool:
    """True only when the holder is a process of this host that no longer exists."""
    host, _, pid = owner.rpartition(":")
    if host != HOST or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class SceneLocks:
    def __init__(self, kv: KeyValue, owner: str | None = None) -> None:
        self.kv, self.owner = kv, owner or this_process()
        self.held: set[str] = set()
        """Scenes this process holds now; a lock in its name that is not here failed to be released."""

    def _stale(self, scene_id: str, owner: str) -> bool:
        if owner == self.owner:
            return scene_id not in self.held  # ours, left behind while the broker was unreachable
        return holder_is_dead(owner)

    @staticmethod
    def key(scene_id: str) -> str:
        return f"scene.{scene_id}"

    async def acquire(self, scene_id: str) -> int | None:
        """The lock's revision, or None when a live worker holds the scene."""
        for _ in range(2):
            try:
                revision = await self.kv.create(self.key(scene_id), self.owner.encode())
            except KeyWrongLastSequenceError:
                pass
            else:
                self.held.add(scene_id)
                return revision
            try:
                entry = await self.kv.get(self.key(scene_id))
            except KeyNotFoundError:
                continue  # released in between: try again
            if not self._stale(scene_id, (entry.value or b"").decode()):
                return None
            await delete_at_revision(self.kv, self.key(scene_id), entry.revision)
        return None

    async def refresh(self, scene_id: str, revision: int) -> int:
        """Rewrite the lock so its TTL starts again; returns the new revision."""
        return await self.kv.update(self.key(scene_id), self.owner.encode(), last=revision)

    async def release(self, scene_id: str, revision: int) -> None:
        self.held.discard(scene_id)
        await self.delete(scene_id, revision)

    async def delete(self, scene_id: str, revision: int) -> None:
        """Remove the lock at that revision only: a newer lock on the scene stays, and stays held."""
        await delete_at_revision(self.kv, self.key(scene_id), revision)
