"""The provider's endpoints as documented FastAPI routes (the OpenAPI document at ``/openapi.json``).

Requests are served by :class:`~stash2plex.provider.fastpath.ProviderFastPath`, which runs
the same handlers without FastAPI's per-request machinery; these routes describe the API
and answer the same way when called directly. With a secret path set, every path below
is served under ``/<secret>`` instead.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response

from stash2plex.provider.answers import Answer, RequestError
from stash2plex.provider.handlers import ProviderHandlers
from stash2plex.provider.links import public_base
from stash2plex.provider.match import MatchBody
from stash2plex.provider.paging import SIZE, START, page_of

router = APIRouter(tags=["Plex metadata provider"])

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed request; `detail` says what is wrong"},
    404: {"description": "Stash has no such scene"},
    503: {"description": "Stash is not configured or did not answer; Plex tries again later"},
}
RatingKey = Annotated[str, Path(description="`scene-<Stash scene id>`, as the provider's GUIDs carry it")]
Version = Annotated[str | None, Query(description="The image's version (changes with the image)")]


def handlers_of(request: Request) -> ProviderHandlers:
    handlers: ProviderHandlers = request.app.state.provider
    return handlers


def as_response(answer: Answer) -> Response:
    if answer.stream is not None:
        from fastapi.responses import StreamingResponse

        return StreamingResponse(answer.stream, answer.status, dict(answer.headers), answer.content_type)
    return Response(answer.body, answer.status, dict(answer.headers), answer.content_type)


def base_of(request: Request) -> str:
    return public_base(handlers_of(request).options, request.scope)


@router.get("/", summary="Root document (MediaProvider): identifier, types, features")
async def root(request: Request) -> Response:
    return as_response(handlers_of(request).root())


@router.post(
    "/library/metadata/matches",
    summary="Match a scanned file (or a title) to Stash scenes",
    responses=ERRORS,
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": MatchBody.model_json_schema()}}}
    },
)
async def matches(
    request: Request,
    x_plex_container_start: Annotated[str | None, Header(alias=START)] = None,
    x_plex_container_size: Annotated[str | None, Header(alias=SIZE)] = None,
    x_plex_language: Annotated[str | None, Header(alias="X-Plex-Language")] = None,
    start: Annotated[str | None, Query(alias=START)] = None,
    size: Annotated[str | None, Query(alias=SIZE)] = None,
) -> Response:
    handlers = handlers_of(request)
    headers = {k.lower(): v for k, v in ((START, x_plex_container_start), (SIZE, x_plex_container_size)) if v}
    query = {k: v for k, v in ((START, start), (SIZE, size)) if v is not None}
    try:
        page = page_of(headers, query)
    except RequestError as problem:
        return as_response(problem.answer())
    return as_response(await handlers.match(await request.body(), page, base_of(request)))


@router.get("/library/metadata/{rating_key}", summary="Full metadata of one scene", responses=ERRORS)
async def metadata(request: Request, rating_key: RatingKey) -> Response:
    return as_response(await handlers_of(request).metadata(rating_key, base_of(request)))


@router.get("/library/metadata/{rating_key}/images", summary="Every image of one scene", responses=ERRORS)
async def images(request: Request, rating_key: RatingKey) -> Response:
    return as_response(await handlers_of(request).images(rating_key, base_of(request)))


@router.get("/library/metadata/{rating_key}/extras", summary="Extras of one scene (none)", responses=ERRORS)
async def extras(request: Request, rating_key: RatingKey) -> Response:
    return as_response(await handlers_of(request).extras(rating_key))


ImageKind = Literal["screenshot", "poster", "performer"]


async def _image(request: Request, kind: ImageKind, entity: str, v: str | None) -> Response:
    return as_response(await handlers_of(request).image(kind, entity, v))


@router.get("/images/scene/{scene_id}/screenshot", summary="A scene's screenshot, from Stash")
async def screenshot(request: Request, scene_id: str, v: Version = None) -> Response:
    return await _image(request, "screenshot", scene_id, v)


@router.get("/images/scene/{scene_id}/poster", summary="A scene's screenshot letterboxed to a 2:3 poster")
async def poster(request: Request, scene_id: str, v: Version = None) -> Response:
    return await _image(request, "poster", scene_id, v)


@router.get("/images/performer/{performer_id}", summary="A performer's image, from Stash")
async def performer(request: Request, performer_id: str, v: Version = None) -> Response:
    return await _image(request, "performer", performer_id, v)
