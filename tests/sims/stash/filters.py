"""Stash's filter semantics as pure functions, so they can be unit-tested on their own.

They follow Stash's SQL (``pkg/sqlite/criterion_handlers.go``, ``sql.go``) rather
than what one would expect:

* ``EQUALS`` on strings and paths is SQLite ``LIKE`` with no wildcards added:
  case-insensitive for ASCII letters only, and ``%`` / ``_`` in the value still
  match any run / any one character.
* ``INCLUDES`` splits an unquoted value on whitespace and matches when *any* word
  is contained; a value wrapped in double quotes is one phrase. ``EXCLUDES``
  requires that *no* word is contained.
* ``updated_at``/``created_at`` compare the stored RFC3339 text with the value as
  text; the offset in the stored text is not interpreted.
* SQL ``NULL`` is three-valued: a criterion on a missing value matches nothing
  except ``IS_NULL`` (and the ``NOT_…REGEX`` form).

A scene with several files is several SQL rows; it matches when any row does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

Criterion = Mapping[str, Any]
Truth = bool | None  # SQL's three-valued logic: None is NULL

_GO_WHITESPACE = re.compile(r"[\t\n\f\r ]+")  # RE2's \s is ASCII-only


class FilterError(Exception):
    """A filter Stash rejects (with Stash's message) or one this simulator does not implement."""


def not_simulated(what: str) -> FilterError:
    return FilterError(f"stash sim: {what} is not simulated")


# -- SQL building blocks -------------------------------------------------------------------


def _not(value: Truth) -> Truth:
    return None if value is None else not value


def _any(values: Iterable[Truth]) -> Truth:
    seen_null = False
    for value in values:
        if value is True:
            return True
        seen_null = seen_null or value is None
    return None if seen_null else False


def _all(values: Iterable[Truth]) -> Truth:
    seen_null = False
    for value in values:
        if value is False:
            return False
        seen_null = seen_null or value is None
    return None if seen_null else True


@lru_cache(maxsize=4096)
def _like_regex(pattern: str) -> re.Pattern[str]:
    """The pattern as a regex; ``IGNORECASE`` with ``ASCII`` folds A-Z only, as SQLite's ``LIKE`` does."""
    parts = [".*" if char == "%" else "." if char == "_" else re.escape(char) for char in pattern]
    return re.compile("".join(parts), re.DOTALL | re.IGNORECASE | re.ASCII)


def like(value: str | None, pattern: str) -> Truth:
    """SQLite ``value LIKE pattern`` with its defaults: ``%``/``_`` wildcards, ASCII-only case folding."""
    if value is None:
        return None
    return _like_regex(pattern).fullmatch(value) is not None


def search_terms(value: str) -> tuple[list[str], bool]:
    """How Stash reads an ``INCLUDES``/``EXCLUDES`` value: (words, is_phrase).

    Surrounding double quotes make the rest one phrase; otherwise the value is
    split on whitespace into words.
    """
    query = value.strip()
    trimmed = query.strip('"')
    if trimmed == query:
        return _GO_WHITESPACE.sub(" ", query).split(" "), False
    return [trimmed], True


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as error:
        raise FilterError(f"error parsing regexp: {error}") from None


# -- criteria ------------------------------------------------------------------------------


def _string_clause(value: str | None, criterion: Criterion) -> Truth:
    modifier, operand = criterion["modifier"], criterion.get("value", "")
    if modifier in ("INCLUDES", "EXCLUDES"):
        words, _ = search_terms(operand)
        likes = [like(value, f"%{word}%") for word in words]
        return _any(likes) if modifier == "INCLUDES" else _all(_not(v) for v in likes)
    if modifier == "EQUALS":
        return like(value, operand)
    if modifier == "NOT_EQUALS":
        return _not(like(value, operand))
    if modifier == "MATCHES_REGEX":
        return None if value is None else _regex(operand).search(value) is not None
    if modifier == "NOT_MATCHES_REGEX":
        return True if value is None else _regex(operand).search(value) is None
    if modifier == "IS_NULL":
        return value is None or value.strip() == ""
    if modifier == "NOT_NULL":
        return value is not None and value.strip() != ""
    raise FilterError("unsupported string filter modifier")


def string_matches(rows: Sequence[str | None], criterion: Criterion) -> bool:
    """A ``StringCriterionInput`` against a column that may have several rows (files, urls).

    No rows behaves like one NULL row (a LEFT JOIN that found nothing).
    """
    return any(_string_clause(value, criterion) is True for value in rows or [None])


def path_matches(full_paths: Sequence[str], criterion: Criterion) -> bool:
    """Stash's scene ``path`` filter over the full paths (folder + separator + basename) of every file."""
    return string_matches(full_paths, criterion)


def int_matches(rows: Sequence[float | None], criterion: Criterion) -> bool:
    """An ``IntCriterionInput``; as in Stash, ``BETWEEN`` without ``value2`` has an upper bound of 0."""
    modifier = criterion["modifier"]
    low: float = criterion["value"]
    high: float = criterion.get("value2") or 0

    def clause(value: float | None) -> Truth:
        if modifier == "IS_NULL":
            return value is None
        if modifier == "NOT_NULL":
            return value is not None
        if value is None:
            return None
        match modifier:
            case "EQUALS":
                return value == low
            case "NOT_EQUALS":
                return value != low
            case "GREATER_THAN":
                return value > low
            case "LESS_THAN":
                return value < low
            case "BETWEEN":
                return low <= value <= high
            case "NOT_BETWEEN":
                return not low <= value <= high
        raise FilterError(f"unsupported numeric modifier type {modifier}")

    return any(clause(v) is True for v in rows or [None])


def text_compare_matches(stored: str | None, criterion: Criterion, default_upper: str) -> bool:
    """A ``TimestampCriterionInput``/``DateCriterionInput``: the stored text against the value, compared as text.

    ``default_upper`` is what Stash uses for ``BETWEEN`` without ``value2``: now + 1 day.
    """
    modifier, low = criterion["modifier"], str(criterion.get("value", ""))
    high = str(criterion.get("value2") or default_upper)
    if modifier == "IS_NULL":
        return stored is None
    if modifier == "NOT_NULL":
        return stored is not None
    if stored is None:
        return False
    match modifier:
        case "EQUALS":
            return stored == low
        case "NOT_EQUALS":
            return stored != low
        case "GREATER_THAN":
            return stored > low
        case "LESS_THAN":
            return stored < low
        case "BETWEEN":
            return low <= stored <= high
        case "NOT_BETWEEN":
            return not low <= stored <= high
    raise FilterError("unsupported date modifier type")


def normalise_date(value: str) -> str:
    """Stash parses a date criterion value; partial dates fill in, garbage becomes the zero date."""
    for pattern, suffix in ((r"\d{4}-\d{2}-\d{2}", ""), (r"\d{4}-\d{2}", "-01"), (r"\d{4}", "-01-01")):
        if re.fullmatch(pattern, value.strip()):
            return value.strip() + suffix
    return "0001-01-01"


def parse_ids(values: Iterable[Any] | None) -> list[int]:
    """GraphQL ``ID`` values as Stash's integer ids (Stash's own error text when one is not a number)."""
    ids = []
    for value in values or ():
        try:
            ids.append(int(str(value)))
        except ValueError:
            raise FilterError(f'strconv.Atoi: parsing "{value}": invalid syntax') from None
    return ids


def multi_matches(ids: set[int], criterion: Criterion) -> bool:
    """A ``MultiCriterionInput`` (e.g. ``performers``) against the ids a scene is linked to."""
    modifier = criterion["modifier"]
    if modifier == "IS_NULL":
        return not ids
    if modifier == "NOT_NULL":
        return bool(ids)
    values, excludes = parse_ids(criterion.get("value")), parse_ids(criterion.get("excludes"))
    if modifier == "EXCLUDES":
        modifier, excludes, values = "INCLUDES_ALL", excludes + values, []
    ok = True
    if values:
        match modifier:
            case "INCLUDES":
                ok = bool(ids & set(values))
            case "INCLUDES_ALL":
                ok = set(values) <= ids
            case "EQUALS":
                ok = ids == set(values)
            case "NOT_EQUALS":
                raise FilterError("not equals modifier is not supported for multi criterion input")
            case _:
                raise not_simulated(f"modifier {modifier} on a multi criterion")
    return ok and not (ids & set(excludes))


def hierarchical_matches(
    ids: set[int],
    criterion: Criterion,
    expand: Callable[[list[int], int | None], set[int]],
) -> bool:
    """A ``HierarchicalMultiCriterionInput`` (studios, tags, groups).

    ``expand(roots, depth)`` gives the roots and their descendants (depth None = 0:
    the roots only; -1: all levels), as Stash expands both values and excludes.
    """
    modifier = criterion["modifier"]
    if modifier == "IS_NULL":
        return not ids
    if modifier == "NOT_NULL":
        return bool(ids)
    depth = criterion.get("depth")
    values, excludes = parse_ids(criterion.get("value")), parse_ids(criterion.get("excludes"))
    if modifier == "EXCLUDES":
        modifier, excludes, values = "INCLUDES_ALL", excludes + values, []
    ok = True
    if values:
        match modifier:
            case "INCLUDES":
                ok = bool(ids & expand(values, depth))
            case "INCLUDES_ALL":
                ok = all(ids & expand([value], depth) for value in values)
            case "EQUALS":
                ok = ids == set(values)
            case "NOT_EQUALS":
                raise FilterError("not equals modifier is not supported for hierarchical multi criterion input")
            case _:
                raise not_simulated(f"modifier {modifier} on a hierarchical criterion")
    return ok and not (excludes and ids & expand(excludes, depth))
