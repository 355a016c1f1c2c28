"""Parse and apply the query string of ``PUT /library/sections/{id}/all`` the way PMS reads it.

plexapi encodes every edit as query parameters (``LibrarySection._edit`` via ``utils.joinArgs``):

* ``title.value=New&title.locked=1`` sets a field and its lock;
* ``genre[0].tag.tag=A&genre[1].tag.tag=B&genre.locked=1`` REPLACES the whole tag list
  (plexapi itself prepends the existing tags when it "adds");
* ``genre[].tag.tag-=A,B%2CC`` removes tags: the value is a comma-joined list whose items
  plexapi percent-quoted once more, so each piece is unquoted after the split;
* ``actor[0].tag.thumb=URL`` / ``actor[0].tagging.text=Role`` carry an actor's photo and role;
* ``genre[].tag=`` drops every tag of that kind (documented in the official spec).

This module is pure (no I/O, no locks) so the rules can be unit tested on their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import unquote

from tests.sims.plex.model import (
    DATE_FIELDS,
    FLOAT_FIELDS,
    INT_FIELDS,
    LOCK_ONLY_FIELDS,
    TEXT_FIELDS,
    Collection,
    Item,
    TagValue,
)

_TAG_KEY = re.compile(
    r"^(?P<kind>[A-Za-z]+)\[(?P<index>\d*)\]\.(?P<attr>tag\.tag|tag\.thumb|tagging\.thumb|tagging\.text|tag)(?P<minus>-?)$"
)
_VALUE_KEY = re.compile(r"^(?P<field>[A-Za-z]+)\.value$")
_LOCK_KEY = re.compile(r"^(?P<field>[A-Za-z]+)\.locked$")
_FALSEY = {"0", "", "false", "False"}


class EditError(ValueError):
    """The request is malformed; the simulator answers 400 and changes nothing."""


@dataclass(frozen=True)
class TagEdit:
    """What one request does to one tag kind: replace (whole), clear, then remove."""

    replace: tuple[TagValue, ...] | None = None
    remove: tuple[str, ...] = ()
    clear: bool = False


@dataclass
class EditRequest:
    type: int | None = None
    ids: list[int] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)
    locks: dict[str, bool] = field(default_factory=dict)
    tags: dict[str, TagEdit] = field(default_factory=dict)
    unknown: list[tuple[str, str]] = field(default_factory=list)


def parse_edit_params(pairs: Iterable[tuple[str, str]]) -> EditRequest:
    """Turn decoded ``(key, value)`` query pairs into an :class:`EditRequest`."""
    req = EditRequest()
    slots: dict[str, dict[int, dict[str, str]]] = {}
    removals: dict[str, list[str]] = {}
    clears: set[str] = set()
    for key, value in pairs:
        if key == "type":
            req.type = _int(key, value)
        elif key == "id":
            req.ids = [_int(key, part) for part in value.split(",") if part.strip()]
        elif key.startswith("X-Plex-"):
            continue  # headers sent as query parameters (token, container size) are not edits
        elif m := _VALUE_KEY.match(key):
            req.values[m["field"]] = value
        elif m := _LOCK_KEY.match(key):
            req.locks[m["field"]] = value not in _FALSEY
        elif m := _TAG_KEY.match(key):
            kind, index, attr, minus = m["kind"], m["index"], m["attr"], m["minus"]
            if minus:
                if attr != "tag.tag" or index:
                    raise EditError(f"removal must be {kind}[].tag.tag-, got {key}")
                removals.setdefault(kind, []).extend(unquote(p) for p in value.split(",") if p != "")
            elif attr == "tag" and not index:
                clears.add(kind)
            elif not index:
                raise EditError(f"{key} needs an index, e.g. {kind}[0].{attr}")
            else:
                slots.setdefault(kind, {}).setdefault(int(index), {})[attr] = value
        else:
            req.unknown.append((key, value))

    for kind in set(slots) | set(removals) | clears:
        replace: tuple[TagValue, ...] | None = None
        if kind in slots:
            entries = []
            for index in sorted(slots[kind]):
                slot = slots[kind][index]
                if "tag.tag" not in slot:
                    raise EditError(f"{kind}[{index}] has attributes but no {kind}[{index}].tag.tag")
                name = slot["tag.tag"]
                if not name:
                    continue  # an empty name adds nothing
                thumb = slot.get("tag.thumb") or slot.get("tagging.thumb") or None
                entries.append(TagValue(name, thumb=thumb, role=slot.get("tagging.text") or None))
            replace = tuple(entries)
        req.tags[kind] = TagEdit(replace=replace, remove=tuple(removals.get(kind, ())), clear=kind in clears)
    return req


def apply_tag_edit(current: Iterable[TagValue], edit: TagEdit) -> list[TagValue]:
    """The list PMS ends up with. Names compare case-insensitively and appear once.

    A replacement entry without a thumb or role keeps the one the item already had for
    that name: plexapi re-sends existing actors by name only when it "adds" one.
    """
    before = list(current)
    known = {t.tag.casefold(): t for t in before}
    result = [] if edit.clear else before
    if edit.replace is not None:
        result = []
        seen: set[str] = set()
        for entry in edit.replace:
            key = entry.tag.casefold()
            if key in seen:
                continue
            seen.add(key)
            old = known.get(key)
            if old is not None:
                entry = TagValue(entry.tag, thumb=entry.thumb or old.thumb, role=entry.role or old.role)
            result.append(entry)
    if edit.remove:
        gone = {name.casefold() for name in edit.remove}
        result = [t for t in result if t.tag.casefold() not in gone]
    return result


def convert_values(values: dict[str, str], allowed: frozenset[str]) -> tuple[dict[str, object], list[str]]:
    """Typed values for the allowed fields (``''`` clears one) and the names that were ignored."""
    typed: dict[str, object] = {}
    ignored: list[str] = []
    for name, raw in values.items():
        if name not in allowed:
            ignored.append(f"{name}.value")
            continue
        typed[name] = convert_value(name, raw)
    return typed, ignored


def convert_value(name: str, raw: str) -> object:
    """One field value as PMS stores it, or :class:`EditError` when it cannot be."""
    raw = raw.strip() if name not in TEXT_FIELDS else raw
    if name == "title" and not raw.strip():
        raise EditError("title cannot be empty")
    if raw == "":
        return None
    if name in TEXT_FIELDS:
        return raw
    if name in DATE_FIELDS:
        try:
            return date.fromisoformat(raw).isoformat()
        except ValueError:
            raise EditError(f"{name}.value must be YYYY-MM-DD, got {raw!r}") from None
    if name in INT_FIELDS:
        return _int(f"{name}.value", raw)
    if name in FLOAT_FIELDS:
        try:
            return float(raw)
        except ValueError:
            raise EditError(f"{name}.value must be a number, got {raw!r}") from None
    raise EditError(f"unknown field {name}")


def lockable(name: str, fields: frozenset[str], kinds: frozenset[str]) -> bool:
    return name in fields or name in kinds or name in LOCK_ONLY_FIELDS


def _int(key: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise EditError(f"{key} must be an integer, got {value!r}") from None


def apply_edit(
    target: Item | Collection,
    req: EditRequest,
    typed: dict[str, object],
    *,
    fields: frozenset[str],
    kinds: frozenset[str],
) -> dict[str, Any]:
    """Mutate one item or collection; return what changed (for the write journal).

    ``typed`` comes from :func:`convert_values`, run once for all targets first so a bad
    value rejects the whole request before anything changes.
    """
    change: dict[str, Any] = {}
    ignored: list[str] = []
    for name, value in typed.items():
        old = target.get_field(name)
        if old != value:
            target.set_field(name, value)
            change.setdefault("fields", {})[name] = [old, value]
    for name, locked in req.locks.items():
        if not lockable(name, fields, kinds):
            ignored.append(f"{name}.locked")
            continue
        was = name in target.locks
        if locked:
            target.locks.add(name)
        else:
            target.locks.discard(name)
        if was != locked:
            change.setdefault("locks", {})[name] = locked
    for kind, edit in req.tags.items():
        if kind not in kinds:
            ignored.append(f"{kind}[]")
            continue
        before = list(target.tags.get(kind, []))
        after = apply_tag_edit(before, edit)
        if after != before:
            target.tags[kind] = after
            change.setdefault("tags", {})[kind] = {
                "before": [t.tag for t in before],
                "after": [t.tag for t in after],
            }
    if ignored:
        change["ignored"] = ignored
    return change
