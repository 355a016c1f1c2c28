"""From what Plex shows and what Stash says to the smallest write: pure, so every rule is testable.

The rules, field by field (a field whose toggle is off is not in the desired metadata at all):

* **Stash has a value** and Plex differs: write it and lock the field; equal but unlocked: lock
  only. With ``preserve_plex_edits`` a Plex value that is neither empty nor the one Stash2Plex
  wrote last is kept.
* **Stash has no value** (the emptied-field rule): Plex is cleared only if the value there was
  written by Stash2Plex (the sync record remembers a hash of it), so emptying a field in Stash
  empties it in Plex while a value Stash never had — from Plex's agent or the user — stays.
  With ``preserve_plex_edits`` it is also kept when it was edited in Plex since.
* **Metadata gate**: a scene with none of studio, performers, tags, details and date is still
  being identified; if the Plex item has any of studio, actors, genres, summary or date, the
  item is left exactly as it is (no field, no image).
* **Collections** are added, never replaced: collections the item is in that Stash2Plex did not
  put there stay; the ones it put there and Stash no longer names are removed.
* **Images** are uploaded when the bytes differ from the last upload to that item (a content
  digest, not the URL: Stash's cover URL changes on every scene edit).

Tag lists compare ignoring case and order, as Plex stores them. A list is sent whole
(``genre[i].tag.tag``) plus the removal of what must go (``genre[].tag.tag-``), so the result
is the same whether Plex replaces or merges an indexed list.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from stash2plex.syncer.mapping import ACTOR, COLLECTION, GENRE, USER_RATING, Actor, DesiredMetadata
from stash2plex.syncer.plex_item import PlexItemState
from stash2plex.syncer.sync_record import ItemRecord, value_hash


class DiffOptions(BaseModel):
    model_config = ConfigDict(frozen=True)

    preserve_plex_edits: bool = False
    defer_images: bool = False
    """The scene's cover may not exist yet: plan no upload, mark the images pending."""


class EditPlan(BaseModel):
    """One item's write: a batched edit's parameters, a rating, and the image uploads."""

    model_config = ConfigDict(frozen=True)

    rating_key: str
    section_id: str
    params: dict[str, str] = Field(default_factory=dict)
    """Query parameters of ``PUT /library/sections/<id>/all`` besides ``type`` and ``id``."""
    user_rating: str | None = None
    """None: leave the rating; "": remove it; else the 0–10 value (``PUT /:/rate``)."""
    uploads: tuple[str, ...] = ()
    deferred: tuple[str, ...] = ()
    held: bool = False
    """The metadata gate kept the item as it is."""
    written: dict[str, str] = Field(default_factory=dict)
    collections: tuple[str, ...] = ()

    @property
    def writes(self) -> bool:
        return bool(self.params or self.user_rating is not None or self.uploads)


SET, LOCK, CLEAR = "set", "lock", "clear"


def _decide(want: str, have: str, locked: bool, ours: str | None, preserve: bool) -> tuple[str | None, str | None]:
    """(action, hash to remember) for one field or tag list, by the rules in the module doc."""
    plex_is_ours = ours is not None and ours == value_hash(have)
    if not want:
        if ours is None or not have or (preserve and not plex_is_ours):
            return None, None
        return CLEAR, None
    if preserve and have and have != want and not plex_is_ours:
        return None, None
    if have != want:
        return SET, value_hash(want)
    return (None if locked else LOCK), value_hash(want)


def names_key(names: tuple[str, ...]) -> str:
    """A tag list as one comparable string: Plex ignores case and keeps no meaningful order."""
    return "\n".join(sorted({name.casefold() for name in names}))


def actors_key(actors: tuple[Actor, ...]) -> str:
    return "\n".join(sorted({f"{a.name.casefold()}\t{a.photo or ''}" for a in actors}))


