"""The Plex simulator's reading of plexapi's edit query string: tag lists replaced whole,
``-=`` removal, field locks. Pure functions, no server."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import pytest
from plexapi.mixins import EditTagsMixin
from plexapi.utils import joinArgs

from tests.sims.plex.edits import (
    EditError,
    TagEdit,
    apply_edit,
    apply_tag_edit,
    convert_value,
    convert_values,
    parse_edit_params,
)
from tests.sims.plex.model import MOVIE_FIELDS, TAG_KINDS, Item, TagValue

pytestmark = pytest.mark.unit

KINDS = frozenset(TAG_KINDS)


def _wire(params: dict[str, object]) -> list[tuple[str, str]]:
    """Encode like plexapi (``utils.joinArgs``) and decode like the server (one unquote)."""
    join: Any = joinArgs  # plexapi is unannotated
    query: str = join(params)
    return parse_qsl(query.lstrip("?"), keep_blank_values=True)


def _tag_helper(tag: str, items: list[str], *, remove: bool = False) -> dict[str, object]:
    """The query parameters plexapi's ``editTags`` builds (``EditTagsMixin._tagHelper``)."""
    helper: Any = EditTagsMixin._tagHelper
    params: dict[str, object] = helper(tag, items, remove=remove)
    return params


def _movie(**tags: list[TagValue]) -> Item:
    return Item(rating_key=7, section_id=1, title="Old Title", summary="Old summary", tags=dict(tags))


def test_field_values_and_locks() -> None:
    req = parse_edit_params(
        [("type", "1"), ("id", "7,8"), ("title.value", "New"), ("title.locked", "1"), ("summary.locked", "0")]
    )
    assert req.type == 1
    assert req.ids == [7, 8]
    assert req.values == {"title": "New"}
    assert req.locks == {"title": True, "summary": False}


def test_tag_slots_are_ordered_by_index_not_by_parameter_order() -> None:
    req = parse_edit_params([("genre[1].tag.tag", "B"), ("genre[0].tag.tag", "A"), ("genre.locked", "1")])
    assert req.tags["genre"] == TagEdit(replace=(TagValue("A"), TagValue("B")))
    assert req.locks == {"genre": True}


def test_removal_splits_on_commas_then_unquotes_each_name() -> None:
    params = _tag_helper("genre", ["Sci, Fi", "Drama", "50% Off"], remove=True)
    req = parse_edit_params(_wire(params))
    assert req.tags["genre"].remove == ("Sci, Fi", "Drama", "50% Off")
    assert req.tags["genre"].replace is None


def test_actor_thumb_and_role_travel_with_the_name() -> None:
    req = parse_edit_params(
        _wire(
            {
                "actor[0].tag.tag": "Ada Brenner",
                "actor[0].tag.thumb": "https://img.example/ada.jpg?s=1&t=2",
                "actor[0].tagging.text": "Maren",
                "actor[1].tag.tag": "Mei Lin",
            }
        )
    )
    assert req.tags["actor"].replace == (
        TagValue("Ada Brenner", thumb="https://img.example/ada.jpg?s=1&t=2", role="Maren"),
        TagValue("Mei Lin"),
    )


def test_clearing_a_kind_and_ignoring_tokens_and_unknown_keys() -> None:
    req = parse_edit_params([("genre[].tag", ""), ("X-Plex-Token", "secret"), ("mystery", "1")])
    assert req.tags["genre"] == TagEdit(clear=True)
    assert req.unknown == [("mystery", "1")]


@pytest.mark.parametrize(
    "pairs",
    [
        [("id", "seven")],
        [("genre[0].tag.tag-", "A")],
        [("genre[].tag.tag", "A")],
        [("actor[0].tag.thumb", "https://img.example/a.jpg")],
    ],
)
def test_malformed_edits_are_refused(pairs: list[tuple[str, str]]) -> None:
    with pytest.raises(EditError):
        parse_edit_params(pairs)


