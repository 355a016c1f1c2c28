"""Server root, sections, listings and searches, the section edit, and scans."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.sims.plex import xml
from tests.sims.plex.edits import EditError, EditRequest, apply_edit, convert_values, parse_edit_params
from tests.sims.plex.model import (
    COLLECTION_FIELDS,
    MOVIE_FIELDS,
    TAG_KINDS,
    Collection,
    Item,
    Library,
    Section,
    TagValue,
)
from tests.sims.plex.query import (
    Filter,
    Paging,
    QueryError,
    TitleView,
    matches,
    paging,
    parse_filters,
    parse_sort,
    titles_only,
)
from tests.sims.plex.web import ctx, empty_ok, error_response, pairs, set_change, xml_response

_TYPES_BY_NUMBER = {1: "movie", 2: "show", 3: "season", 4: "episode", 18: "collection"}
_HUB_LIMIT = 10


async def root(request: Request) -> Response:
    library = ctx(request).library
    with library.lock:
        return xml_response(xml.server_root(library))


async def identity(request: Request) -> Response:
    return xml_response(xml.identity(ctx(request).library))


async def library_root(request: Request) -> Response:
    return xml_response(xml.library_root())


async def sections(request: Request) -> Response:
    library = ctx(request).library
    with library.lock:
        return xml_response(xml.sections(library))


def _section(library: Library, request: Request) -> Section | None:
    return library.sections.get(int(request.path_params["sid"]))


async def section_detail(request: Request) -> Response:
    library = ctx(request).library
    with library.lock:
        section = _section(library, request)
        if section is None:
            return error_response(404)
        root_el = xml.section_container(section, size=2, content="secondary", title2="")
        xml.el("Directory", root_el, key="all", title=f"All {section.title}")
        xml.el("Directory", root_el, key="collections", title="Collections")
        return xml_response(root_el)


async def section_edit(request: Request) -> Response:
    """``PUT /library/sections/{id}?agent=...`` (plexapi ``LibrarySection.edit``); only the agent sticks."""
    library = ctx(request).library
    with library.lock:
        section = _section(library, request)
        if section is None:
            return error_response(404)
        agent = request.query_params.get("agent")
        if not agent:
            return error_response(400, "agent is required")
        old, section.agent = section.agent, agent
        section.updated_at = library.now()
        set_change(request, {"section": section.id, "agent": [old, agent]})
        return empty_ok()


def _libtype(section: Section, raw: str | None) -> str:
    if not raw:
        return section.type
    try:
        return _TYPES_BY_NUMBER.get(int(raw), f"type{raw}")
    except ValueError:
        raise QueryError(f"type must be a number, got {raw!r}") from None


def _page(keys: list[Any], page: Paging, limit: str | None) -> tuple[list[Any], int]:
    if limit:
        keys = keys[: int(limit)]
    total = len(keys)
    end = None if page.size is None else page.start + page.size
    return keys[page.start : end], total


def _container_for(section: Section, page: Paging, shown: int, total: int, **attrs: object) -> Any:
    return xml.section_container(
        section,
        size=shown,
        totalSize=total if page.explicit else None,
        offset=page.start if page.explicit else None,
        **attrs,
    )


async def section_all(request: Request) -> Response:
    """``GET /library/sections/{id}/all``: list or search one section, with paging and filters."""
    library = ctx(request).library
    query = request.query_params
    try:
        page = paging(query, request.headers)
        filters = parse_filters(pairs(request))
        sort, desc = parse_sort(query.get("sort"))
        with library.lock:
            section = _section(library, request)
            if section is None:
                return error_response(404)
            libtype = _libtype(section, query.get("type"))
            guids = query.get("includeGuids") == "1"
            if libtype == "collection":
                colls = [c for c in library.section_collections(section.id) if matches(c, filters, library.tag_id)]
                if desc:
                    colls.reverse()
                shown, total = _page(colls, page, query.get("limit"))
                root_el = _container_for(section, page, len(shown), total, title2="All Collections")
                _maybe_meta(root_el, section, "collection", query.get("includeMeta"))
                for coll in shown:
                    xml.collection_element(library, coll, root_el)
                return xml_response(root_el)
            keys = library.ordered_keys(section.id, sort, desc) if libtype == section.type == "movie" else []
            if filters:
                keys = [rk for rk in keys if _item_matches(library, rk, filters)]
            shown_keys, total = _page(keys, page, query.get("limit"))
            root_el = _container_for(section, page, len(shown_keys), total, title2=f"All {section.title}")
            _maybe_meta(root_el, section, libtype, query.get("includeMeta"))
            trim = _customization(query)
            for rk in shown_keys:
                item = library.find(rk)
                if item is not None:
                    xml.item_element(library, item, root_el, detail=False, guids=guids, **trim)
            return xml_response(root_el)
    except (QueryError, ValueError) as exc:
        return error_response(400, str(exc))


def _customization(query: Any) -> dict[str, frozenset[str]]:
    """``excludeElements``/``excludeFields`` of a listing (PMS's response customization; the
    ``include*`` forms are not simulated and answer everything)."""

    def names(key: str) -> frozenset[str]:
        return frozenset(part.strip() for part in (query.get(key) or "").split(",") if part.strip())

    return {"exclude_elements": names("excludeElements"), "exclude_fields": names("excludeFields")}


def _item_matches(library: Library, rk: int, filters: list[Filter]) -> bool:
    if not filters:
        return True
    if titles_only(filters):
        view = TitleView(library.title_of(rk), library.sort_title_of(rk))
        return matches(view, filters, library.tag_id)
    item = library.find(rk)
    return item is not None and matches(item, filters, library.tag_id)


def _maybe_meta(root_el: Any, section: Section, libtype: str, include: str | None) -> None:
    if include == "1":
        root_el.insert(0, xml.search_meta(section, libtype))


async def section_collections(request: Request) -> Response:
    """``GET /library/sections/{id}/collections`` (what ``Collection`` tags link to)."""
    library = ctx(request).library
    try:
        page = paging(request.query_params, request.headers)
        filters = parse_filters(pairs(request))
    except QueryError as exc:
        return error_response(400, str(exc))
    with library.lock:
        section = _section(library, request)
        if section is None:
            return error_response(404)
        colls = [c for c in library.section_collections(section.id) if matches(c, filters, library.tag_id)]
        shown, total = _page(colls, page, request.query_params.get("limit"))
        root_el = _container_for(section, page, len(shown), total, title2="Collections")
        _maybe_meta(root_el, section, "collection", request.query_params.get("includeMeta"))
        for coll in shown:
            xml.collection_element(library, coll, root_el)
        return xml_response(root_el)


async def section_tag_choices(request: Request) -> Response:
    """``GET /library/sections/{id}/genre`` etc.: the values a tag filter can take."""
    library = ctx(request).library
    kind = request.path_params["kind"]
    if kind not in TAG_KINDS:
        return error_response(404)
    with library.lock:
        section = _section(library, request)
        if section is None:
            return error_response(404)
        names: dict[str, str] = {}
        if kind == "collection":
            for coll in library.section_collections(section.id):
                names.setdefault(coll.title.casefold(), coll.title)
        else:
            for item in library.items_in(section.id):
                for value in item.tags.get(kind, []):
                    names.setdefault(value.tag.casefold(), value.tag)
        choices = sorted(((library.tag_id(kind, n), n) for n in names.values()), key=lambda c: c[1].casefold())
        return xml_response(xml.filter_choices(section, kind, choices))


async def section_edit_items(request: Request) -> Response:
    """``PUT /library/sections/{id}/all``: plexapi's edit, for one or more items or collections."""
    context = ctx(request)
    library = context.library
    try:
        req = parse_edit_params(pairs(request))
    except EditError as exc:
        return error_response(400, str(exc))
    if not req.ids:
        return error_response(400, "the simulator only edits items selected with id=")
    is_collection = req.type == 18
    if req.type not in (1, 18):
        return error_response(400, f"type={req.type} is not a movie (1) or collection (18)")
    allowed_fields = COLLECTION_FIELDS if is_collection else MOVIE_FIELDS
    kinds = frozenset({"label"}) if is_collection else frozenset(TAG_KINDS)
    try:
        typed, ignored = convert_values(req.values, allowed_fields)
    except EditError as exc:
        return error_response(400, str(exc))
    with library.lock:
        section = _section(library, request)
        if section is None:
            return error_response(404)
        targets: list[Item | Collection] = []
        for rk in req.ids:
            target: Item | Collection | None = library.collection(rk) if is_collection else library.find(rk)
            if target is None or target.section_id != section.id:
                return error_response(
                    404, f"no {'collection' if is_collection else 'item'} {rk} in section {section.id}"
                )
            targets.append(library.get(rk) if isinstance(target, Item) else target)
        changes = {}
        for target in targets:
            changes[str(target.rating_key)] = _apply(library, target, req, typed, allowed_fields, kinds)
        library.touch(section.id)
    change: dict[str, Any] = {"section": section.id, "type": req.type, "items": changes}
    ignored += [key for key, _ in req.unknown]
    if ignored:
        change["ignored"] = ignored
    set_change(request, change)
    return empty_ok()


