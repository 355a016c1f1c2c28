"""Current Plex values + what Stash says → the smallest write, with the safety rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from stash2plex.syncer.diff import DiffOptions, plan_edit
from stash2plex.syncer.mapping import Actor, DesiredMetadata
from stash2plex.syncer.plex_item import PlexItemState
from stash2plex.syncer.sync_record import ItemRecord, value_hash

EMPTY_FIELDS = {
    "title": "placeholder",
    "titleSort": "placeholder",
    "summary": "",
    "tagline": "",
    "originallyAvailableAt": "",
    "year": "",
    "studio": "",
    "userRating": "",
}


def plex(**overrides: Any) -> PlexItemState:
    fields = {**EMPTY_FIELDS, **overrides.pop("fields", {})}
    return PlexItemState(rating_key="5", section_id="2", fields=fields, **overrides)


def wanted(**overrides: Any) -> DesiredMetadata:
    base: dict[str, Any] = {
        "scene_id": "7",
        "fields": {"title": "New", "titleSort": "New", "summary": "About", "studio": "Acme", "userRating": "8.5"},
        "genres": ("Drama", "Noir"),
        "actors": (Actor(name="Ada", photo="http://s/p/1"),),
        "collections": ("Acme",),
        "images": {"thumb": "http://s/scene/7/screenshot?t=1"},
        "meaningful": True,
        "files": ("/a.mp4",),
        "created_at": datetime(2024, 1, 1, tzinfo=UTC),
    }
    base.update(overrides)
    return DesiredMetadata(**base)


def test_a_fresh_item_gets_every_field_locked_in_one_edit() -> None:
    plan = plan_edit(plex(), wanted(), None, {"thumb": "d1"}, DiffOptions())
    assert plan.params == {
        "title.value": "New",
        "title.locked": "1",
        "titleSort.value": "New",
        "titleSort.locked": "1",
        "summary.value": "About",
        "summary.locked": "1",
        "studio.value": "Acme",
        "studio.locked": "1",
        "genre[0].tag.tag": "Drama",
        "genre[1].tag.tag": "Noir",
        "genre.locked": "1",
        "actor[0].tag.tag": "Ada",
        "actor[0].tag.thumb": "http://s/p/1",
        "actor.locked": "1",
        "collection[0].tag.tag": "Acme",
        "collection.locked": "1",
        "thumb.locked": "1",
    }
    assert plan.user_rating == "8.5"
    assert plan.uploads == ("thumb",)
    assert set(plan.written) == {"title", "titleSort", "summary", "studio", "userRating", "genre", "actor"}


def test_an_item_in_step_needs_no_write() -> None:
    current = plex(
        fields={"title": "New", "titleSort": "New", "summary": "About", "studio": "Acme", "userRating": "8.5"},
        genres=("noir", "DRAMA"),  # Plex's own case and order
        actors=(Actor(name="Ada", photo="http://s/p/1"),),
        collections=("Acme",),
        locks=frozenset({"title", "titleSort", "summary", "studio", "genre", "actor", "thumb"}),
    )
    previous = ItemRecord(rating_key="5", section_id="2", images={"thumb": "d1"})
    plan = plan_edit(current, wanted(), previous, {"thumb": "d1"}, DiffOptions())
    assert not plan.writes
    assert plan.params == {}


def test_an_equal_but_unlocked_field_is_only_locked() -> None:
    current = plex(fields={"title": "New", "titleSort": "New"}, locks=frozenset({"titleSort"}))
    desired = wanted(fields={"title": "New", "titleSort": "New"}, genres=None, actors=None, collections=None)
    plan = plan_edit(current, desired, None, {}, DiffOptions())
    assert plan.params == {"title.locked": "1"}


def test_one_changed_tag_is_one_tag_edit_without_upload() -> None:
    current = plex(genres=("Drama", "Noir"), locks=frozenset({"genre"}))
    previous = ItemRecord(rating_key="5", section_id="2", images={"thumb": "d1"})
    desired = wanted(fields={}, genres=("Drama", "Heist"), actors=None, collections=None)
    plan = plan_edit(current, desired, previous, {"thumb": "d1"}, DiffOptions())
    assert plan.params == {
        "genre[0].tag.tag": "Drama",
        "genre[1].tag.tag": "Heist",
        "genre[].tag.tag-": "Noir",
        "genre.locked": "1",
    }
    assert plan.uploads == ()


def test_the_metadata_gate_keeps_a_tagged_item_untouched() -> None:
    current = plex(fields={"studio": "Acme", "summary": "Good text"}, genres=("Drama",), actors=(Actor(name="Ada"),))
    half_identified = wanted(
        fields={"title": "file_name", "titleSort": "file_name", "summary": "", "studio": ""},
        genres=(),
        actors=(),
        meaningful=False,
    )
    previous = ItemRecord(rating_key="5", section_id="2", written={"summary": value_hash("Good text")})
    plan = plan_edit(current, half_identified, previous, {"thumb": "d2"}, DiffOptions())
    assert plan.held
    assert not plan.writes
    assert plan.written == previous.written


def test_the_gate_lets_a_bare_scene_name_a_bare_item() -> None:
    half_identified = wanted(fields={"title": "file_name", "summary": ""}, genres=(), actors=(), meaningful=False)
    plan = plan_edit(plex(), half_identified, None, {}, DiffOptions())
    assert not plan.held
    assert plan.params["title.value"] == "file_name"


def test_an_emptied_stash_field_clears_what_stash2plex_wrote() -> None:
    current = plex(fields={"summary": "Old text", "userRating": "6.0"}, genres=("Drama",))
    previous = ItemRecord(
        rating_key="5",
        section_id="2",
        written={"summary": value_hash("Old text"), "userRating": value_hash("6.0"), "genre": value_hash("drama")},
    )
    desired = wanted(fields={"summary": "", "userRating": ""}, genres=(), actors=None, collections=None, images={})
    plan = plan_edit(current, desired, previous, {}, DiffOptions())
    assert plan.params == {"summary.value": "", "summary.locked": "1", "genre[].tag.tag-": "Drama", "genre.locked": "1"}
    assert plan.user_rating == ""
    assert plan.written == {}


def test_an_empty_stash_field_leaves_a_value_stash2plex_never_wrote() -> None:
    current = plex(fields={"summary": "From Plex's agent"}, genres=("Documentary",))
    desired = wanted(fields={"summary": ""}, genres=(), actors=None, collections=None, images={})
    plan = plan_edit(current, desired, None, {}, DiffOptions())
    assert plan.params == {}


def test_preserve_plex_edits_fills_only_empty_or_own_values() -> None:
    current = plex(
        fields={"summary": "Edited in Plex", "studio": "Acme Old", "title": ""},
        genres=("Mine",),
        thumb="/library/metadata/5/thumb/1",
    )
    previous = ItemRecord(rating_key="5", section_id="2", written={"studio": value_hash("Acme Old")})
    desired = wanted(
        fields={"title": "New", "summary": "About", "studio": "Acme"}, genres=("Drama",), actors=None, collections=None
    )
    plan = plan_edit(current, desired, previous, {"thumb": "d1"}, DiffOptions(preserve_plex_edits=True))
    assert plan.params["title.value"] == "New"  # empty in Plex: filled
    assert plan.params["studio.value"] == "Acme"  # still what Stash2Plex wrote: updated
    assert "summary.value" not in plan.params  # edited in Plex: kept
    assert "genre[0].tag.tag" not in plan.params  # Plex's own genres: kept
    assert "summary" not in plan.written
    assert plan.uploads == ()  # Plex has its own poster and Stash2Plex never replaced it
    assert plan_edit(
        plex(thumb=None), wanted(), None, {"thumb": "d1"}, DiffOptions(preserve_plex_edits=True)
    ).uploads == ("thumb",)


def test_collections_are_added_and_only_own_ones_removed() -> None:
    current = plex(collections=("User Favourites", "Old Studio"))
    previous = ItemRecord(rating_key="5", section_id="2", collections=("Old Studio",))
    desired = wanted(fields={}, genres=None, actors=None, collections=("New Studio",), images={})
    plan = plan_edit(current, desired, previous, {}, DiffOptions())
    assert plan.params == {
        "collection[0].tag.tag": "User Favourites",
        "collection[1].tag.tag": "New Studio",
        "collection[].tag.tag-": "Old%20Studio",
        "collection.locked": "1",
    }
    assert plan.collections == ("New Studio",)


def test_images_upload_only_when_their_bytes_changed() -> None:
    previous = ItemRecord(rating_key="5", section_id="2", images={"thumb": "d1", "art": "d1"})
    desired = wanted(images={"thumb": "u", "art": "u"})
    same = plan_edit(
        plex(locks=frozenset({"thumb", "art"})), desired, previous, {"thumb": "d1", "art": "d1"}, DiffOptions()
    )
    assert same.uploads == ()
    new = plan_edit(
        plex(locks=frozenset({"thumb", "art"})), desired, previous, {"thumb": "d2", "art": "d2"}, DiffOptions()
    )
    assert new.uploads == ("thumb", "art")


def test_a_new_scenes_cover_is_deferred_and_an_unusable_one_skipped() -> None:
    deferred = plan_edit(plex(), wanted(), None, {}, DiffOptions(defer_images=True))
    assert deferred.uploads == ()
    assert deferred.deferred == ("thumb",)
    assert deferred.params["thumb.locked"] == "1"  # the later upload needs no edit of its own
    assert plan_edit(plex(), wanted(), None, {}, DiffOptions()).uploads == ()  # no digest: nothing to upload
