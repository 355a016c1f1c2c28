"""The plain case of a query, answered by walking the simulator's dicts along a plan made once per document.

Even with :mod:`.execution`'s shortcut, graphql-core spends most of a 1,000-scene page on per-field
bookkeeping (paths, resolve infos, field groups, list and null wrappers). Clients send the same
few documents over and over, so each (document, operation) is planned once: for every selection,
the response key, the field, how its value completes (list, non-null, leaf type or nested plan).
Answering is then a loop over dict lookups with the same rules as :func:`.resolvers.field_resolver`
(a callable is called with the field's arguments, a missing field is the type's zero value) and
graphql-core's completion (the leaf type's own ``coerce_output_value``).

Anything outside the plain case returns None so that graphql-core answers in full, and its
answer and errors stay the reference: directives, fragment variables, abstract types,
introspection, a root field the simulator lacks, a resolver that raises, a null where the schema
forbids one, a value its type refuses, a list that is no list. A test compares both executors on
every operation the clients send.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values

from tests.sims.stash.schema import zero_value

_MISSING = object()
_TEXT_AS_IS = (GraphQLString.coerce_output_value, GraphQLID.coerce_output_value, GraphQLScalarType.serialize)
Complete = Callable[[Any, "_Run"], Any]


class Unfit(Exception):  # noqa: N818 - a signal, not an error: graphql-core answers instead
    """This query, or this answer, needs graphql-core's full executor."""


@dataclass(slots=True)
class _FieldPlan:
    key: str
    name: str
    node: FieldNode
    definition: GraphQLField | None
    """None for ``__typename``."""
    return_type: GraphQLOutputType | None
    complete: Complete | None
    typename: str = ""
    has_arguments: bool = False


@dataclass(slots=True)
class Plan:
    operation: OperationDefinitionNode
    root: list[_FieldPlan]


@dataclass
class _Run:
    """One request: its coerced variables and the argument values of each planned field."""

    variables: VariableValues
    arguments: dict[int, dict[str, Any]] = field(default_factory=dict)

    def arguments_of(self, plan: _FieldPlan) -> dict[str, Any]:
        known = self.arguments.get(id(plan))
        if known is None:
            assert plan.definition is not None
            known = get_argument_values(plan.definition, plan.node, self.variables)
            self.arguments[id(plan)] = known
        return known