def _tag_params(
    kind: str, want: tuple[str, ...], have: tuple[str, ...], photos: tuple[str | None, ...] = ()
) -> dict[str, str]:
    params: dict[str, str] = {}
    for index, name in enumerate(want):
        params[f"{kind}[{index}].tag.tag"] = name
        if index < len(photos) and photos[index]:
            params[f"{kind}[{index}].tag.thumb"] = photos[index] or ""
    wanted = {name.casefold() for name in want}
    gone = [name for name in have if name.casefold() not in wanted]
    if gone:
        params[f"{kind}[].tag.tag-"] = ",".join(quote(name) for name in gone)
    params[f"{kind}.locked"] = "1"
    return params


def plan_edit(
    current: PlexItemState,
    desired: DesiredMetadata,
    previous: ItemRecord | None,
    digests: Mapping[str, str],
    options: DiffOptions,
) -> EditPlan:
    """The write that brings ``current`` to ``desired``.

    ``digests`` are the digests of Stash's image bytes by element; an element without one is not uploaded.
    """
    written = dict(previous.written) if previous else {}
    kept_collections = previous.collections if previous else ()
    base = {"rating_key": current.rating_key, "section_id": current.section_id}
    if not desired.meaningful and current.meaningful:
        return EditPlan(**base, held=True, written=written, collections=kept_collections)
    preserve = options.preserve_plex_edits
    params: dict[str, str] = {}
    user_rating: str | None = None

    for name, want in desired.fields.items():
        have = current.fields.get(name, "")
        action, remembered = _decide(want, have, name in current.locks, written.get(name), preserve)
        _remember(written, name, remembered)
        if name == USER_RATING:
            if action in (SET, CLEAR):
                user_rating = want
            continue
        if action in (SET, CLEAR):
            params[f"{name}.value"] = want
        if action is not None:
            params[f"{name}.locked"] = "1"

    if desired.genres is not None:
        want_key, have_key = names_key(desired.genres), names_key(current.genres)
        action, remembered = _decide(want_key, have_key, GENRE in current.locks, written.get(GENRE), preserve)
        _remember(written, GENRE, remembered)
        if action in (SET, CLEAR):
            params.update(_tag_params(GENRE, desired.genres, current.genres))
        elif action == LOCK:
            params[f"{GENRE}.locked"] = "1"

    if desired.actors is not None:
        want_key, have_key = actors_key(desired.actors), actors_key(current.actors)
        action, remembered = _decide(want_key, have_key, ACTOR in current.locks, written.get(ACTOR), preserve)
        _remember(written, ACTOR, remembered)
        if action in (SET, CLEAR):
            names = tuple(a.name for a in desired.actors)
            have_names = tuple(a.name for a in current.actors)
            params.update(_tag_params(ACTOR, names, have_names, tuple(a.photo for a in desired.actors)))
        elif action == LOCK:
            params[f"{ACTOR}.locked"] = "1"

    collections = kept_collections
    if desired.collections is not None:
        ours_before = {name.casefold() for name in kept_collections}
        ours_now = {name.casefold() for name in desired.collections}
        others = tuple(c for c in current.collections if c.casefold() not in ours_before | ours_now)
        target = others + desired.collections
        if names_key(target) != names_key(current.collections):
            params.update(_tag_params(COLLECTION, target, current.collections))
        collections = desired.collections

    uploads: list[str] = []
    deferred: list[str] = []
    images = dict(previous.images) if previous else {}
    for element in desired.images:
        ours = element in images
        if preserve and not ours and current.image(element):
            continue  # Plex has its own picture and Stash2Plex never replaced it
        if options.defer_images:
            deferred.append(element)
            if element not in current.locks:
                params[f"{element}.locked"] = "1"  # Stash's cover is coming: Plex's agents keep off meanwhile
            continue
        if element not in digests:
            continue  # Stash's image could not be used; the item keeps its picture
        if digests[element] != images.get(element):
            uploads.append(element)
            if element not in current.locks:
                params[f"{element}.locked"] = "1"
    return EditPlan(
        **base,
        params=params,
        user_rating=user_rating,
        uploads=tuple(uploads),
        deferred=tuple(deferred),
        written=written,
        collections=collections,
    )


def _remember(written: dict[str, str], name: str, remembered: str | None) -> None:
    if remembered is None:
        written.pop(name, None)
    else:
        written[name] = remembered
