"""What a pass keeps of a listed Plex item reads exactly what the syncer's ``parse_item`` reads."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from stash2plex.reconciler.plex_side import COMPARED_FIELDS, field_digest, item_facts, listed_fields
from stash2plex.syncer.plex_item import parse_item

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
