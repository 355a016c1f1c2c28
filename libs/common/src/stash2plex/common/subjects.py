"""Every NATS subject Stash2Plex uses, built in one place so no service spells one by hand."""

from __future__ import annotations

import re
from enum import StrEnum

SYNC_PREFIX = "s2p.sync.scene"
GAP_PREFIX = "s2p.gap"
DLQ_PREFIX = "s2p.dlq.scene"
CONTROL_PREFIX = "s2p.ctl"
ENTITY_PREFIX = "s2p.entity"
PROGRESS_PREFIX = "s2p.progress.entity"

# A subject token may not hold whitespace or the separators/wildcards NATS gives meaning to.
_TOKEN = re.compile(r"^[A-Za-z0-9_\-]+$")


class GapKind(StrEnum):
    """What the reconciler (or the provider) found out of step between Stash and Plex."""

    PLEX_EMPTY = "plex_empty"
    STALE = "stale"
    MISSING_IN_PLEX = "missing_in_plex"
    MISSING_IN_STASH = "missing_in_stash"

    @property
    def actionable(self) -> bool:
        """The syncer acts on these; ``missing_in_stash`` is only reported."""
        return self is not GapKind.MISSING_IN_STASH


def token(value: str | int) -> str:
    """Check that ``value`` is safe as one subject token (ids come from outside)."""
    text = str(value)
    if not _TOKEN.match(text):
        raise ValueError(f"{text!r} cannot be a NATS subject token (letters, digits, '-' and '_' only)")
    return text


def sync_subject(scene_id: str | int) -> str:
    return f"{SYNC_PREFIX}.{token(scene_id)}"


def gap_subject(kind: GapKind, item_id: str | int) -> str:
    return f"{GAP_PREFIX}.{kind.value}.{token(item_id)}"


def dlq_subject(scene_id: str | int) -> str:
    return f"{DLQ_PREFIX}.{token(scene_id)}"


def entity_subject(kind: str, entity_id: str | int) -> str:
    return f"{ENTITY_PREFIX}.{token(kind)}.{token(entity_id)}"


def control_subject(service: str, verb: str) -> str:
    return f"{CONTROL_PREFIX}.{token(service)}.{token(verb)}"


def scene_id_of(subject: str) -> str:
    """The scene id at the end of a sync or dead-letter subject."""
    for prefix in (SYNC_PREFIX, DLQ_PREFIX):
        if subject.startswith(prefix + "."):
            return subject[len(prefix) + 1 :]
    raise ValueError(f"{subject!r} is not a scene subject")
