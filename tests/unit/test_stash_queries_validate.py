"""Every GraphQL document the project ships must be valid against Stash's real schema.

A field Stash does not have (``stash_ids { scheme }`` broke a peer project) fails
here, at test time, instead of in production against a live Stash.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLSchema,
    NoUnusedFragmentsRule,
    OperationDefinitionNode,
    parse,
    specified_rules,
    validate,
)

from stash2plex.common.stash.documents import load_operations, with_fragments
from tests.sims.stash.schema import load_schema

pytestmark = pytest.mark.unit

REPO_ROOT = Path(__file__).resolve().parents[2]
SEARCHED = ("libs", "services")


def _graphql_files() -> list[Path]:
    files = [
        path
        for top in SEARCHED
        for path in (REPO_ROOT / top).rglob("*.graphql")
        if ".venv" not in path.parts and "node_modules" not in path.parts
    ]
    return sorted(files)


FILES = _graphql_files()


def _fragment_pool() -> dict[str, FragmentDefinitionNode]:
    pool: dict[str, FragmentDefinitionNode] = {}
    for path in FILES:
        for definition in parse(path.read_text(encoding="utf-8")).definitions:
            if isinstance(definition, FragmentDefinitionNode):
                name = definition.name.value
                assert name not in pool, f"fragment {name} is defined twice; the second is in {path}"
                pool[name] = definition
    return pool


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return load_schema()


def test_the_project_ships_graphql_documents() -> None:
    assert FILES, f"no *.graphql files under {', '.join(SEARCHED)}: the glob or the layout is broken"
    assert any(p.name == "FindScene.graphql" for p in FILES)


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(REPO_ROOT)) for p in FILES])
def test_document_validates_against_stash_schema(path: Path, schema: GraphQLSchema) -> None:
    document: DocumentNode = parse(path.read_text(encoding="utf-8"))
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    rules = list(specified_rules)
    if not operations:
        # A fragment library: its fragments are used elsewhere, and must still fit the schema.
        rules.remove(NoUnusedFragmentsRule)
    complete = with_fragments(document, _fragment_pool())
    errors = validate(schema, complete, rules)
    assert not errors, "\n".join(f"{path.name}: {e.message}" for e in errors)


def test_validation_rejects_what_stash_would(schema: GraphQLSchema) -> None:
    # The check above is only worth something if this one fails: a field StashID does not have.
    document = parse("query Bad { findScene(id: 1) { id stash_ids { scheme } } }")
    assert [e.message for e in validate(schema, document)] == ["Cannot query field 'scheme' on type 'StashID'."]


def test_client_loads_every_operation_file() -> None:
    # What the client sends is what was validated: one operation per file, named like it.
    shipped = {p.stem for p in FILES if p.parent.name == "queries" and "stash" in p.parts}
    assert set(load_operations()) == shipped


def test_the_stash_plugins_own_query_is_valid(schema: GraphQLSchema) -> None:
    """The forwarder cannot ship a .graphql file (it is one stdlib script): check its query here."""
    from tests.unit.test_ingest_hooks import load_forwarder

    query = load_forwarder().SETTINGS_QUERY
    assert [str(e) for e in validate(schema, parse(query))] == []
    assert validate(schema, parse(query.replace("plugins(include", "plugin(include")))  # the check can fail