def test_a_replacement_drops_every_tag_it_does_not_name() -> None:
    before = [TagValue("Drama"), TagValue("Thriller")]
    assert apply_tag_edit(before, TagEdit(replace=(TagValue("Noir"),))) == [TagValue("Noir")]


def test_replacement_dedupes_case_insensitively_and_keeps_known_thumbs_and_roles() -> None:
    before = [TagValue("Ada Brenner", thumb="https://img.example/ada.jpg", role="Maren")]
    after = apply_tag_edit(
        before, TagEdit(replace=(TagValue("Ada Brenner"), TagValue("ada brenner"), TagValue("Mei Lin")))
    )
    assert after == [TagValue("Ada Brenner", thumb="https://img.example/ada.jpg", role="Maren"), TagValue("Mei Lin")]


def test_removal_is_case_insensitive_and_applies_after_a_replacement() -> None:
    before = [TagValue("Drama"), TagValue("Noir")]
    edit = TagEdit(replace=(TagValue("Drama"), TagValue("Noir"), TagValue("Heist")), remove=("noir",))
    assert apply_tag_edit(before, edit) == [TagValue("Drama"), TagValue("Heist")]
    assert apply_tag_edit(before, TagEdit(clear=True)) == []


def test_plexapi_add_genre_round_trip_keeps_existing_tags() -> None:
    movie = _movie(genre=[TagValue("Drama"), TagValue("Thriller")])
    existing = [t.tag for t in movie.tags["genre"]]
    params = {"type": 1, "id": 7, **_tag_helper("genre", [*existing, "Noir"])}
    req = parse_edit_params(_wire(params))
    typed, _ = convert_values(req.values, MOVIE_FIELDS)
    change = apply_edit(movie, req, typed, fields=MOVIE_FIELDS, kinds=KINDS)
    assert movie.tag_names("genre") == ["Drama", "Thriller", "Noir"]
    assert "genre" in movie.locks
    assert change["tags"]["genre"] == {"before": ["Drama", "Thriller"], "after": ["Drama", "Thriller", "Noir"]}


def test_locks_change_only_when_asked_and_unknown_fields_are_reported() -> None:
    movie = _movie()
    movie.locks.add("summary")
    req = parse_edit_params(
        _wire(
            {"title.value": "New Title", "title.locked": 1, "summary.locked": 1, "bogus.value": "x", "bogus.locked": 1}
        )
    )
    typed, ignored = convert_values(req.values, MOVIE_FIELDS)
    change = apply_edit(movie, req, typed, fields=MOVIE_FIELDS, kinds=KINDS)
    assert movie.title == "New Title"
    assert movie.locks == {"title", "summary"}
    assert change["locks"] == {"title": True}  # summary was locked already: no change
    assert change["fields"] == {"title": ["Old Title", "New Title"]}
    assert ignored == ["bogus.value"]
    assert change["ignored"] == ["bogus.locked"]


def test_an_empty_value_clears_and_sort_title_falls_back_to_the_title() -> None:
    movie = _movie()
    movie.title_sort = "Custom"
    req = parse_edit_params([("titleSort.value", ""), ("summary.value", "")])
    typed, _ = convert_values(req.values, MOVIE_FIELDS)
    apply_edit(movie, req, typed, fields=MOVIE_FIELDS, kinds=KINDS)
    assert movie.summary is None
    assert movie.sort_title == "Old Title"


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        ("originallyAvailableAt", "2019-04-01", "2019-04-01"),
        ("year", "2019", 2019),
        ("rating", "6.5", 6.5),
        ("addedAt", "1700000000", 1_700_000_000),
        ("studio", "  Spaced  ", "  Spaced  "),
    ],
)
def test_values_are_typed(field: str, raw: str, expected: object) -> None:
    assert convert_value(field, raw) == expected


@pytest.mark.parametrize(
    ("field", "raw"), [("originallyAvailableAt", "2019-13-01"), ("year", "MMXIX"), ("rating", "high"), ("title", " ")]
)
def test_bad_values_are_refused(field: str, raw: str) -> None:
    with pytest.raises(EditError):
        convert_value(field, raw)
