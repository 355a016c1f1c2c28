"""Stash scene → the Plex metadata the syncer wants: every field, every toggle, the text rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from stash2plex.common.stash.models import Scene
from stash2plex.syncer.mapping import (
    SUMMARY_MAX,
    TITLE_MAX,
    Actor,
    desired_metadata,
    multi_line,
    one_line,
    plex_rating,
)
from stash2plex.syncer.sync_options import FieldToggles, WriteOptions

STASH = "http://stash.local:9999"
FULL_SCREENSHOT = f"{STASH}/scene/7/screenshot?t=1704153600"


def make_scene(**fields: Any) -> Scene:
    base: dict[str, Any] = {
        "id": "7",
        "created_at": datetime(2024, 1, 1, tzinfo=UTC),
        "updated_at": datetime(2024, 1, 2, tzinfo=UTC),
        "files": [{"id": "1", "path": "/data/studio/Some Scene.mp4", "basename": "Some Scene.mp4", "duration": 1800.5}],
        "paths": {"screenshot": FULL_SCREENSHOT},
    }
    base.update(fields)
    return Scene.model_validate(base)


FULL = {
    "title": "Résumé — 東京 🎬",
    "code": "ABC-123",
    "details": "Line one\r\nLine two\x07",
    "date": "2023-05-17",
    "rating100": 85,
    "studio": {"id": "3", "name": "Harbor & Pike", "parent_studio": {"id": "1", "name": "Network"}},
    "performers": [
        {"id": "11", "name": "Ada", "image_path": f"{STASH}/performer/11/image?t=5"},
        {"id": "12", "name": "Bo", "image_path": f"{STASH}/performer/12/image?t=6&default=true"},
        {"id": "13", "name": "ada"},
    ],
    "tags": [{"id": "1", "name": "Drama"}, {"id": "2", "name": "drama"}, {"id": "3", "name": "Noir"}],
    "groups": [{"group": {"id": "4", "name": "Series One"}, "scene_index": 2}],
}


def test_every_field_maps_as_documented() -> None:
    desired = desired_metadata(make_scene(**FULL), FieldToggles(), WriteOptions())
    assert desired.fields == {
        "title": "Résumé — 東京 🎬",
        "titleSort": "Résumé — 東京 🎬",
        "summary": "Line one\nLine two",
        "tagline": "ABC-123",
        "originallyAvailableAt": "2023-05-17",
        "year": "2023",
        "studio": "Harbor & Pike",
        "userRating": "8.5",
    }
    assert desired.genres == ("Drama", "Noir")  # Plex compares tags ignoring case: the first spelling wins
    assert desired.actors == (Actor(name="Ada", photo=f"{STASH}/performer/11/image?t=5"), Actor(name="Bo"))
    assert desired.collections == ("Harbor & Pike", "Series One")
    assert desired.images == {"thumb": FULL_SCREENSHOT, "art": FULL_SCREENSHOT}
    assert desired.meaningful
    assert desired.files == ("/data/studio/Some Scene.mp4",)
    assert desired.duration_s == 1800.5


@pytest.mark.parametrize(
    ("toggle", "gone"),
    [
        ("title", {"title", "titleSort"}),
        ("summary", {"summary"}),
        ("tagline", {"tagline"}),
        ("date", {"originallyAvailableAt", "year"}),
        ("studio", {"studio"}),
        ("rating", {"userRating"}),
    ],
)
def test_a_field_switched_off_is_not_in_the_mapping(toggle: str, gone: set[str]) -> None:
    desired = desired_metadata(make_scene(**FULL), FieldToggles(**{toggle: False}), WriteOptions())
    assert gone.isdisjoint(desired.fields)
    assert len(desired.fields) == 8 - len(gone)


@pytest.mark.parametrize(
    ("toggle", "attribute"),
    [("tags", "genres"), ("performers", "actors"), ("collections", "collections")],
)
def test_a_tag_kind_switched_off_is_none_not_empty(toggle: str, attribute: str) -> None:
    desired = desired_metadata(make_scene(**FULL), FieldToggles(**{toggle: False}), WriteOptions())
    assert getattr(desired, attribute) is None  # None: leave Plex alone; () would clear it


def test_image_toggles() -> None:
    assert desired_metadata(make_scene(), FieldToggles(poster=False), WriteOptions()).images == {"art": FULL_SCREENSHOT}
    assert desired_metadata(make_scene(), FieldToggles(background=False), WriteOptions()).images == {
        "thumb": FULL_SCREENSHOT
    }


def test_the_master_switch_turns_everything_off() -> None:
    desired = desired_metadata(make_scene(**FULL), FieldToggles(enabled=False), WriteOptions())
    assert desired.fields == {}
    assert (desired.genres, desired.actors, desired.collections) == (None, None, None)
    assert desired.images == {}
    assert desired.files  # still matched: the record keeps working


def test_empty_stash_fields_map_to_empty_values() -> None:
    desired = desired_metadata(make_scene(), FieldToggles(), WriteOptions())
    assert desired.fields["summary"] == desired.fields["studio"] == desired.fields["originallyAvailableAt"] == ""
    assert desired.fields["userRating"] == ""
    assert (desired.genres, desired.actors, desired.collections) == ((), (), ())
    assert not desired.meaningful


def test_without_a_title_the_file_name_is_used() -> None:
    desired = desired_metadata(make_scene(title=None), FieldToggles(), WriteOptions())
    assert desired.fields["title"] == "Some Scene"
    assert desired.title_hint is None  # a file name is no evidence for the title fallback of matching


def test_tag_limit_keeps_the_first_tags_in_stash_order() -> None:
    tags = [{"id": str(i), "name": f"Tag {i:03d}"} for i in range(300)]
    desired = desired_metadata(make_scene(tags=tags), FieldToggles(), WriteOptions(tag_limit=100))
    assert desired.genres == tuple(f"Tag {i:03d}" for i in range(100))


def test_long_text_is_capped() -> None:
    desired = desired_metadata(make_scene(title="x" * 500, details="y" * 20_000), FieldToggles(), WriteOptions())
    assert desired.fields["title"] == "x" * TITLE_MAX
    assert len(desired.fields["summary"]) == SUMMARY_MAX


def test_rating_scale() -> None:
    assert [plex_rating(r) for r in (None, 0, 1, 50, 85, 100)] == ["", "0.0", "0.1", "5.0", "8.5", "10.0"]


def test_text_sanitizing() -> None:
    assert one_line("  a\tb\nc\x00d\x1fe\u2028f  ") == "a b cde f"
    assert multi_line("a\r\nb\rc\x0bd\ud800") == "a\nb\ncd"
    assert one_line("🎬 東京 Ünïcödé") == "🎬 東京 Ünïcödé"


def test_an_invalid_date_is_no_date() -> None:
    desired = desired_metadata(make_scene(date="2023-02-30"), FieldToggles(), WriteOptions())
    assert desired.fields["originallyAvailableAt"] == desired.fields["year"] == ""


def test_actor_photos_follow_the_configured_base_and_never_carry_the_api_key() -> None:
    performers = [{"id": "11", "name": "Ada", "image_path": f"{STASH}/performer/11/image?t=5&apikey=secret"}]
    options = WriteOptions.model_validate({"actor_photo_base_url": "http://proxy.lan:8008/stash"})
    desired = desired_metadata(make_scene(performers=performers), FieldToggles(), options)
    assert desired.actors == (Actor(name="Ada", photo="http://proxy.lan:8008/stash/performer/11/image?t=5"),)


def test_the_content_hash_changes_with_content_and_with_shaping_options() -> None:
    scene = make_scene(**FULL)
    first = desired_metadata(scene, FieldToggles(), WriteOptions())
    assert first.content_hash == desired_metadata(scene, FieldToggles(), WriteOptions()).content_hash
    retagged = make_scene(**{**FULL, "tags": [{"id": "9", "name": "Other"}]})
    assert desired_metadata(retagged, FieldToggles(), WriteOptions()).content_hash != first.content_hash
    preserving = desired_metadata(scene, FieldToggles(), WriteOptions(preserve_plex_edits=True))
    assert preserving.content_hash != first.content_hash
    assert desired_metadata(scene, FieldToggles(tags=False), WriteOptions()).content_hash != first.content_hash
