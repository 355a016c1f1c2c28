"""Loads the GraphQL operations shipped in ``queries/`` and attaches the fragments they use.

Each ``queries/<Name>.graphql`` holds exactly one operation called ``<Name>``;
``queries/fragments/*.graphql`` hold fragments shared between them. Keeping the
text in files (shipped inside the wheel) lets a test validate every one of them
against Stash's real schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    Node,
    OperationDefinitionNode,
    Visitor,
    parse,
    visit,
)

_PACKAGE = "stash2plex.common.stash"


class _SpreadCollector(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: object) -> None:
        self.names.add(node.name.value)


def fragment_spreads(node: Node) -> set[str]:
    """Names of the fragments spread anywhere inside ``node``."""
    collector = _SpreadCollector()
    visit(node, collector)
    return collector.names


def with_fragments(document: DocumentNode, fragments: Mapping[str, FragmentDefinitionNode]) -> DocumentNode:
    """``document`` plus every fragment it needs, directly or through other fragments."""
    defined = {d.name.value for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    needed: list[FragmentDefinitionNode] = []
    pending = sorted(fragment_spreads(document) - defined)
    while pending:
        name = pending.pop()
        if name in defined:
            continue
        if name not in fragments:
            raise LookupError(f"fragment {name!r} is used but defined nowhere")
        defined.add(name)
        needed.append(fragments[name])
        pending.extend(sorted(fragment_spreads(fragments[name]) - defined))
    return DocumentNode(definitions=(*document.definitions, *needed))


def _graphql_files(folder: Traversable) -> Iterable[Traversable]:
    return sorted((f for f in folder.iterdir() if f.is_file() and f.name.endswith(".graphql")), key=lambda f: f.name)


@cache
def load_operations() -> Mapping[str, DocumentNode]:
    """Every shipped operation by name, each a self-contained document ready to send."""
    root = files(_PACKAGE).joinpath("queries")
    fragments: dict[str, FragmentDefinitionNode] = {}
    for file in _graphql_files(root.joinpath("fragments")):
        for definition in parse(file.read_text(encoding="utf-8")).definitions:
            if not isinstance(definition, FragmentDefinitionNode):
                raise ValueError(f"{file.name}: only fragments belong in queries/fragments/")
            fragments[definition.name.value] = definition

    operations: dict[str, DocumentNode] = {}
    for file in _graphql_files(root):
        document = parse(file.read_text(encoding="utf-8"))
        ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        expected = file.name.removesuffix(".graphql")
        if len(ops) != 1 or ops[0].name is None or ops[0].name.value != expected:
            raise ValueError(f"{file.name}: must hold exactly one operation named {expected}")
        operations[expected] = with_fragments(document, fragments)
    return operations
