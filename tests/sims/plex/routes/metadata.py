"""``/library/metadata/{id}``: item details, posters and art, match/unmatch/refresh, delete."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from tests.sims.plex import xml
from tests.sims.plex.images import PLACEHOLDER_PNG, ImageFetchError, fetch_image
from tests.sims.plex.model import Collection, Item, Library
from tests.sims.plex.provider_client import MatchRequest, ProviderError
from tests.sims.plex.providers import match_through, refresh_through
from tests.sims.plex.query import QueryError, paging
from tests.sims.plex.web import ctx, empty_ok, error_response, set_change, xml_response

#: Upload path names (plexapi uses the plural, the official spec the singular) -> item attribute.
ELEMENTS = {"posters": "thumb", "poster": "thumb", "thumb": "thumb", "arts": "art", "art": "art"}


def _target(library: Library, rk: int) -> Item | Collection | None:
    return library.collection(rk) or library.find(rk)


async def metadata_detail(request: Request) -> Response:
    """``GET /library/metadata/1`` or ``/library/metadata/1,2,3``: full details."""
    library = ctx(request).library
    try:
        keys = [int(part) for part in request.path_params["ids"].split(",") if part]
    except ValueError:
        return error_response(404)
    with library.lock:
        found = [t for t in (_target(library, rk) for rk in keys) if t is not None]
        if not found:
            return error_response(404)
        section = library.sections.get(found[0].section_id)
        root_el = xml.section_container(section, size=len(found)) if section else xml.container(size=len(found))
        for target in found:
            if isinstance(target, Collection):
                xml.collection_element(library, target, root_el, detail=True)
            else:
                xml.item_element(library, target, root_el, detail=True)
        return xml_response(root_el)


async def metadata_delete(request: Request) -> Response:
    library = ctx(request).library
    rk = int(request.path_params["rk"])
    with library.lock:
        if library.collection(rk) is not None:
            coll = library.delete_collection(rk)
            set_change(request, {"deleted_collection": rk, "title": coll.title})
            return empty_ok()
        if library.find(rk) is None:
            return error_response(404)
        item = library.delete_item(rk)
        set_change(request, {"deleted": rk, "title": item.title})
        return empty_ok()


async def children(request: Request) -> Response:
    """A collection's items (``/library/collections/{id}/children`` or ``/library/metadata/{id}/children``)."""
    library = ctx(request).library
    rk = int(request.path_params["rk"])
    try:
        page = paging(request.query_params, request.headers)
    except QueryError as exc:
        return error_response(400, str(exc))
    with library.lock:
        coll = library.collection(rk)
        if coll is None:
            return error_response(404)
        members = library.collection_members(coll)
        end = None if page.size is None else page.start + page.size
        shown = members[page.start : end]
        section = library.sections[coll.section_id]
        root_el = xml.section_container(
            section,
            size=len(shown),
            totalSize=len(members) if page.explicit else None,
            offset=page.start if page.explicit else None,
            key=coll.rating_key,
            title2=coll.title,
        )
        for item in shown:
            xml.item_element(library, item, root_el, detail=False)
        return xml_response(root_el)


async def list_assets(request: Request) -> Response:
    """``GET .../posters`` or ``.../arts``: what plexapi's ``posters()``/``arts()`` read."""
    library = ctx(request).library
    rk = int(request.path_params["rk"])
    element = ELEMENTS[request.url.path.rsplit("/", 1)[-1]]
    with library.lock:
        if _target(library, rk) is None:
            return error_response(404)
        return xml_response(xml.assets(rk, element, library.assets(rk, element), library.selected_asset(rk, element)))


