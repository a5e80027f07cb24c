"""GraphQL documents of the project, one `.graphql` file per DS operation.

An operation file holds the operation only; the named fragments it spreads
live in `fragments.graphql` and are appended when the document is loaded.
Only the fragments it reaches are added, since GraphQL rejects a document
that carries an unused fragment.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    OperationDefinitionNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

DOCUMENTS_DIR = Path(__file__).parent / "graphql"
FRAGMENTS_FILE = "fragments.graphql"


def operation_names() -> list[str]:
    """Names of every operation shipped with the project."""
    return sorted(p.stem for p in DOCUMENTS_DIR.glob("*.graphql") if p.name != FRAGMENTS_FILE)


@cache
def _fragments() -> dict[str, FragmentDefinitionNode]:
    document = parse((DOCUMENTS_DIR / FRAGMENTS_FILE).read_text())
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _spread_names(node) -> set[str]:
    names: set[str] = set()

    class Collect(Visitor):
        def enter_fragment_spread(self, spread: FragmentSpreadNode, *_):
            names.add(spread.name.value)

    visit(node, Collect())
    return names


@cache
def load(operation_name: str) -> str:
    """Full text of an operation with the fragments it needs."""
    path = DOCUMENTS_DIR / f"{operation_name}.graphql"
    if not path.exists():
        raise KeyError(f"no GraphQL document named {operation_name!r} in {DOCUMENTS_DIR}")
    operation = parse(path.read_text())
    declared = [d for d in operation.definitions if isinstance(d, OperationDefinitionNode)]
    if len(declared) != 1 or declared[0].name is None or declared[0].name.value != operation_name:
        raise ValueError(f"{path.name} must hold exactly one operation named {operation_name}")

    fragments = _fragments()
    needed: list[str] = []
    pending = sorted(_spread_names(operation))
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        if name not in fragments:
            raise KeyError(f"{path.name} uses unknown fragment {name}")
        needed.append(name)
        pending.extend(sorted(_spread_names(fragments[name]) - set(needed)))
    parts = [print_ast(operation)] + [print_ast(fragments[n]) for n in sorted(needed)]
    return "\n\n".join(parts)


def parsed(operation_name: str) -> DocumentNode:
    return parse(load(operation_name))
