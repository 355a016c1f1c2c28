"""Load a library from JSON, spelled with PMS's own attribute names so fixtures read like Plex XML.

Shape::

    {"server": {"friendlyName": "...", "machineIdentifier": "...", "version": "..."},
     "sections": [{"id": 1, "title": "Movies", "type": "movie", "agent": "...", "scanner": "...",
                   "locations": ["/media/movies"], "generate": 0,
                   "items": [{"ratingKey": 101, "title": "...", "files": ["/media/movies/a.mp4"],
                              "genres": ["Drama"], "actors": [{"tag": "A", "thumb": "...", "role": "..."}],
                              "collections": ["Noir"], "locked": ["title", "genre"], "guids": ["imdb://tt1"],
                              "summary": "...", "originallyAvailableAt": "2001-02-03", "year": 2001, ...}]}],
     "collections": [{"section": 1, "title": "Noir", "summary": "..."}]}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.sims.plex.generate import add_generated_items
from tests.sims.plex.model import FIELD_ATTRS, Item, Library, TagValue

_PLURALS = {
    "genres": "genre",
    "collections": "collection",
    "actors": "actor",
    "roles": "actor",
    "directors": "director",
    "writers": "writer",
    "producers": "producer",
    "countries": "country",
    "labels": "label",
}
_EXTRA_ATTRS = {"guid": "guid", "thumb": "thumb", "art": "art", "duration": "duration", "updatedAt": "updated_at"}


def _tag(value: Any) -> TagValue:
    if isinstance(value, str):
        return TagValue(value)
    return TagValue(str(value["tag"]), thumb=value.get("thumb"), role=value.get("role"))


def add_item_from_json(library: Library, section_id: int, idoc: dict[str, Any]) -> Item:
    """One item from its JSON form (see the module docstring)."""
    fields: dict[str, object] = {}
    tags: dict[str, list[TagValue]] = {}
    for key, value in idoc.items():
        if key in {"title", "files", "ratingKey", "locked"}:
            continue
        if key in _PLURALS:
            tags[_PLURALS[key]] = [_tag(v) for v in value]
        elif key in FIELD_ATTRS:
            fields[FIELD_ATTRS[key]] = value
        elif key in _EXTRA_ATTRS:
            fields[_EXTRA_ATTRS[key]] = value
        elif key == "guids":
            fields["external_guids"] = list(value)
        else:
            raise ValueError(f"unknown item key {key!r} in {idoc.get('title')!r}")
    item = library.add_item(
        section_id,
        idoc["title"],
        files=idoc.get("files", []),
        tags=tags,
        rating_key=idoc.get("ratingKey"),
        **fields,
    )
    item.locks.update(idoc.get("locked", []))
    return item


def load_library(source: str | Path | dict[str, Any]) -> Library:
    """Build a :class:`Library` from a JSON file path or an already-parsed document."""
    doc: dict[str, Any] = source if isinstance(source, dict) else json.loads(Path(source).read_text("utf-8"))
    server = doc.get("server", {})
    library = Library(
        friendly_name=server.get("friendlyName", "Stash2Plex Sim"),
        machine_identifier=server.get("machineIdentifier"),
        version=server.get("version", "1.43.0.10389-8be686aa6"),
    )
    chosen = [int(i["ratingKey"]) for s in doc.get("sections", []) for i in s.get("items", []) if "ratingKey" in i]
    library.reserve_rating_keys(max(chosen, default=0))
    for sdoc in doc.get("sections", []):
        section = library.add_section(
            sdoc["title"],
            sdoc.get("type", "movie"),
            locations=sdoc.get("locations", []),
            agent=sdoc.get("agent"),
            scanner=sdoc.get("scanner"),
            language=sdoc.get("language", "en-US"),
            section_id=sdoc.get("id"),
        )
        for idoc in sdoc.get("items", []):
            add_item_from_json(library, section.id, idoc)
        if sdoc.get("generate"):
            add_generated_items(library, section.id, int(sdoc["generate"]), seed=int(sdoc.get("seed", 0)))
    for cdoc in doc.get("collections", []):
        coll = library.ensure_collection(int(cdoc["section"]), cdoc["title"])
        coll.summary = cdoc.get("summary", coll.summary)
    return library
