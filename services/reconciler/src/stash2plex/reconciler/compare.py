"""One Stash scene against its Plex items: which gap it is, if any. Pure, so every rule is testable.

The order decides which gap a scene is reported as (at most one per pass):

1. **missing_in_plex**: the scene has files and no Plex item has any of them (by the syncer's own
   matching: GUID, mapped path, file name, title). An *ambiguous* match is not a gap: strict
   matching would not write it, so the pass counts it instead.
2. **plex_empty**: an item shows none of studio, actors, genres, summary and date while the scene
   is identified and the syncer would write one of those.
3. **stale**: the sync record says the item does not hold what the syncer would write now: no
   record (never synced), Stash changed the scene after the last sync (``updated_at``), the cover
   or anything else the mapping writes changed (the content hash: a renamed performer or studio
   bumps no ``updated_at``), the last sync did not finish, the scene's items are not the ones
   synced, or Plex shows another value of a field than the one Stash2Plex wrote (title, sort
   title, summary, tagline, date, year, studio, rating: what a listing shows; with
   ``preserve_plex_edits`` an edited value is the user's and only an emptied one counts).

Tag lists and images are judged through the record alone: a listing trims tag lists, and
comparing pictures would mean downloading them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stash2plex.common.stash.models import Scene
from stash2plex.common.subjects import GapKind
from stash2plex.reconciler.plex_side import COMPARED_FIELDS, ItemFacts, field_digest
from stash2plex.syncer.mapping import DATE, STUDIO, SUMMARY, DesiredMetadata
from stash2plex.syncer.plex_index import MatchResult
from stash2plex.syncer.sync_record import SyncRecord

EMPTY_DIGEST = field_digest("")
_COMPARED = frozenset(COMPARED_FIELDS)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a pass concluded about one scene."""

    kind: GapKind | None
    detail: str = ""
    rating_keys: tuple[str, ...] = ()
    """The scene's items (the candidates of an ambiguous match): they have a scene."""
    ambiguous: bool = False


IN_STEP = Verdict(kind=None)


def would_fill(desired: DesiredMetadata) -> bool:
    """The syncer would give an empty item something identifying (the fields ``plex_empty`` is about)."""
    fields = desired.fields
    return bool(fields.get(SUMMARY) or fields.get(STUDIO) or fields.get(DATE) or desired.genres or desired.actors)


def judge(
    scene: Scene,
    desired: DesiredMetadata,
    match: MatchResult,
    record: SyncRecord | None,
    facts: Mapping[str, ItemFacts],
    *,
    preserve_plex_edits: bool = False,
) -> Verdict:
    """The gap ``scene`` is, given its items as the index found them and its sync record."""
    if match.ambiguous:
        return Verdict(kind=None, detail=match.detail, rating_keys=match.candidates, ambiguous=True)
    if not match.found:
        if not scene.files:
            return IN_STEP  # nothing Plex could ever show
        return Verdict(kind=GapKind.MISSING_IN_PLEX, detail=match.detail or "no Plex item has its files")
    keys = match.rating_keys
    shown = [(rk, facts[rk]) for rk in keys if rk in facts]
    if desired.meaningful and would_fill(desired):
        empty = [rk for rk, fact in shown if not fact.meaningful]
        if empty:
            return Verdict(
                kind=GapKind.PLEX_EMPTY,
                detail=f"Plex item(s) {', '.join(empty)} show no metadata while Stash has the scene identified",
                rating_keys=keys,
            )
    reason = stale_reason(scene, desired, keys, record, shown, preserve_plex_edits)
    if reason:
        return Verdict(kind=GapKind.STALE, detail=reason, rating_keys=keys)
    return Verdict(kind=None, rating_keys=keys)


def stale_reason(
    scene: Scene,
    desired: DesiredMetadata,
    keys: tuple[str, ...],
    record: SyncRecord | None,
    shown: list[tuple[str, ItemFacts]],
    preserve_plex_edits: bool,
) -> str:
    """Why the scene's items do not hold what the syncer would write ("" when they do)."""
    if record is None or not record.content_hash:
        return "never synced to Plex"
    if scene.updated_at > record.stash_updated_at:
        changed, synced = scene.updated_at.isoformat(), record.synced_at.isoformat()
        return f"changed in Stash at {changed}, after its last sync ({synced})"
    if record.content_hash != desired.content_hash:
        synced_covers = {url for item in record.items for url in item.image_urls.values()}
        if desired.images and not set(desired.images.values()) <= synced_covers:
            return "its cover changed in Stash since its last sync"
        return "what the syncer would write changed since its last sync (a performer, studio, tag, group or setting)"
    if not record.complete:
        pending = sorted({p for item in record.items for p in item.pending})
        return f"its last sync did not finish ({', '.join(pending) or 'no item written'} still to do)"
    if tuple(sorted(keys)) != record.rating_keys:
        return f"its Plex items are now {', '.join(sorted(keys))}, synced were {', '.join(record.rating_keys)}"
    for rating_key, fact in shown:
        item = record.item(rating_key)
        if item is None:
            continue
        for name, ours in item.written.items():
            if name not in _COMPARED:
                continue
            have = fact.digest(name)
            if have.hex() == ours:
                continue
            if preserve_plex_edits and have != EMPTY_DIGEST:
                continue  # edited in Plex: the syncer keeps the user's value
            return f"Plex item {rating_key} shows another {name} than Stash2Plex wrote"
    return ""
