"""graphql-core's executor with a shortcut for the fields that are most of every answer.

A scene with its tags, performers and files is a few thousand fields, and graphql-core spends
most of its time per field on bookkeeping (resolve info, nullability and list wrappers). For a
scalar or enum field without arguments read from one of the simulator's dicts, the outcome is
fixed: the dict's value (called when it is a callable), serialized by the schema's own leaf type.
That case is answered here directly; a value that needs more (null for a non-null field, a value
the type refuses) goes the full way, so errors read exactly as graphql-core writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLEnumType, GraphQLNonNull, GraphQLObjectType, GraphQLScalarType, Undefined
from graphql.execution.executor import Executor

_MISSING = object()
_ROOT_TYPES = ("Query", "Mutation", "Subscription")


class SimExecutor(Executor[Any]):
    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        details = field_details_list[0]
        node = details.node
        if len(field_details_list) == 1 and not node.arguments and isinstance(source, Mapping):
            field_def = self.schema.get_field(parent_type, node.name.value)
            if field_def is not None and field_def.resolve is None and not field_def.args:
                field_type = field_def.type
                nullable = not isinstance(field_type, GraphQLNonNull)
                leaf = field_type if nullable else field_type.of_type  # type: ignore[union-attr]
                value = source.get(node.name.value, _MISSING)
                if (
                    isinstance(leaf, GraphQLScalarType | GraphQLEnumType)
                    and value is not _MISSING
                    and parent_type.name not in _ROOT_TYPES
                ):
                    if callable(value):
                        value = value()
                    if value is None and nullable:
                        return None
                    if value is not None:
                        try:
                            coerced = leaf.coerce_output_value(value)
                        except Exception:  # the full path raises it as graphql-core would
                            coerced = Undefined
                        if coerced is not Undefined and coerced is not None:
                            return coerced
        return super().execute_field(parent_type, source, field_details_list, path, position_context)