def _apply(
    library: Library,
    target: Item | Collection,
    req: EditRequest,
    typed: dict[str, object],
    fields: frozenset[str],
    kinds: frozenset[str],
) -> dict[str, Any]:
    members = library.collection_members(target) if isinstance(target, Collection) else []
    old_title = target.title
    change = apply_edit(target, req, typed, fields=fields, kinds=kinds)
    if any(k in change for k in ("fields", "locks", "tags")):
        target.updated_at = max(target.updated_at + 1, library.now())
    if isinstance(target, Item):
        for name in target.tag_names("collection"):
            library.ensure_collection(target.section_id, name)
    elif target.title != old_title:
        library.rename_tag("collection", old_title, target.title)
        for member in members:
            member.tags["collection"] = [
                TagValue(target.title, t.thumb, t.role) if t.tag.casefold() == old_title.casefold() else t
                for t in member.tags.get("collection", [])
            ]
    return change


async def section_refresh(request: Request) -> Response:
    """Scan (``GET``/``POST``/``PUT .../refresh[?path=&force=1]``): staged files under the path appear."""
    library = ctx(request).library
    path = request.query_params.get("path")
    with library.lock:
        section = _section(library, request)
        if section is None:
            return error_response(404)
        added = library.scan(section.id, path)
        set_change(
            request,
            {
                "section": section.id,
                "scan": True,
                "path": path,
                "force": request.query_params.get("force") == "1",
                "added": [item.rating_key for item in added],
            },
        )
    return empty_ok()


