"""Several operations in one request, as aliased root fields.

GraphQL executes the root fields of a mutation one after the other, each
with its own result (and DS reports a mutation's refusal in its own payload,
NOTES §13), so N outbox mutations can travel in one request instead of N.
The batch is assembled from the project's own documents (one `.graphql`
file per operation, `connector.documents`): item i becomes the root field
`a<i>: <field>(…)` and each of its variables `$v` becomes `$a<i>_v`. The
fragments the items share are sent once.

DS bounds a request (NOTES §5): 30 s, a complexity of 60,000 and 20,000
query tokens. `BatchLimits` keeps each batch well inside the last two by
measuring the assembled document; the time is the caller's to watch (it
halves the batch on a `timeout`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from typing import Iterable, Sequence

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    Source,
    TokenKind,
    VariableNode,
    Visitor,
    print_ast,
    visit,
)
from graphql.language import Lexer

from connector import documents

# Names of the assembled operations (DS and the sandbox log them).
MUTATION_BATCH = "wifMutations"
QUERY_BATCH = "wifQueries"


@dataclass(frozen=True)
class BatchItem:
    operation: str  # name of a document in connector/graphql
    variables: dict


@dataclass(frozen=True)
class BatchLimits:
    """Half of what DS accepts: the estimate of complexity is ours, not DS's."""

    max_items: int = 50
    max_tokens: int = 10_000  # DS: 20,000 query tokens
    max_complexity: int = 30_000  # DS: 60,000


@dataclass(frozen=True)
class Batch:
    document: DocumentNode
    variables: dict
    operation_name: str
    aliases: tuple[str, ...]

    @property
    def text(self) -> str:
        return print_ast(self.document)


def alias(index: int) -> str:
    return f"a{index}"


@dataclass(frozen=True)
class _Parsed:
    operation: OperationDefinitionNode
    fragments: tuple[FragmentDefinitionNode, ...]
    kind: OperationType
    complexity: int


@cache
def _parsed(operation_name: str) -> _Parsed:
    document = documents.parsed(operation_name)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = tuple(d for d in document.definitions if isinstance(d, FragmentDefinitionNode))
    operation = operations[0]
    fields = [s for s in operation.selection_set.selections if isinstance(s, FieldNode)]
    if len(fields) != 1 or len(operation.selection_set.selections) != 1:
        raise ValueError(f"{operation_name}: a batched document must have exactly one root field")
    return _Parsed(operation, fragments, operation.operation, _field_count(operation, {f.name.value: f for f in fragments}))


def _field_count(node, fragments: dict[str, FragmentDefinitionNode]) -> int:
    """graphql-ruby's default cost: one per field, fragments expanded where spread.
    (Connections multiply by their page size; no batched document pages.)"""
    count = 0

    def walk(selection_set):
        nonlocal count
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                count += 1
                walk(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                walk(fragments[selection.name.value].selection_set)

    walk(node.selection_set)
    return count


class _RenameVariables(Visitor):
    def __init__(self, prefix: str):
        super().__init__()
        self.prefix = prefix

    def enter_variable(self, node: VariableNode, *_):
        return VariableNode(name=NameNode(value=f"{self.prefix}_{node.name.value}"))


def assemble(items: Sequence[BatchItem]) -> Batch:
    """One document for all `items`, which must all be queries or all mutations."""
    if not items:
        raise ValueError("an empty batch")
    kinds = {_parsed(item.operation).kind for item in items}
    if len(kinds) != 1:
        raise ValueError("a batch mixes queries and mutations")
    kind = kinds.pop()
    selections, definitions, variables, fragments = [], [], {}, {}
    aliases = []
    for index, item in enumerate(items):
        parsed = _parsed(item.operation)
        name = alias(index)
        aliases.append(name)
        renamed: OperationDefinitionNode = visit(parsed.operation, _RenameVariables(name))
        selections.append(replace(renamed.selection_set.selections[0], alias=NameNode(value=name)))
        definitions.extend(renamed.variable_definitions)
        declared = {d.variable.name.value for d in parsed.operation.variable_definitions}
        unknown = set(item.variables) - declared
        if unknown:
            raise ValueError(f"{item.operation} has no variable {', '.join(sorted(unknown))}")
        variables.update({f"{name}_{key}": value for key, value in item.variables.items()})
        for fragment in parsed.fragments:
            fragments.setdefault(fragment.name.value, fragment)
    operation = OperationDefinitionNode(
        operation=kind,
        name=NameNode(value=MUTATION_BATCH if kind is OperationType.MUTATION else QUERY_BATCH),
        variable_definitions=tuple(definitions),
        directives=(),
        selection_set=replace(_parsed(items[0].operation).operation.selection_set, selections=tuple(selections)),
    )
    document = DocumentNode(definitions=(operation, *(fragments[n] for n in sorted(fragments))))
    return Batch(document, variables, operation.name.value, tuple(aliases))


def token_count(text: str) -> int:
    """Lexical tokens of a document, as graphql-ruby counts them for max_query_string_tokens."""
    lexer = Lexer(Source(text))
    count = 0
    while lexer.advance().kind is not TokenKind.EOF:
        count += 1
    return count


@cache
def _item_tokens(operation_name: str) -> int:
    # The item's own text once aliased; its fragments are counted with the batch.
    return token_count(print_ast(_parsed(operation_name).operation)) + 2


@cache
def _fragment_tokens(operation_name: str) -> int:
    return sum(token_count(print_ast(f)) for f in _parsed(operation_name).fragments)


def split(items: Iterable[BatchItem], limits: BatchLimits) -> list[list[BatchItem]]:
    """Consecutive runs of items, each within the limits (an item alone always fits)."""
    chunks: list[list[BatchItem]] = []
    current: list[BatchItem] = []
    tokens = complexity = 0
    seen_fragments: set[str] = set()
    for item in items:
        parsed = _parsed(item.operation)
        item_tokens = _item_tokens(item.operation)
        extra_fragments = 0 if item.operation in seen_fragments else _fragment_tokens(item.operation)
        if current and (
            len(current) >= limits.max_items
            or tokens + item_tokens + extra_fragments > limits.max_tokens
            or complexity + parsed.complexity > limits.max_complexity
        ):
            chunks.append(current)
            current, tokens, complexity, seen_fragments = [], 0, 0, set()
            extra_fragments = _fragment_tokens(item.operation)
        current.append(item)
        tokens += item_tokens + extra_fragments
        complexity += parsed.complexity
        seen_fragments.add(item.operation)
    if current:
        chunks.append(current)
    return chunks


def complexity(items: Sequence[BatchItem]) -> int:
    return sum(_parsed(item.operation).complexity for item in items)