async def upload_asset(request: Request) -> Response:
    """Upload bytes (``POST .../posters`` with a body), fetch ``?url=``, or select a listed one."""
    library = ctx(request).library
    rk = int(request.path_params["rk"])
    name = request.path_params["element"]
    element = ELEMENTS.get(name)
    if element is None:
        return error_response(400, f"uploading {name} is not simulated")
    with library.lock:
        if _target(library, rk) is None:
            return error_response(404)
    url = request.query_params.get("url")
    body = await request.body()
    change: dict[str, Any] = {"ratingKey": rk, "element": element}
    if url and library.asset_by_id(rk, url) is not None:
        with library.lock:
            library.select_asset(rk, element, url)
        change["selected"] = url
    elif url:
        try:
            data = await fetch_image(url)
        except ImageFetchError as exc:
            set_change(request, {**change, "error": str(exc)})
            return error_response(400, str(exc))
        with library.lock:
            asset = library.add_asset(rk, element, data=data, url=url)
        change.update(asset=asset.id, url=url, bytes=len(data))
    elif body:
        with library.lock:
            asset = library.add_asset(rk, element, data=body)
        change.update(asset=asset.id, bytes=len(body))
    else:
        return error_response(400, "no image: send the bytes as the body or pass url=")
    with library.lock:
        target = _target(library, rk)
        change[element] = getattr(target, element)
    set_change(request, change)
    return empty_ok()


async def delete_asset(request: Request) -> Response:
    library = ctx(request).library
    rk = int(request.path_params["rk"])
    element = ELEMENTS.get(request.path_params["element"])
    if element is None:
        return error_response(400)
    with library.lock:
        if _target(library, rk) is None:
            return error_response(404)
        library.clear_asset(rk, element)
    set_change(request, {"ratingKey": rk, "element": element, "deleted": True})
    return empty_ok()


async def image(request: Request) -> Response:
    """The bytes behind an item's ``thumb``/``art`` URL (any timestamp: PMS serves the current one)."""
    library = ctx(request).library
    rk = int(request.path_params["rk"])
    element = request.path_params["element"]
    with library.lock:
        target = _target(library, rk)
        if target is None or getattr(target, element, None) is None:
            return error_response(404)
        asset = library.selected_asset(rk, element)
    if asset is None:
        return Response(PLACEHOLDER_PNG, media_type="image/png")
    if asset.data is None:
        return RedirectResponse(asset.url or "/", status_code=302)
    return Response(asset.data, media_type=asset.content_type)


async def asset_file(request: Request) -> Response:
    """``GET .../file?url=upload://posters/<sha1>``: one listed poster, selected or not."""
    library = ctx(request).library
    rk = int(request.path_params["rk"])
    asset = library.asset_by_id(rk, request.query_params.get("url", ""))
    if asset is None or asset.data is None:
        return error_response(404)
    return Response(asset.data, media_type=asset.content_type)


async def match(request: Request) -> Response:
    """``PUT .../match?guid=&name=&year=``: bind the item to a guid, then refresh through its provider."""
    context = ctx(request)
    library = context.library
    rk = int(request.path_params["rk"])
    guid = request.query_params.get("guid")
    if not guid:
        return error_response(400, "guid is required")
    name = request.query_params.get("name")
    year = request.query_params.get("year")
    with library.lock:
        if library.find(rk) is None:
            return error_response(404)
        item = library.get(rk)
        change: dict[str, Any] = {"ratingKey": rk, "guid": [item.guid, guid]}
        item.guid = guid
        if name and "title" not in item.locks and name != item.title:
            change["title"] = [item.title, name]
            item.title = name
        if year and year.lstrip("-").isdigit() and int(year) > 0 and "year" not in item.locks:
            change["year"] = [item.year, int(year)]
            item.year = int(year)
        item.updated_at = max(item.updated_at + 1, library.now())
        library.touch(item.section_id)
    agent = await refresh_through(library, item, context.providers)
    if agent is not None:
        change["agent"] = agent
    set_change(request, change)
    return empty_ok()


async def unmatch(request: Request) -> Response:
    library = ctx(request).library
    rk = int(request.path_params["rk"])
    with library.lock:
        if library.find(rk) is None:
            return error_response(404)
        item = library.get(rk)
        old, item.guid = item.guid, f"local://{rk}"
        item.updated_at = max(item.updated_at + 1, library.now())
        library.touch(item.section_id)
    set_change(request, {"ratingKey": rk, "guid": [old, item.guid]})
    return empty_ok()


async def refresh(request: Request) -> Response:
    """``PUT .../refresh``: re-read metadata; only items owned by a registered provider change."""
    context = ctx(request)
    library = context.library
    rk = int(request.path_params["rk"])
    with library.lock:
        target = _target(library, rk)
        if target is None:
            return error_response(404)
        item = library.get(rk) if isinstance(target, Item) else None
    change: dict[str, Any] = {"ratingKey": rk, "refresh": True}
    if item is not None:
        agent = await refresh_through(library, item, context.providers)
        if agent is not None:
            change["agent"] = agent
    set_change(request, change)
    return empty_ok()