class PlainExecutor:
    """Plans a (document, operation), then answers with a plan; one per schema."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema

    def plan(self, document: DocumentNode, operation_name: str | None) -> Plan | None:
        """How to answer ``operation_name`` of ``document`` plainly, or None if graphql-core must (keep it)."""
        try:
            return self._make_plan(document, operation_name)
        except Unfit:
            return None

    def execute(
        self, plan: Plan, variables: dict[str, Any], root: Mapping[str, Callable[..., Any]]
    ) -> dict[str, Any] | None:
        """The answer's ``data``, or None when graphql-core must answer (see the module doc)."""
        coerced = get_variable_values(self.schema, plan.operation.variable_definitions or (), variables)
        if not isinstance(coerced, VariableValues):
            return None
        run = _Run(coerced)
        data: dict[str, Any] = {}
        try:
            for step in plan.root:
                if step.typename:
                    data[step.key] = step.typename
                    continue
                resolver = root.get(step.name)
                if resolver is None:
                    return None
                assert step.complete is not None
                data[step.key] = step.complete(resolver(**run.arguments_of(step)), run)
        except (Unfit, GraphQLError):
            return None
        except Exception:  # a resolver failing: graphql-core reports it in its own words
            return None
        return data

    # -- planning ------------------------------------------------------------------------

    def _make_plan(self, document: DocumentNode, operation_name: str | None) -> Plan:
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        chosen = [op for op in operations if operation_name is None or (op.name and op.name.value == operation_name)]
        if len(chosen) != 1 or (operation_name is None and len(operations) != 1):
            raise Unfit
        operation = chosen[0]
        if operation.operation is not OperationType.QUERY or operation.directives:
            raise Unfit
        fragments: dict[str, FragmentDefinitionNode] = {}
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                if definition.variable_definitions or definition.directives:
                    raise Unfit
                fragments[definition.name.value] = definition
        root_type = self.schema.query_type
        if root_type is None:
            raise Unfit
        return Plan(operation, self._fields(root_type, [operation.selection_set], fragments))

    def _fields(
        self,
        parent: GraphQLObjectType,
        selection_sets: list[SelectionSetNode],
        fragments: dict[str, FragmentDefinitionNode],
    ) -> list[_FieldPlan]:
        """The fields selected on ``parent``, merged by response key in first-seen order."""
        grouped: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()  # shared by every node of the group, as graphql-core's collect_subfields does
        for selection_set in selection_sets:
            self._collect(parent, selection_set, fragments, grouped, visited)
        plans: list[_FieldPlan] = []
        for key, nodes in grouped.items():
            node = nodes[0]
            name = node.name.value
            if name == "__typename":
                plans.append(_FieldPlan(key, name, node, None, None, None, typename=parent.name))
                continue
            if name.startswith("__"):
                raise Unfit  # introspection
            definition = parent.fields.get(name)
            if definition is None or definition.resolve is not None:
                raise Unfit
            subsets = [n.selection_set for n in nodes if n.selection_set is not None]
            complete = self._completer(definition.type, subsets, fragments)
            plans.append(
                _FieldPlan(
                    key,
                    name,
                    node,
                    definition,
                    definition.type,
                    complete,
                    has_arguments=bool(node.arguments) or bool(definition.args),
                )
            )
        return plans

    def _collect(
        self,
        parent: GraphQLObjectType,
        selection_set: SelectionSetNode,
        fragments: dict[str, FragmentDefinitionNode],
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if selection.directives:
                raise Unfit  # @skip / @include depend on variables: graphql-core decides
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if selection.type_condition is None or self._applies(selection.type_condition.name.value, parent):
                    self._collect(parent, selection.selection_set, fragments, grouped, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in visited:
                    continue
                visited.add(name)
                fragment = fragments.get(name)
                if fragment is None:
                    raise Unfit
                if self._applies(fragment.type_condition.name.value, parent):
                    self._collect(parent, fragment.selection_set, fragments, grouped, visited)

    def _applies(self, condition: str, parent: GraphQLObjectType) -> bool:
        if condition == parent.name:
            return True
        named = self.schema.get_type(condition)
        if isinstance(named, GraphQLObjectType) or named is None:
            return False
        return self.schema.is_sub_type(named, parent)  # type: ignore[arg-type]

    def _completer(
        self, output: GraphQLOutputType, subsets: list[SelectionSetNode], fragments: dict[str, FragmentDefinitionNode]
    ) -> Complete:
        if isinstance(output, GraphQLNonNull):
            inner = self._completer(output.of_type, subsets, fragments)

            def non_null(value: Any, run: _Run) -> Any:
                if value is None:
                    raise Unfit
                result = inner(value, run)
                if result is None:
                    raise Unfit
                return result

            return non_null
        if isinstance(output, GraphQLList):
            item = self._completer(output.of_type, subsets, fragments)

            def listed(value: Any, run: _Run) -> Any:
                if value is None:
                    return None
                if not isinstance(value, list | tuple):
                    raise Unfit
                return [item(v, run) for v in value]

            return listed
        if isinstance(output, GraphQLScalarType | GraphQLEnumType):
            coerce = output.coerce_output_value
            # String and ID give text back as it is, as does a scalar without a serializer of its own.
            text_as_is = coerce in _TEXT_AS_IS

            def leaf(value: Any, _run: _Run) -> Any:
                if value is None:
                    return None
                if text_as_is and type(value) is str:
                    return value
                try:
                    result = coerce(value)
                except Exception:
                    raise Unfit from None
                if result is Undefined or result is None:
                    raise Unfit
                return result

            return leaf
        if isinstance(output, GraphQLObjectType):
            plans = self._fields(output, subsets, fragments)

            def obj(value: Any, run: _Run) -> Any:
                if value is None:
                    return None
                if not isinstance(value, Mapping):
                    raise Unfit
                return _answer(plans, value, run)

            return obj
        raise Unfit  # interfaces and unions: graphql-core resolves the runtime type


def _answer(plans: list[_FieldPlan], source: Mapping[str, Any], run: _Run) -> dict[str, Any]:
    """One object: each planned field read as :func:`.resolvers.field_resolver` reads it, then completed."""
    out: dict[str, Any] = {}
    for plan in plans:
        if plan.typename:
            out[plan.key] = plan.typename
            continue
        value = source.get(plan.name, _MISSING)
        if value is _MISSING:
            assert plan.return_type is not None
            value = zero_value(plan.return_type)
        elif callable(value):
            value = value(**run.arguments_of(plan)) if plan.has_arguments else value()
        assert plan.complete is not None
        out[plan.key] = plan.complete(value, run)
    return out
