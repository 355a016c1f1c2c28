"""Listing queries: which params are filters, how they match, sort order and paging.

PMS puts the operator at the end of the parameter NAME (``title=x`` contains,
``title%3D=x`` i.e. ``title==x`` equals, ``year>>=2000`` greater than, ``genre!=3`` is
not), with comma-separated values meaning "any of". Tag filters accept a tag id or a name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tests.sims.plex.model import FIELD_ATTRS, TAG_KINDS, Collection, Item

#: Query parameters that shape a response but never filter it.
NON_FILTER_PARAMS: frozenset[str] = frozenset(
    {
        "type",
        "sort",
        "limit",
        "includeGuids",
        "includeMeta",
        "includeAdvanced",
        "includeCollections",
        "includeExternalMedia",
        "includeChapters",
        "includeMarkers",
        "includeFields",
        "includeBandwidths",
        "includeGeolocation",
        "includeLoudnessRamps",
        "includeChildren",
        "includeConcerts",
        "includeExtras",
        "includeOnDeck",
        "includePopularLeaves",
        "includePreferences",
        "includeRelated",
        "includeRelatedCount",
        "includeReviews",
        "includeStations",
        "includeAllConcerts",
        "checkFiles",
        "excludeElements",
        "excludeFields",
        "skipRefresh",
        "asyncAugmentMetadata",
        "includeElements",
    }
)
STRING_FIELDS = frozenset({"title", "titleSort", "originalTitle", "studio", "contentRating"})
INTEGER_FIELDS = frozenset({"year"})
#: Epoch-second fields; PMS also takes relative values such as ``-7d`` (not simulated).
DATE_FILTER_FIELDS = frozenset({"addedAt", "updatedAt"})
_DATE_ATTRS = {"addedAt": "added_at", "updatedAt": "updated_at"}
SORT_KEYS = frozenset(
    {
        "titleSort",
        "title",
        "addedAt",
        "updatedAt",
        "originallyAvailableAt",
        "year",
        "rating",
        "audienceRating",
        "userRating",
        "ratingKey",
    }
)
_FILTER_KEY = re.compile(r"^(?:[a-z]+\.)?(?P<field>[A-Za-z]+)(?P<op>[!<>=&]*)$")


class QueryError(ValueError):
    """The simulator does not understand the query; it answers 400 rather than guess."""


@dataclass(frozen=True)
class Filter:
    field: str
    op: str  # "", "=", "!", "!=", "<", ">", ">>", "<<"
    values: tuple[str, ...]


@dataclass(frozen=True)
class Paging:
    start: int
    size: int | None

    @property
    def explicit(self) -> bool:
        return self.size is not None or self.start != 0


def paging(query: Mapping[str, str], headers: Mapping[str, str]) -> Paging:
    """``X-Plex-Container-Start/Size`` from the query string or, failing that, the headers."""

    def pick(name: str) -> str | None:
        value = query.get(name)
        if value is None:
            value = headers.get(name.lower())
        return value

    try:
        start = int(pick("X-Plex-Container-Start") or 0)
        raw_size = pick("X-Plex-Container-Size")
        size = int(raw_size) if raw_size not in (None, "") else None
    except ValueError:
        raise QueryError("container start/size must be integers") from None
    return Paging(start=max(start, 0), size=size if size is None else max(size, 0))


def parse_filters(pairs: list[tuple[str, str]]) -> list[Filter]:
    filters: list[Filter] = []
    for key, value in pairs:
        if key in NON_FILTER_PARAMS or key.startswith("X-Plex-"):
            continue
        if key in {"push", "pop", "and", "or"}:
            raise QueryError("advanced (and/or) filters are not simulated")
        m = _FILTER_KEY.match(key)
        if m is None:
            raise QueryError(f"unsupported query parameter {key!r}")
        field, op = m["field"], m["op"]
        if field in STRING_FIELDS or field == "guid":
            allowed = {"", "=", "!", "!=", "<", ">"}
        elif field in INTEGER_FIELDS or field in DATE_FILTER_FIELDS:
            allowed = {"", "!", ">>", "<<"}
        elif field in TAG_KINDS:
            allowed = {"", "!"}
        else:
            raise QueryError(f"filter on {field!r} is not simulated")
        if op not in allowed:
            raise QueryError(f"operator {op!r} not supported for {field!r}")
        filters.append(
            Filter(
                field,
                op,
                tuple(value.split(","))
                if field in TAG_KINDS or field in INTEGER_FIELDS or field in DATE_FILTER_FIELDS
                else (value,),
            )
        )
    return filters


def parse_sort(raw: str | None) -> tuple[str, bool]:
    """``movie.titleSort:desc`` -> ("titleSort", True). Only the first sort field is honoured."""
    if not raw:
        return "titleSort", False
    first = raw.split(",")[0]
    name, _, direction = first.partition(":")
    name = name.rsplit(".", 1)[-1]
    if name not in SORT_KEYS:
        raise QueryError(f"sort on {name!r} is not simulated")
    if direction not in {"", "asc", "desc", "nullsLast"}:
        raise QueryError(f"unknown sort direction {direction!r}")
    return name, direction == "desc"


#: Fields a listing can filter on without building the whole (maybe generated) item.
TITLE_FIELDS = frozenset({"title", "titleSort"})


def titles_only(filters: list[Filter]) -> bool:
    return all(f.field in TITLE_FIELDS for f in filters)


@dataclass(frozen=True)
class TitleView:
    """Just enough of an item for :func:`matches` when :func:`titles_only` holds."""

    title: str
    sort_title: str
    guid: str = ""


def _string_match(op: str, value: str | None, wanted: str) -> bool:
    v = (value or "").casefold()
    w = wanted.casefold()
    if op == "":
        return w in v
    if op == "!":
        return w not in v
    if op == "=":
        return v == w
    if op == "!=":
        return v != w
    if op == "<":
        return v.startswith(w)
    if op == ">":
        return v.endswith(w)
    raise QueryError(op)


def matches(target: Item | Collection | TitleView, filters: list[Filter], tag_id: Callable[[str, str], int]) -> bool:
    """Whether an item (or collection, for the string fields) passes every filter."""
    for f in filters:
        if f.field == "guid":
            if not _string_match(f.op or "=", target.guid, f.values[0]):
                return False
        elif f.field in STRING_FIELDS:
            value = target.sort_title if f.field == "titleSort" else getattr(target, FIELD_ATTRS[f.field], None)
            if not _string_match(f.op, value if isinstance(value, str) else None, f.values[0]):
                return False
        elif f.field in INTEGER_FIELDS or f.field in DATE_FILTER_FIELDS:
            assert not isinstance(target, TitleView)
            number = getattr(target, _DATE_ATTRS.get(f.field) or FIELD_ATTRS[f.field], None)
            try:
                wanted = [int(v) for v in f.values]
            except ValueError:
                raise QueryError(f"{f.field} wants integers") from None
            if f.op == "":
                ok = number in wanted
            elif f.op == "!":
                ok = number not in wanted
            elif f.op == ">>":
                ok = number is not None and number > wanted[0]
            else:
                ok = number is not None and number < wanted[0]
            if not ok:
                return False
        else:
            assert not isinstance(target, TitleView)
            tags = target.tags.get(f.field, [])
            names = {t.tag.casefold() for t in tags}
            ids = {tag_id(f.field, t.tag) for t in tags}
            hit = any((v.isdigit() and int(v) in ids) or v.casefold() in names for v in f.values)
            if hit == (f.op == "!"):
                return False
    return True
