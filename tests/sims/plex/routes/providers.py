"""``/media/providers/metadata``: register a custom metadata provider by URL, list and remove them.

Registration fetches the provider's root document exactly as PMS does
(``GET <uri>?includePreferences=1``) and refuses what PMS would refuse.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.sims.plex import xml
from tests.sims.plex.provider_client import ProviderClient, ProviderError
from tests.sims.plex.providers import DuplicateProviderError, RegisteredProvider
from tests.sims.plex.web import ctx, empty_ok, error_response, set_change, xml_response


def _provider_element(provider: RegisteredProvider, parent: ET.Element) -> ET.Element:
    element = xml.el(
        "MetadataAgentProvider",
        parent,
        id=provider.id,
        identifier=provider.identifier,
        title=provider.title,
        uri=provider.uri,
        agentType="primary",
        online=True,
    )
    for metadata_type in provider.types:
        xml.el("MetadataType", element, type=metadata_type)
    return element


async def register(request: Request) -> Response:
    context = ctx(request)
    uri = request.query_params.get("uri")
    if not uri:
        return error_response(400, "uri is required")
    try:
        async with ProviderClient(uri, language=context.providers.language) as client:
            root = await client.root()
    except ProviderError as exc:
        set_change(request, {"uri": uri, "error": str(exc)})
        return error_response(400, str(exc))
    try:
        provider = context.providers.register(uri, root)
    except DuplicateProviderError as exc:
        set_change(request, {"uri": uri, "error": f"duplicate identifier {exc}"})
        return error_response(409, f"a provider with identifier {exc} exists")
    set_change(request, {"provider": provider.id, "identifier": provider.identifier, "uri": provider.uri})
    root_el = xml.container(size=1)
    _provider_element(provider, root_el)
    return xml_response(root_el)


async def listing(request: Request) -> Response:
    providers = ctx(request).providers.all()
    wanted = request.query_params.get("metadataTypes")
    if wanted:
        types = {int(t) for t in wanted.split(",") if t.strip().isdigit()}
        providers = [p for p in providers if types & set(p.types)]
    root_el = xml.container(size=len(providers))
    for provider in providers:
        _provider_element(provider, root_el)
    return xml_response(root_el)


async def detail(request: Request) -> Response:
    provider = ctx(request).providers.get(int(request.path_params["pid"]))
    if provider is None:
        return error_response(404)
    root_el = xml.container(size=1)
    _provider_element(provider, root_el)
    return xml_response(root_el)


async def remove(request: Request) -> Response:
    provider = ctx(request).providers.remove(int(request.path_params["pid"]))
    if provider is None:
        return error_response(404)
    set_change(request, {"removed_provider": provider.id, "identifier": provider.identifier})
    return empty_ok()


ROUTES = [
    Route("/media/providers/metadata", register, methods=["POST"]),
    Route("/media/providers/metadata", listing, methods=["GET"]),
    Route("/media/providers/metadata/{pid:int}", detail, methods=["GET"]),
    Route("/media/providers/metadata/{pid:int}", remove, methods=["DELETE"]),
]