async def section_refresh_cancel(request: Request) -> Response:
    set_change(request, {"section": int(request.path_params["sid"]), "cancel": True})
    return empty_ok()


async def library_all(request: Request) -> Response:
    """``GET /library/all?type=1&title=...`` (plexapi ``Library.search``), across sections."""
    library = ctx(request).library
    query = request.query_params
    try:
        page = paging(query, request.headers)
        filters = parse_filters(pairs(request))
        sort, desc = parse_sort(query.get("sort"))
        wanted = int(query["type"]) if query.get("type") else None
    except (QueryError, ValueError) as exc:
        return error_response(400, str(exc))
    with library.lock:
        keys: list[int] = []
        for section in library.sections.values():
            if section.type == "movie" and wanted in (None, 1):
                keys += [
                    rk for rk in library.ordered_keys(section.id, sort, desc) if _item_matches(library, rk, filters)
                ]
        shown, total = _page(keys, page, query.get("limit"))
        root_el = xml.container(
            size=len(shown),
            totalSize=total if page.explicit else None,
            offset=page.start if page.explicit else None,
            allowSync=True,
            identifier=xml.LIBRARY_IDENTIFIER,
            mediaTagPrefix=xml.MEDIA_TAG_PREFIX,
            mediaTagVersion=xml.MEDIA_TAG_VERSION,
        )
        trim = _customization(query)
        for rk in shown:
            item = library.find(rk)
            if item is not None:
                xml.item_element(library, item, root_el, detail=False, guids=query.get("includeGuids") == "1", **trim)
        return xml_response(root_el)


async def hubs_search(request: Request) -> Response:
    """``GET /hubs/search?query=`` (plexapi ``PlexServer.search``): a movie hub and a collection hub.

    Real PMS search is fuzzy and returns many hubs; this one matches title substrings.
    """
    library = ctx(request).library
    query = request.query_params
    needle = query.get("query", "").casefold()
    try:
        limit = int(query.get("limit") or _HUB_LIMIT)
        section_id = int(query["sectionId"]) if query.get("sectionId") else None
    except ValueError:
        return error_response(400, "limit and sectionId must be integers")
    with library.lock:
        movies: list[Item] = []
        colls: list[Collection] = []
        for section in library.sections.values():
            if section_id is not None and section.id != section_id:
                continue
            keys = library.ordered_keys(section.id) if section.type == "movie" and needle else []
            for rk in keys:
                if needle in library.title_of(rk).casefold():
                    item = library.find(rk)
                    if item is not None:
                        movies.append(item)
            colls += [c for c in library.section_collections(section.id) if needle and needle in c.title.casefold()]
        root_el = xml.container(size=2)
        hub = xml.el(
            "Hub",
            root_el,
            title="Movies",
            type="movie",
            hubIdentifier="movie",
            context="hub.movie",
            size=min(len(movies), limit),
            more=len(movies) > limit,
            style="shelf",
            key=f"/library/all?type=1&title={quote(needle)}" if len(movies) > limit else None,
        )
        for item in movies[:limit]:
            xml.item_element(library, item, hub, detail=False)
        chub = xml.el(
            "Hub",
            root_el,
            title="Collections",
            type="collection",
            hubIdentifier="collection",
            context="hub.collection",
            size=min(len(colls), limit),
            more=False,
            style="shelf",
        )
        for coll in colls[:limit]:
            xml.collection_element(library, coll, chub)
        return xml_response(root_el)


ROUTES = [
    Route("/", root, methods=["GET"]),
    Route("/identity", identity, methods=["GET"]),
    Route("/library", library_root, methods=["GET"]),
    Route("/library/", library_root, methods=["GET"]),
    Route("/library/sections", sections, methods=["GET"]),
    Route("/library/sections/", sections, methods=["GET"]),
    Route("/library/all", library_all, methods=["GET"]),
    Route("/hubs/search", hubs_search, methods=["GET"]),
    Route("/library/sections/{sid:int}", section_detail, methods=["GET"]),
    Route("/library/sections/{sid:int}", section_edit, methods=["PUT"]),
    Route("/library/sections/{sid:int}/all", section_all, methods=["GET"]),
    Route("/library/sections/{sid:int}/all", section_edit_items, methods=["PUT"]),
    Route("/library/sections/{sid:int}/collections", section_collections, methods=["GET"]),
    Route("/library/sections/{sid:int}/refresh", section_refresh, methods=["GET", "POST", "PUT"]),
    Route("/library/sections/{sid:int}/refresh", section_refresh_cancel, methods=["DELETE"]),
    Route("/library/sections/{sid:int}/{kind}", section_tag_choices, methods=["GET"]),
]
