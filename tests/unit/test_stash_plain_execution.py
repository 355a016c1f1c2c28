"""The Stash simulator's planned answers are graphql-core's answers, for every operation the clients
send; whatever is not plain (directives, introspection, a null the schema forbids, a failing
resolver) is left to graphql-core."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import DocumentNode, execute_sync, parse

from stash2plex.common.stash.documents import load_operations
from tests.sims.stash.execution import SimExecutor
from tests.sims.stash.generate import make_scenes
from tests.sims.stash.plain_execution import PlainExecutor
from tests.sims.stash.resolvers import RequestContext, field_resolver, query_root
from tests.sims.stash.schema import load_schema
from tests.sims.stash.store import StashData

pytestmark = pytest.mark.unit

SCHEMA = load_schema()
DATA = make_scenes(40, seed=5)
EVERY_SCENE = {"page": 1, "per_page": 100}
FIRST = DATA.scenes[min(DATA.scenes)]

CASES: list[tuple[str, dict[str, Any]]] = [
    ("CompareScenes", EVERY_SCENE),
    (
        "CompareScenes",
        {**EVERY_SCENE, "scene_filter": {"updated_at": {"value": "2020-01-01", "modifier": "GREATER_THAN"}}},
    ),
    ("FindScene", {"id": str(FIRST.id)}),
    ("FindScene", {"id": "999999"}),
    ("FindSceneByHash", {"checksum": FIRST.files[0].fingerprints.get("md5")}),
    ("FindScenes", {**EVERY_SCENE, "sort": "updated_at", "direction": "DESC"}),
    ("FindScenes", {"page": 2, "per_page": 7, "sort": "title", "direction": "ASC"}),
    ("FindScenesByIds", {"ids": [str(i) for i in list(DATA.scenes)[:5]] + ["424242"], "per_page": 6}),
    ("FindScenesByPath", {"path": DATA.file_path(FIRST.files[0]), "page": 1, "per_page": 25}),
    ("SearchScenesByPath", {"value": "videos", "page": 1, "per_page": 25}),
    ("ProviderFindScenes", {"ids": [str(FIRST.id)], "per_page": 10}),
    ("ProviderFindScenes", {"scene_filter": {"title": {"value": "a", "modifier": "INCLUDES"}}, "per_page": 50}),
    ("SceneIdsForEntity", {**EVERY_SCENE, "performers": {"value": ["1"], "modifier": "INCLUDES"}}),
    ("SceneIdsForEntity", {**EVERY_SCENE, "tags": {"value": ["1"], "modifier": "INCLUDES", "depth": -1}}),
    ("ServerOffset", {}),
    ("Version", {}),
    ("PluginConfiguration", {"include": ["stash2plex"]}),
]


def answers(
    document: DocumentNode, operation: str | None, variables: dict[str, Any], data: StashData = DATA
) -> tuple[dict[str, Any] | None, Any]:
    """(the planned answer or None, graphql-core's full result)."""
    context = RequestContext(data, "http://127.0.0.1:9999", "secret")
    executor = PlainExecutor(SCHEMA)
    plan = executor.plan(document, operation)
    plain = executor.execute(plan, variables, query_root(context)) if plan is not None else None
    full = execute_sync(
        SCHEMA,
        document,
        root_value=query_root(context),
        context_value=context,
        variable_values=variables,
        operation_name=operation,
        field_resolver=field_resolver,
        executor_class=SimExecutor,
    )
    return plain, full


@pytest.mark.parametrize(("operation", "variables"), CASES, ids=[f"{op}-{n}" for n, (op, _) in enumerate(CASES)])
def test_every_client_operation_is_answered_plainly_as_graphql_core_answers_it(
    operation: str, variables: dict[str, Any]
) -> None:
    plain, full = answers(load_operations()[operation], operation, variables)
    assert not full.errors, full.errors
    assert plain is not None
    assert plain == full.data


def test_aliases_typename_inline_fragments_and_arguments_answer_alike() -> None:
    document = parse(
        """
        query Odd($id: ID!, $kind: String!) {
          first: findScene(id: $id) {
            __typename
            id
            ... on Scene { name: title files { __typename kind: fingerprint(type: $kind) path } }
            ...More
          }
          again: findScene(id: $id) { id }
        }
        fragment More on Scene { id files { size } studio { name scene_count(depth: 0) } }
        """
    )
    plain, full = answers(document, "Odd", {"id": str(FIRST.id), "kind": "md5"})
    assert not full.errors
    assert plain == full.data


@pytest.mark.parametrize(
    "query",
    [
        "query Q($x: Boolean!) { findScene(id: 1) { id title @include(if: $x) } }",
        "query Q { __schema { queryType { name } } }",
    ],
)
def test_directives_and_introspection_are_left_to_graphql_core(query: str) -> None:
    assert PlainExecutor(SCHEMA).plan(parse(query), "Q") is None


def test_a_null_the_schema_forbids_and_a_failing_resolver_are_left_to_graphql_core() -> None:
    data = StashData()
    data.add_scene(title="only one", paths=["/x.mp4"])
    executor = PlainExecutor(SCHEMA)
    plan = executor.plan(parse("query Q { findScene(id: 1) { id title } }"), "Q")
    assert plan is not None
    assert executor.execute(plan, {}, {"findScene": lambda **_: {"id": None, "title": "t"}}) is None

    def fails(**_: Any) -> Any:
        raise RuntimeError("database is locked")

    assert executor.execute(plan, {}, {"findScene": fails}) is None
    not_simulated = executor.plan(parse("query Q { findScene(id: 1) { id } findImage(id: 1) { id } }"), "Q")
    assert not_simulated is not None
    root = query_root(RequestContext(data, "http://127.0.0.1:9999", None))
    assert executor.execute(not_simulated, {}, root) is None
    assert executor.execute(plan, {"unexpected": 1}, {"findScene": lambda **_: {"id": "1"}}) == {
        "findScene": {"id": "1", "title": None}
    }
