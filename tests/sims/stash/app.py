"""The simulator's HTTP face: ``/graphql``, the image endpoints, and ``/__sim/*`` controls.

The GraphQL endpoint answers like Stash's gqlgen server: HTTP 422 with
``GRAPHQL_PARSE_FAILED`` / ``GRAPHQL_VALIDATION_FAILED`` when the document does not
parse or validate against the schema, HTTP 200 with ``errors`` (and partial
``data``) when a resolver fails. Authentication follows Stash's middleware: the
``ApiKey`` header, else the ``apikey`` query parameter; a key that is present but
wrong is refused even when no key is configured.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    execute_sync,
    parse,
    validate,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.sims.stash.execution import SimExecutor
from tests.sims.stash.faults import Faults
from tests.sims.stash.images import ImageKind, jpeg
from tests.sims.stash.plain_execution import PlainExecutor, Plan
from tests.sims.stash.request_log import RecordedRequest, RequestLog
from tests.sims.stash.resolvers import RequestContext, field_resolver, query_root
from tests.sims.stash.store import StashData

API_KEY_HEADER = "ApiKey"
API_KEY_PARAM = "apikey"


@dataclass
class SimState:
    """Everything the app reads; tests hold the same objects."""

    schema: GraphQLSchema
    data: StashData
    faults: Faults = field(default_factory=Faults)
    requests: RequestLog = field(default_factory=RequestLog)
    api_key: str | None = None
    on_down: Callable[[float], None] | None = None
    """Called by ``POST /__sim/faults {"down_for_s": n}``: close the listener for n seconds."""


_QUOTED_NAME = re.compile(r"'([_A-Za-z][_0-9A-Za-z]*)'")


def _gql_error(message: str, code: str, locations: list[dict[str, int]] | None = None) -> dict[str, Any]:
    # gqlgen (like graphql-js) quotes names with double quotes; graphql-core 3.3 uses single ones.
    error: dict[str, Any] = {"message": _QUOTED_NAME.sub(r'"\1"', message), "extensions": {"code": code}}
    if locations:
        error["locations"] = locations
    return error


class _Prepared:
    """A query parsed and validated once (and planned per operation): clients send the same few texts over and over."""

    def __init__(self, document: DocumentNode | None, parse_error: GraphQLError | None, errors: list[GraphQLError]):
        self.document, self.parse_error, self.errors = document, parse_error, errors
        self.plans: dict[str | None, Plan | None] = {}


def _prepare(schema: GraphQLSchema, query: str, cache: dict[str, _Prepared]) -> _Prepared:
    prepared = cache.get(query)
    if prepared is None:
        try:
            document = parse(query)
        except GraphQLError as error:
            prepared = _Prepared(None, error, [])
        else:
            prepared = _Prepared(document, None, list(validate(schema, document)))
        if len(cache) < 512:
            cache[query] = prepared
    return prepared


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    for op in operations:
        if name is None or (op.name is not None and op.name.value == name):
            return op
    return None


class _Handlers:
    def __init__(self, state: SimState) -> None:
        self.state = state
        self._prepared: dict[str, _Prepared] = {}
        self._plain = PlainExecutor(state.schema)

    # -- shared gatekeeping ------------------------------------------------------------------

    async def _gate(self, request: Request, record: RecordedRequest) -> Response | None:
        """Latency, auth and injected HTTP errors, in the order a real request meets them."""
        faults = self.state.faults
        if faults.latency_s > 0:
            record.fault = "slow"
            await faults.delay()
        sent = request.headers.get(API_KEY_HEADER) or request.query_params.get(API_KEY_PARAM)
        record.api_key_sent = bool(sent)
        if faults.unauthorized:
            record.fault = "unauthorized"
            return self._unauthorized()
        if sent and sent != self.state.api_key:
            return self._unauthorized()
        if not sent and self.state.api_key:
            return self._unauthorized()
        status = faults.take_error_status()
        if status is not None:
            record.fault = "status"
            return Response(f"simulated HTTP {status}", status_code=status, media_type="text/plain")
        return None

    @staticmethod
    def _unauthorized() -> Response:
        return Response(status_code=401, headers={"WWW-Authenticate": "FormBased"})

    @staticmethod
    def _base_url(request: Request) -> str:
        host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
        return f"{request.url.scheme}://{host}"

    # -- /graphql ----------------------------------------------------------------------------

    async def graphql(self, request: Request) -> Response:
        record = self.state.requests.add(RecordedRequest(kind="graphql", method=request.method, path="/graphql"))
        response = await self._graphql(request, record)
        record.status = response.status_code
        return response

    async def _payload(self, request: Request) -> dict[str, Any]:
        if request.method == "GET":
            params = request.query_params
            variables = params.get("variables")
            return {
                "query": params.get("query"),
                "operationName": params.get("operationName"),
                "variables": json.loads(variables) if variables else None,
            }
        body = json.loads(await request.body())
        if not isinstance(body, dict):
            raise ValueError("body is not a JSON object")
        return body

    async def _graphql(self, request: Request, record: RecordedRequest) -> Response:
        try:
            payload = await self._payload(request)
        except ValueError as error:
            return JSONResponse(
                {"errors": [{"message": f"json request body could not be decoded: {error}"}], "data": None}, 400
            )
        query, variables = payload.get("query"), payload.get("variables") or {}
        operation_name = payload.get("operationName") or None
        record.query, record.variables, record.operation_name = query, dict(variables), operation_name

        document: DocumentNode | None = None
        parse_error: GraphQLError | None = None
        validation_errors: list[GraphQLError] = []
        prepared: _Prepared | None = None
        if isinstance(query, str) and query.strip():
            prepared = _prepare(self.state.schema, query, self._prepared)
            document, parse_error, validation_errors = prepared.document, prepared.parse_error, prepared.errors
            if document is not None:
                op = _operation(document, operation_name)
                if op is not None:
                    record.operation_name = operation_name or (op.name.value if op.name else None)
                    record.root_fields = tuple(
                        s.name.value for s in op.selection_set.selections if isinstance(s, FieldNode)
                    )

        gate = await self._gate(request, record)
        if gate is not None:
            return gate

        if parse_error is not None:
            locations = [loc._asdict() for loc in parse_error.locations or []]
            failure = _gql_error(parse_error.message, "GRAPHQL_PARSE_FAILED", locations)
            return JSONResponse({"errors": [failure], "data": None}, 422)
        if document is None:
            failure = _gql_error("no operation provided", "GRAPHQL_VALIDATION_FAILED")
            return JSONResponse({"errors": [failure], "data": None}, 422)
        errors = validation_errors
        if errors:
            body = [
                _gql_error(e.message, "GRAPHQL_VALIDATION_FAILED", [loc._asdict() for loc in e.locations or []])
                for e in errors
            ]
            return JSONResponse({"errors": body, "data": None}, 422)

        locked = self.state.faults.take_db_locked()
        if locked:
            record.fault = "db_locked"
        context = RequestContext(self.state.data, self._base_url(request), self.state.api_key, db_locked=locked)
        root = query_root(context)
        with self.state.data.lock:
            data = self._plainly(prepared, operation_name, variables, root)
            if data is not None:
                return JSONResponse({"data": data})
            result = execute_sync(
                self.state.schema,
                document,
                root_value=root,
                context_value=context,
                variable_values=variables,
                operation_name=operation_name,
                field_resolver=field_resolver,
                executor_class=SimExecutor,
            )
        if not isinstance(result.data, dict) and result.errors and all(e.path is None for e in result.errors):
            # Variables that do not fit their types fail before execution: a validation error to gqlgen.
            body = [_gql_error(e.message, "GRAPHQL_VALIDATION_FAILED") for e in result.errors]
            return JSONResponse({"errors": body, "data": None}, 422)
        answer: dict[str, Any] = {}
        if result.errors:
            answer["errors"] = [e.formatted for e in result.errors]
        answer["data"] = result.data
        return JSONResponse(answer)

    def _plainly(
        self, prepared: _Prepared | None, operation_name: str | None, variables: Any, root: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The answer's data by the document's plan, or None when graphql-core answers (:mod:`.plain_execution`)."""
        if prepared is None or prepared.document is None or not isinstance(variables, dict):
            return None
        if operation_name not in prepared.plans:
            prepared.plans[operation_name] = self._plain.plan(prepared.document, operation_name)
        plan = prepared.plans[operation_name]
        return self._plain.execute(plan, variables, root) if plan is not None else None

    # -- images -----------------------------------------------------------------------------

    def image(self, kind: ImageKind) -> Callable[[Request], Any]:
        async def serve(request: Request) -> Response:
            record = self.state.requests.add(RecordedRequest(kind="image", method="GET", path=request.url.path))
            response = await self._image(kind, request, record)
            record.status = response.status_code
            return response

        return serve

    async def _image(self, kind: ImageKind, request: Request, record: RecordedRequest) -> Response:
        gate = await self._gate(request, record)
        if gate is not None:
            return gate
        entity_id = int(request.path_params["id"])
        data = self.state.data
        with data.lock:
            tables: dict[str, dict[int, Any]] = {
                "scene": data.scenes,
                "performer": data.performers,
                "studio": data.studios,
                "tag": data.tags,
                "group": data.groups,
            }
            record_ = tables[kind].get(entity_id)
            if record_ is None:
                return Response("Not Found", status_code=404, media_type="text/plain")
            has_image = getattr(record_, "has_image", True)
            version = getattr(record_, "image_version", 0)
        body = jpeg(kind, entity_id, version, default=not has_image)
        return Response(body, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=604800"})

    # -- /__sim controls ---------------------------------------------------------------------

    async def faults(self, request: Request) -> Response:
        faults = self.state.faults
        if request.method == "DELETE":
            faults.reset()
        elif request.method == "POST":
            settings = json.loads(await request.body() or b"{}")
            faults.update(settings)
            down_for = settings.get("down_for_s")
            if down_for:
                if self.state.on_down is None:
                    return JSONResponse({"error": "this simulator cannot go down (no server hook)"}, 409)
                self.state.on_down(float(down_for))
        return JSONResponse(faults.snapshot())

    async def requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.state.requests.clear()
        return JSONResponse(self.state.requests.as_json())


def create_app(state: SimState) -> Starlette:
    """The ASGI app of one simulated Stash."""
    handlers = _Handlers(state)
    routes = [
        Route("/graphql", handlers.graphql, methods=["GET", "POST"]),
        Route("/scene/{id:int}/screenshot", handlers.image("scene"), methods=["GET"]),
        Route("/performer/{id:int}/image", handlers.image("performer"), methods=["GET"]),
        Route("/studio/{id:int}/image", handlers.image("studio"), methods=["GET"]),
        Route("/tag/{id:int}/image", handlers.image("tag"), methods=["GET"]),
        Route("/group/{id:int}/frontimage", handlers.image("group"), methods=["GET"]),
        Route("/__sim/faults", handlers.faults, methods=["GET", "POST", "DELETE"]),
        Route("/__sim/requests", handlers.requests, methods=["GET", "DELETE"]),
    ]
    app = Starlette(routes=routes)
    app.state.sim = state
    return app
