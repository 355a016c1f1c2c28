"""How a pass judges one scene against its Plex items and sync record (pure rules, no I/O)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from stash2plex.common.stash.models import Scene
from stash2plex.common.subjects import GapKind
from stash2plex.reconciler.compare import judge
from stash2plex.reconciler.plex_side import ItemFacts, item_facts
from stash2plex.syncer.mapping import DesiredMetadata, desired_metadata
from stash2plex.syncer.plex_index import Confidence, MatchResult
from stash2plex.syncer.sync_options import FieldToggles, WriteOptions
from stash2plex.syncer.sync_record import ItemRecord, SyncRecord, value_hash

pytestmark = pytest.mark.unit

SYNCED = datetime(2026, 1, 2, tzinfo=UTC)


def scene(**changes: Any) -> Scene:
    fields: dict[str, Any] = {
        "id": "7",
        "title": "Harbor Lights",
        "details": "A night by the water.",
        "date": "2025-06-01",
        "created_at": "2026-01-01T10:00:00-05:00",
        "updated_at": "2026-01-01T10:00:00-05:00",
        "files": [{"id": "1", "path": "/data/a.mp4", "basename": "a.mp4", "duration": 60}],
        "paths": {"screenshot": "http://stash/scene/7/screenshot?t=1"},
        "studio": {"id": "1", "name": "Harbor Films"},
        "tags": [{"id": "3", "name": "Night"}],
    }
    fields.update(changes)
    return Scene.model_validate(fields)


def desired(s: Scene) -> DesiredMetadata:
    return desired_metadata(s, FieldToggles(), WriteOptions())


def found(*keys: str) -> MatchResult:
    return MatchResult(confidence=Confidence.PATH, rating_keys=keys)


def plex_item(rating_key: str = "101", **attrs: str) -> ItemFacts:
    """An item as a listing shows it (a ``<Video>`` with attributes and tag elements)."""
    values = {
        "ratingKey": rating_key,
        "title": "Harbor Lights",
        "summary": "A night by the water.",
        "originallyAvailableAt": "2025-06-01",
        "year": "2025",
        "studio": "Harbor Films",
        "addedAt": "1700000000",
    }
    values.update(attrs)
    video = ET.Element("Video", {k: v for k, v in values.items() if v})
    ET.SubElement(video, "Genre", {"tag": "Night"})
    return item_facts(video)


def record_for(s: Scene, keys: tuple[str, ...] = ("101",), **changes: Any) -> SyncRecord:
    want = desired(s)
    written = {name: value_hash(value) for name, value in want.fields.items() if value}
    items = tuple(
        ItemRecord(rating_key=k, section_id="1", written=written, image_urls={"thumb": s.paths.screenshot or ""})
        for k in keys
    )
    fields: dict[str, Any] = {
        "scene_id": s.id,
        "stash_updated_at": s.updated_at,
        "content_hash": want.content_hash,
        "items": items,
        "synced_at": SYNCED,
    }
    fields.update(changes)
    return SyncRecord(**fields)


def test_a_synced_scene_whose_item_holds_what_was_written_is_no_gap() -> None:
    s = scene()
    verdict = judge(s, desired(s), found("101"), record_for(s), {"101": plex_item()})
    assert verdict.kind is None
    assert verdict.rating_keys == ("101",)


def test_no_item_for_the_files_is_missing_in_plex_but_a_scene_without_files_is_nothing() -> None:
    s = scene()
    assert judge(s, desired(s), MatchResult(detail="none"), None, {}).kind is GapKind.MISSING_IN_PLEX
    bare = scene(files=[])
    assert judge(bare, desired(bare), MatchResult(), None, {}).kind is None


def test_an_ambiguous_match_is_counted_not_reported_and_its_candidates_are_claimed() -> None:
    s = scene()
    verdict = judge(s, desired(s), MatchResult(ambiguous=True, candidates=("5", "6"), detail="two"), None, {})
    assert (verdict.kind, verdict.ambiguous, verdict.rating_keys) == (None, True, ("5", "6"))


def test_an_empty_item_of_an_identified_scene_is_plex_empty_even_when_synced() -> None:
    s = scene()
    nothing = item_facts(ET.Element("Video", {"ratingKey": "101", "title": "x"}))
    verdict = judge(s, desired(s), found("101"), record_for(s), {"101": nothing})
    assert verdict.kind is GapKind.PLEX_EMPTY
    # A genre is identifying metadata: such an item is not empty, only short of what was written.
    only_a_genre = plex_item(summary="", studio="", originallyAvailableAt="", year="")
    assert judge(s, desired(s), found("101"), record_for(s), {"101": only_a_genre}).kind is GapKind.STALE


def test_an_empty_item_of_an_unidentified_scene_is_not_plex_empty() -> None:
    s = scene(details=None, date=None, studio=None, tags=[])
    facts = item_facts(ET.Element("Video", {"ratingKey": "101", "title": "x"}))
    verdict = judge(s, desired(s), found("101"), None, {"101": facts})
    assert verdict.kind is GapKind.STALE
    assert verdict.detail == "never synced to Plex"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"stash_updated_at": scene().updated_at - timedelta(seconds=1)}, "changed in Stash"),
        ({"content_hash": "other"}, "what the syncer would write changed"),
        ({"content_hash": ""}, "never synced"),
    ],
)
def test_the_record_tells_a_stale_scene(change: dict[str, Any], reason: str) -> None:
    s = scene()
    verdict = judge(s, desired(s), found("101"), record_for(s, **change), {"101": plex_item()})
    assert verdict.kind is GapKind.STALE
    assert reason in verdict.detail


def test_a_new_cover_is_named_as_the_reason() -> None:
    s = scene()
    newer = scene(paths={"screenshot": "http://stash/scene/7/screenshot?t=2"})
    verdict = judge(newer, desired(newer), found("101"), record_for(s), {"101": plex_item()})
    assert (verdict.kind, verdict.detail) == (GapKind.STALE, "its cover changed in Stash since its last sync")


def test_an_unfinished_sync_and_other_items_are_stale() -> None:
    s = scene()
    unfinished = record_for(s)
    pending_item = unfinished.items[0].model_copy(update={"pending": ("thumb",)})
    unfinished = unfinished.model_copy(update={"items": (pending_item,)})
    verdict = judge(s, desired(s), found("101"), unfinished, {"101": plex_item()})
    assert "did not finish (thumb still to do)" in verdict.detail
    moved = judge(s, desired(s), found("102"), record_for(s), {"102": plex_item("102")})
    assert moved.kind is GapKind.STALE
    assert "items are now 102" in moved.detail


def test_a_value_changed_in_plex_is_stale_unless_plex_edits_are_preserved() -> None:
    s = scene()
    edited = plex_item(title="Retitled in Plex")
    verdict = judge(s, desired(s), found("101"), record_for(s), {"101": edited})
    assert (verdict.kind, verdict.detail) == (GapKind.STALE, "Plex item 101 shows another title than Stash2Plex wrote")
    kept = judge(s, desired(s), found("101"), record_for(s), {"101": edited}, preserve_plex_edits=True)
    assert kept.kind is None
    emptied = plex_item(summary="")
    assert judge(s, desired(s), found("101"), record_for(s), {"101": emptied}, preserve_plex_edits=True).kind is (
        GapKind.STALE
    )


def test_a_field_stash2plex_never_wrote_may_differ() -> None:
    s = scene(details=None)  # Stash has no details: a summary Plex got elsewhere stays
    verdict = judge(s, desired(s), found("101"), record_for(s), {"101": plex_item(summary="From Plex's agent")})
    assert verdict.kind is None


def test_the_light_comparison_fields_map_like_the_full_scene() -> None:
    """The reconciler reads fewer fields (CompareSceneFields): what the syncer would write is the same."""
    full = scene(
        organized=True,
        urls=["https://example.com"],
        performers=[{"id": "4", "name": "Ada", "image_path": "http://stash/performer/4/image?t=1", "gender": "FEMALE"}],
        studio={"id": "1", "name": "Harbor Films", "image_path": "x", "parent_studio": {"id": "9", "name": "Parent"}},
    )
    light = scene(
        performers=[{"id": "4", "name": "Ada", "image_path": "http://stash/performer/4/image?t=1"}],
        studio={"id": "1", "name": "Harbor Films"},
    )
    assert desired(full).content_hash == desired(light).content_hash
