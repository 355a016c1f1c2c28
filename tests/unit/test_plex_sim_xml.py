"""The Plex simulator's own serializer writes exactly what ElementTree writes."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.sims.plex import xml
from tests.sims.plex.generate import make_library
from tests.sims.plex.model import TagValue

pytestmark = pytest.mark.unit


def reference(element: ET.Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="unicode").encode("utf-8")


def test_listings_details_sections_and_the_root_serialize_as_elementtree_does() -> None:
    library = make_library(30, windows_items=5)
    odd = library.get(3)
    odd.title = 'Tom & "Jerry" <3>\tand\r\nfriends \u00e9\U0001f600'
    odd.summary = "line one\nline two & more"
    odd.tags["genre"] = [TagValue("R&B"), TagValue("<Noir>")]
    odd.locks = {"title", "summary"}
    listing = xml.section_container(library.section(1), size=30)
    for rk in library.section(1).rating_keys:
        item = library.find(rk)
        assert item is not None
        xml.item_element(library, item, listing, detail=False, guids=True)
    detail = xml.container(size=1)
    xml.item_element(library, odd, detail, detail=True)
    for element in (listing, detail, xml.sections(library), xml.server_root(library), xml.library_root()):
        assert xml.to_bytes(element) == reference(element)


def test_text_tails_and_empty_elements_serialize_as_elementtree_does() -> None:
    root = ET.Element("MediaContainer", {"size": "2"})
    root.text = "a < b & c > d"
    child = ET.SubElement(root, "Directory", {"key": "x&y", "title": ""})
    child.tail = "after & <tail>"
    ET.SubElement(child, "Location")
    assert xml.to_bytes(root) == reference(root)


def test_what_the_fast_path_cannot_write_goes_through_elementtree() -> None:
    root = ET.Element("{urn:x}MediaContainer", {"{urn:x}size": "1"})
    root.append(ET.Comment(" not plain "))
    assert xml.to_bytes(root) == reference(root)
    with pytest.raises(TypeError):
        xml.to_bytes(ET.Element("Video", {"ratingKey": 1}))  # type: ignore[dict-item]
