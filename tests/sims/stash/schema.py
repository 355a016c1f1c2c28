"""Stash's real GraphQL schema, built with graphql-core from the reference copy.

Executing the real schema is the point of the simulator: a query that names a
field Stash does not have fails here exactly as it fails against Stash.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    build_ast_schema,
    parse,
)

SCHEMA_DIR_ENV = "STASH2PLEX_STASH_SCHEMA_DIR"

# tests/sims/stash/schema.py → parents[3] is the repository root.
_REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_SCHEMA_DIR = _REPO_ROOT.parent / "shared" / "reference" / "stash" / "schema"

# Go's zero time, which is what a non-null Time Stash has no value for comes out as.
_ZERO_SCALARS: dict[str, Any] = {
    "Int": 0,
    "Int64": 0,
    "Float": 0.0,
    "Boolean": False,
    "String": "",
    "ID": "0",
    "Time": "0001-01-01T00:00:00Z",
    "Timestamp": "0001-01-01T00:00:00Z",
    "Map": {},
    "BoolMap": {},
    "PluginConfigMap": {},
    "Any": None,
}


def schema_dir() -> Path:
    """Where the schema files are: ``$STASH2PLEX_STASH_SCHEMA_DIR`` or ``<repo>/../shared/reference/stash/schema``."""
    configured = os.environ.get(SCHEMA_DIR_ENV)
    return Path(configured) if configured else DEFAULT_SCHEMA_DIR


@lru_cache(maxsize=4)
def load_schema(directory: Path | None = None) -> GraphQLSchema:
    """The schema from every ``*.graphql`` file under ``directory`` (cached: building takes ~0.3 s)."""
    directory = directory or schema_dir()
    files = sorted(directory.rglob("*.graphql"))
    if not files:
        raise FileNotFoundError(f"no Stash schema (*.graphql) under {directory}; set {SCHEMA_DIR_ENV}")
    schema = build_ast_schema(parse("\n".join(f.read_text(encoding="utf-8") for f in files)))
    for name in ("BaseFile", "VisualFile"):
        abstract = schema.type_map.get(name)
        if isinstance(abstract, GraphQLInterfaceType | GraphQLUnionType):
            abstract.resolve_type = _typename_from_source
    return schema


def _typename_from_source(value: Any, *_: Any) -> str | None:
    return value.get("__typename") if isinstance(value, dict) else None


def zero_value(field_type: GraphQLOutputType) -> Any:
    """What a field the data does not hold answers: null, or the type's zero when the schema forbids null."""
    if not isinstance(field_type, GraphQLNonNull):
        return None
    inner = field_type.of_type
    if isinstance(inner, GraphQLList):
        return []
    if isinstance(inner, GraphQLScalarType):
        return _ZERO_SCALARS.get(inner.name)
    if isinstance(inner, GraphQLEnumType):
        return next(iter(inner.values))
    if isinstance(inner, GraphQLObjectType):
        return {}
    return None
