"""``/library/collections``: create, read, add and remove items, delete (regular collections only).

A collection's members are the items that carry its ``Collection`` tag, so creating or
adding through these endpoints and editing ``collection[i].tag.tag`` are two views of
the same state, as in PMS.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.sims.plex import xml
from tests.sims.plex.model import Collection, Library, TagValue
from tests.sims.plex.routes.metadata import children, image
from tests.sims.plex.web import ctx, empty_ok, error_response, set_change, xml_response

_URI = re.compile(r"^server://(?P<machine>[^/]+)/com\.plexapp\.plugins\.library/library/metadata/(?P<keys>[\d,]+)$")


def _uri_keys(library: Library, uri: str | None) -> list[int]:
    m = _URI.match(uri or "")
    if m is None:
        raise ValueError(
            f"uri must be server://<machine>/com.plexapp.plugins.library/library/metadata/<keys>, got {uri!r}"
        )
    if m["machine"] != library.machine_identifier:
        raise ValueError(f"uri names server {m['machine']}, not this one")
    return [int(k) for k in m["keys"].split(",") if k]


def _add_members(library: Library, coll: Collection, keys: list[int]) -> list[int]:
    added = []
    for rk in keys:
        if library.find(rk) is None:
            raise LookupError(rk)
    for rk in keys:
        item = library.get(rk)
        if item.section_id != coll.section_id:
            raise ValueError(f"item {rk} is not in section {coll.section_id}")
        tags = item.tags.setdefault("collection", [])
        if all(t.tag.casefold() != coll.title.casefold() for t in tags):
            tags.append(TagValue(coll.title))
            item.updated_at = max(item.updated_at + 1, library.now())
            added.append(rk)
    coll.updated_at = library.now()
    library.touch(coll.section_id)
    return added


async def create(request: Request) -> Response:
    """``POST /library/collections?uri=...&type=1&title=...&smart=0&sectionId=1`` (plexapi ``createCollection``)."""
    library = ctx(request).library
    query = request.query_params
    if query.get("smart") == "1":
        return error_response(400, "smart collections are not simulated")
    title = query.get("title")
    if not title or not query.get("sectionId"):
        return error_response(400, "title and sectionId are required")
    with library.lock:
        try:
            section = library.sections[int(query["sectionId"])]
            keys = _uri_keys(library, query.get("uri"))
            existed = library.collection_by_title(section.id, title) is not None
            coll = library.ensure_collection(section.id, title)
            added = _add_members(library, coll, keys)
        except LookupError as exc:
            return error_response(404, f"no item or section {exc}")
        except ValueError as exc:
            return error_response(400, str(exc))
        set_change(request, {"collection": coll.rating_key, "title": title, "created": not existed, "added": added})
        root_el = xml.section_container(section, size=1)
        xml.collection_element(library, coll, root_el, detail=True)
        return xml_response(root_el)


def _collection(library: Library, request: Request) -> Collection | None:
    return library.collection(int(request.path_params["rk"]))


async def detail(request: Request) -> Response:
    library = ctx(request).library
    with library.lock:
        coll = _collection(library, request)
        if coll is None:
            return error_response(404)
        root_el = xml.section_container(library.sections[coll.section_id], size=1)
        xml.collection_element(library, coll, root_el, detail=True)
        return xml_response(root_el)


async def add_items(request: Request) -> Response:
    library = ctx(request).library
    with library.lock:
        coll = _collection(library, request)
        if coll is None:
            return error_response(404)
        try:
            added = _add_members(library, coll, _uri_keys(library, request.query_params.get("uri")))
        except LookupError as exc:
            return error_response(404, f"no item {exc}")
        except ValueError as exc:
            return error_response(400, str(exc))
        set_change(request, {"collection": coll.rating_key, "title": coll.title, "added": added})
        return empty_ok()


async def remove_item(request: Request) -> Response:
    library = ctx(request).library
    with library.lock:
        coll = _collection(library, request)
        item_rk = int(request.path_params["item"])
        if coll is None or library.find(item_rk) is None:
            return error_response(404)
        item = library.get(item_rk)
        before = item.tags.get("collection", [])
        item.tags["collection"] = [t for t in before if t.tag.casefold() != coll.title.casefold()]
        removed = len(before) != len(item.tags["collection"])
        if removed:
            item.updated_at = max(item.updated_at + 1, library.now())
            library.touch(coll.section_id)
        change: dict[str, Any] = {
            "collection": coll.rating_key,
            "title": coll.title,
            "removed": [item_rk] if removed else [],
        }
        set_change(request, change)
        return empty_ok()


async def delete(request: Request) -> Response:
    library = ctx(request).library
    with library.lock:
        coll = _collection(library, request)
        if coll is None:
            return error_response(404)
        library.delete_collection(coll.rating_key)
        set_change(request, {"deleted_collection": coll.rating_key, "title": coll.title})
        return empty_ok()


ROUTES = [
    Route("/library/collections", create, methods=["POST"]),
    Route("/library/collections/{rk:int}", detail, methods=["GET"]),
    Route("/library/collections/{rk:int}", delete, methods=["DELETE"]),
    Route("/library/collections/{rk:int}/children", children, methods=["GET"]),
    Route("/library/collections/{rk:int}/items", add_items, methods=["PUT"]),
    Route("/library/collections/{rk:int}/items/{item:int}", remove_item, methods=["DELETE"]),
    Route("/library/collections/{rk:int}/{element:str}/{stamp}", image, methods=["GET"]),
]
