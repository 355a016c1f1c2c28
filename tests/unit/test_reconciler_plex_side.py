"""What a pass keeps of a listed Plex item reads exactly what the syncer's ``parse_item`` and
``parse_items`` read, whether a page is read as a tree or as it parses."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from stash2plex.reconciler.plex_side import (
    COMPARED_FIELDS,
    LEFT_OUT_FIELDS,
    PARSE_CHUNK,
    FactsTable,
    field_digest,
    item_facts,
    listed_fields,
    parse_page,
)
from stash2plex.syncer.plex_item import parse_item
from stash2plex.syncer.plex_listing import parse_items

pytestmark = pytest.mark.unit

FULL = {
    "ratingKey": "7",
    "title": "Harbor Lights",
    "titleSort": "Harbor Lights, The",
    "summary": "A night\nby the water.",
    "tagline": "Hush.",
    "originallyAvailableAt": "2025-06-01",
    "year": "2025",
    "studio": "Harbor Films",
    "userRating": "7.25",
    "addedAt": "1700000000",
}

CASES: list[tuple[dict[str, str], tuple[str, ...]]] = [
    (FULL, ("Genre", "Role")),
    (FULL, ()),
    ({"ratingKey": "8", "title": "Only a title"}, ()),
    ({"ratingKey": "9", "title": "Tagged", "userRating": "10"}, ("Genre",)),
    ({"ratingKey": "10", "title": "Cast", "userRating": "not a number", "studio": ""}, ("Role", "Director")),
    ({"ratingKey": "11", "title": "", "titleSort": "", "summary": "", "originallyAvailableAt": "x"}, ("Country",)),
    ({"ratingKey": "12"}, ("Media", "Collection")),
]


def video(attrs: dict[str, str], children: tuple[str, ...]) -> ET.Element:
    element = ET.Element("Video", attrs)
    for tag in children:
        ET.SubElement(element, tag, {"tag": ""})
    return element


@pytest.mark.parametrize(("attrs", "children"), CASES)
def test_the_compared_fields_and_meaningful_agree_with_parse_item(
    attrs: dict[str, str], children: tuple[str, ...]
) -> None:
    element = video(attrs, children)
    state = parse_item(element)
    assert listed_fields(element.attrib) == tuple(state.fields.get(name, "") for name in COMPARED_FIELDS)
    facts = item_facts(element)
    assert facts.meaningful == state.meaningful
    for name in COMPARED_FIELDS:
        assert facts.digest(name) == field_digest(state.fields.get(name, ""))


def test_added_at_is_kept_and_a_missing_one_is_zero() -> None:
    assert item_facts(video(FULL, ())).added_at == 1_700_000_000
    assert item_facts(video({"ratingKey": "1", "addedAt": "soon"}, ())).added_at == 0


def listing(videos: int, *, total: int | None) -> bytes:
    """A listing page shaped like PMS's: videos with media, parts and tags, odd characters in places."""
    root = ET.Element("MediaContainer", {"size": str(videos), **({"totalSize": str(total)} if total else {})})
    for n in range(videos):
        attrs = {**FULL, "ratingKey": str(100 + n), "title": f"Scene {n} & <friends> \u00e9", "librarySectionID": "3"}
        if n % 3 == 0:
            attrs.pop("summary")
        element = ET.SubElement(root, "Video", attrs)
        if n % 4:
            media = ET.SubElement(element, "Media", {"id": str(n)})
            for part in range(1 + n % 2):
                ET.SubElement(media, "Part", {"id": f"{n}{part}", "file": f"/data/{n}/part {part}.mp4"})
        if n % 5 == 0:
            ET.SubElement(element, "Genre", {"tag": "Drama"})
    content: bytes = ET.tostring(root, encoding="utf-8")
    assert len(content) > PARSE_CHUNK or videos < 100
    return content


@pytest.mark.parametrize(("videos", "total"), [(0, 0), (1, None), (7, 20), (PARSE_CHUNK // 200, None)])
def test_a_page_read_as_it_parses_equals_the_page_read_as_a_tree(videos: int, total: int | None) -> None:
    content = listing(videos, total=total)
    root = ET.fromstring(content)
    items, facts, seen_total = parse_page(content, "1", 40)
    assert items == parse_items(root, "1")
    assert facts == [item_facts(video) for video in root.iter("Video")]
    assert seen_total == (total if total else 40 + videos)


def test_a_page_that_is_no_xml_fails_to_parse() -> None:
    for content in (b"", b"<html><body>502 Bad Gateway", b"<MediaContainer><Video ratingKey='1'>"):
        with pytest.raises(ET.ParseError):
            parse_page(content, "1", 0)


def test_the_attributes_a_pass_asks_plex_to_leave_out_are_none_it_reads() -> None:
    left_out = LEFT_OUT_FIELDS.split(",")
    attrs = {**FULL, "guid": "plex://movie/1", "duration": "60000", "updatedAt": "1700000100", "librarySectionID": "2"}
    whole = ET.Element("MediaContainer", {"totalSize": "1"})
    video = ET.SubElement(whole, "Video", {**attrs, **{name: "x" for name in left_out}})
    ET.SubElement(ET.SubElement(video, "Media"), "Part", {"file": "/data/a.mp4"})
    trimmed = ET.fromstring(ET.tostring(whole))
    for element in trimmed.iter("Video"):
        for name in left_out:
            del element.attrib[name]
    assert parse_page(ET.tostring(whole), "1", 0) == parse_page(ET.tostring(trimmed), "1", 0)


def test_the_facts_table_gives_back_what_it_was_given() -> None:
    table = FactsTable()
    kept = {str(n): item_facts(video({**FULL, "addedAt": str(1_700_000_000 + n)}, CASES[n % 2][1])) for n in range(5)}
    for rating_key, facts in kept.items():
        table[rating_key] = facts
    assert len(table) == 5
    assert "3" in table
    assert "9" not in table
    assert dict(table.items()) == kept
    assert table["4"].digest("studio") == field_digest("Harbor Films")
    table["far"] = item_facts(video({**FULL, "addedAt": "9" * 30}, ()))
    assert table["far"].added_at == 2**63 - 1