async def rate(request: Request) -> Response:
    """``PUT /:/rate?key=<rk>&identifier=com.plexapp.plugins.library&rating=<0-10, -1 clears>`` (plexapi ``rate``).

    In PMS the user rating belongs to the token's account, not to the item; one token here, so it
    is stored on the item (``userRating``). It does not change ``updatedAt`` (not verified).
    """
    library = ctx(request).library
    query = request.query_params
    try:
        rk, rating = int(query["key"]), float(query["rating"])
    except (KeyError, ValueError):
        return error_response(400, "key and rating are required numbers")
    if query.get("identifier") != "com.plexapp.plugins.library":
        return error_response(400, "identifier must be com.plexapp.plugins.library")
    if rating != -1 and not 0 <= rating <= 10:
        return error_response(400, "rating must be between 0 and 10, or -1 to clear")
    with library.lock:
        if library.find(rk) is None:
            return error_response(404)
        item = library.get(rk)
        old, item.user_rating = item.user_rating, None if rating == -1 else rating
    set_change(request, {"ratingKey": rk, "userRating": [old, item.user_rating]})
    return empty_ok()


async def matches(request: Request) -> Response:
    """``GET .../matches?manual=1[&title&year&agent]``: search results from a registered provider.

    Without a registered provider for the requested (or the section's) agent the
    simulator has no agent to ask and answers an empty list.
    """
    context = ctx(request)
    library = context.library
    rk = int(request.path_params["rk"])
    query = request.query_params
    with library.lock:
        item = library.find(rk)
        if item is None:
            return error_response(404)
        section = library.sections[item.section_id]
        provider = context.providers.by_identifier(query.get("agent")) or context.providers.by_identifier(section.agent)
        title = query.get("title") or item.title
        raw_year = query.get("year")
        year = int(raw_year) if raw_year and raw_year.isdigit() else item.year if raw_year is None else None
        files = item.files
    root_el = xml.container(size=0, identifier=xml.LIBRARY_IDENTIFIER)
    if provider is not None:
        request_body = MatchRequest(
            type=1, title=title, year=year, filename=files[0] if files else None, manual=query.get("manual") == "1"
        )
        try:
            results = await match_through(provider, context.providers, request_body)
        except ProviderError:
            results = []
        root_el.set("size", str(len(results)))
        for result in results:
            xml.el(
                "SearchResult",
                root_el,
                guid=result.get("guid"),
                name=result.get("title"),
                score=result.get("score", 100),
                thumb=result.get("thumb"),
                summary=result.get("summary"),
                type=result.get("type", "movie"),
                year=result.get("year"),
                matched=0,
                lifespanEnded=0,
            )
    return xml_response(root_el)


ROUTES = [
    Route("/:/rate", rate, methods=["PUT"]),
    Route("/library/metadata/{rk:int}/children", children, methods=["GET"]),
    Route("/library/metadata/{rk:int}/posters", list_assets, methods=["GET"]),
    Route("/library/metadata/{rk:int}/arts", list_assets, methods=["GET"]),
    Route("/library/metadata/{rk:int}/file", asset_file, methods=["GET"]),
    Route("/library/metadata/{rk:int}/match", match, methods=["PUT"]),
    Route("/library/metadata/{rk:int}/unmatch", unmatch, methods=["PUT"]),
    Route("/library/metadata/{rk:int}/refresh", refresh, methods=["PUT"]),
    Route("/library/metadata/{rk:int}/matches", matches, methods=["GET", "PUT"]),
    Route("/library/metadata/{rk:int}/{element}", upload_asset, methods=["POST", "PUT"]),
    Route("/library/metadata/{rk:int}/{element}", delete_asset, methods=["DELETE"]),
    Route("/library/metadata/{rk:int}/{element:str}/{stamp}", image, methods=["GET"]),
    Route("/library/metadata/{rk:int}", metadata_delete, methods=["DELETE"]),
    Route("/library/metadata/{ids}", metadata_detail, methods=["GET"]),
]
