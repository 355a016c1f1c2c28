"""Finding a scene's Plex items in the index: evidence order, confidence, ambiguity, libraries."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from stash2plex.common.pathmap import PathMapper, PathRule
from stash2plex.common.plexguid import guid
from stash2plex.syncer.errors import ConfigurationProblem
from stash2plex.syncer.matching import choose_sections
from stash2plex.syncer.plex_index import Confidence, MatchQuery, PlexIndex
from stash2plex.syncer.plex_listing import IndexedItem, LibrarySection, parse_items, parse_sections


def item(rk: str, *files: str, title: str = "", guid_: str = "", duration_ms: int | None = None, section: str = "1"):
    return IndexedItem(rk, section, title or f"item {rk}", guid_ or f"local://{rk}", files, duration_ms, int(rk))


def query(*files: str, scene_id: str = "7", title: str | None = None, duration_s: float | None = None) -> MatchQuery:
    return MatchQuery(scene_id=scene_id, files=files, title=title, duration_s=duration_s)


DOCKER = PathMapper([PathRule(stash="^/data/", plex="/media/")])


def test_the_mapped_full_path_finds_the_item() -> None:
    index = PlexIndex(DOCKER)
    index.put_many([item("1", "/media/a/x.mp4"), item("2", "/media/b/x.mp4")])
    result = index.lookup(query("/data/b/x.mp4"))
    assert result.confidence is Confidence.PATH
    assert result.rating_keys == ("2",)
    assert result.score == 1.0


def test_same_basename_without_a_mapping_is_ambiguous_when_strict() -> None:
    index = PlexIndex()
    index.put_many([item("1", "/media/a/x.mp4"), item("2", "/media/b/x.mp4")])
    result = index.lookup(query("/data/b/x.mp4"))
    assert result.ambiguous
    assert not result.found
    assert result.candidates == ("1", "2")
    assert "/media/a/x.mp4" in result.detail
    assert "STASH2PLEX_PATHS__RULES" in result.detail


def test_without_strict_matching_the_folder_that_ends_alike_wins_and_ties_stay_ambiguous() -> None:
    index = PlexIndex()
    index.put_many([item("1", "/media/a/x.mp4"), item("2", "/media/b/x.mp4")])
    assert index.lookup(query("/data/b/x.mp4"), strict=False).rating_keys == ("2",)
    assert index.lookup(query("/data/c/x.mp4"), strict=False).ambiguous


def test_a_unique_basename_is_a_lower_confidence_match() -> None:
    index = PlexIndex()
    index.put_many([item("1", "/plex/movies/Unique Name.MP4")])
    result = index.lookup(query("/stash/Unique Name.mp4"))
    assert result.confidence is Confidence.BASENAME
    assert result.rating_keys == ("1",)
    assert result.score == 0.8


def test_one_scene_in_several_libraries_finds_every_item() -> None:
    index = PlexIndex()
    index.put_many([item("1", "/m/x.mp4", section="1"), item("9", "/m/x.mp4", section="2")])
    assert index.lookup(query("/m/x.mp4")).rating_keys == ("1", "9")


def test_the_providers_guid_comes_first() -> None:
    index = PlexIndex()
    index.put_many([item("1", "/m/x.mp4"), item("4", "/elsewhere/y.mp4", guid_=guid("7"))])
    result = index.lookup(query("/m/x.mp4", scene_id="7"))
    assert result.confidence is Confidence.GUID
    assert result.rating_keys == ("4",)


def test_case_insensitive_rules_compare_ignoring_case_and_separators() -> None:
    windows = PathMapper([PathRule(stash="^/data/", plex="D:/Media/", plex_separator="\\", case_sensitive=False)])
    index = PlexIndex(windows)
    index.put_many([item("3", "d:\\media\\Studio\\Clip.MKV")])
    result = index.lookup(query("/data/studio/clip.mkv"))
    assert (result.confidence, result.rating_keys) == (Confidence.PATH, ("3",))


def test_title_fallback_needs_agreeing_durations_when_strict() -> None:
    index = PlexIndex()
    index.put_many([item("5", "/p/renamed.mp4", title="Night Train", duration_ms=1_800_000)])
    agreeing = index.lookup(query("/s/gone.mp4", title="night train", duration_s=1801.0))
    assert (agreeing.confidence, agreeing.rating_keys) == (Confidence.TITLE, ("5",))
    off = index.lookup(query("/s/gone.mp4", title="Night Train", duration_s=60.0))
    assert not off.found
    assert "duration" in off.detail
    assert index.lookup(query("/s/gone.mp4", title="Night Train", duration_s=60.0), strict=False).found


def test_two_items_with_the_scene_title_are_ambiguous() -> None:
    index = PlexIndex()
    index.put_many([item("5", "/p/a.mp4", title="Same"), item("6", "/p/b.mp4", title="Same")])
    assert index.lookup(query("/s/c.mp4", title="Same")).ambiguous


def test_nothing_found_says_so() -> None:
    result = PlexIndex().lookup(query("/s/c.mp4"))
    assert not result.found
    assert not result.ambiguous
    assert "no Plex item" in result.detail


def test_an_item_put_again_is_reindexed_and_a_removed_one_is_gone() -> None:
    index = PlexIndex()
    index.put_many([item("1", "/old/x.mp4")])
    index.put_many([item("1", "/new/x.mp4")])
    assert index.lookup(query("/old/x.mp4")).confidence is not Confidence.PATH
    assert index.lookup(query("/new/x.mp4")).rating_keys == ("1",)
    index.remove("1")
    assert not index.lookup(query("/new/x.mp4")).found
    assert len(index) == 0


def test_sections_default_to_every_movie_library_and_a_wrong_name_is_named() -> None:
    sections = [
        LibrarySection(id="1", title="Movies", type="movie"),
        LibrarySection(id="2", title="Stash Scenes", type="movie"),
        LibrarySection(id="3", title="TV Shows", type="show"),
    ]
    assert [s.id for s in choose_sections(sections, [])] == ["1", "2"]
    assert [s.id for s in choose_sections(sections, ["stash scenes"])] == ["2"]
    with pytest.raises(ConfigurationProblem, match=r"no library named 'Nope'.*Movies, Stash Scenes"):
        choose_sections(sections, ["Nope"])
    with pytest.raises(ConfigurationProblem, match="holds shows"):
        choose_sections(sections, ["TV Shows"])


def test_listing_xml_is_read_for_what_the_index_needs() -> None:
    page = ET.fromstring(
        '<MediaContainer size="1" totalSize="1"><Video ratingKey="12" title="T" guid="plex://movie/x" duration="60000"'
        ' addedAt="100" updatedAt="200"><Media><Part file="/m/a.mp4"/></Media><Media><Part file="/m/b.mp4"/></Media>'
        "</Video></MediaContainer>"
    )
    assert parse_items(page, "4") == [
        IndexedItem("12", "4", "T", "plex://movie/x", ("/m/a.mp4", "/m/b.mp4"), 60000, 200)
    ]
    sections = ET.fromstring(
        '<MediaContainer><Directory key="1" type="movie" title="Movies"><Location path="/m"/></Directory>'
        "</MediaContainer>"
    )
    assert parse_sections(sections) == [LibrarySection(id="1", title="Movies", type="movie", locations=("/m",))]
