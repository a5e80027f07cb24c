"""Several operations in one request, as aliased root fields.

GraphQL executes the root fields of a mutation one after the other, each
with its own result (and DS reports a mutation's refusal in its own payload,
docs/ds-push.md#the-mutations), so N outbox mutations can travel in one request instead of N.
The batch is assembled from the project's own documents (one `.graphql`
file per operation, `connector.documents`): item i becomes the root field
`a<i>: <field>(…)` and each of its variables `$v` becomes `$a<i>_v`. The
fragments the items share are sent once.

DS bounds a request (docs/ds-push.md#request-limits): 30 s, a complexity of 60,000 and 20,000
query tokens. `BatchLimits` keeps each batch well inside the last two by
measuring the assembled document; the time is the caller's to watch (it
halves the batch on a `timeout`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    Source,
    TokenKind,
    parse,
    print_ast,
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
    text: str
    variables: dict
    operation_name: str
    aliases: tuple[str, ...]

    @property
    def document(self) -> DocumentNode:
        return parse(self.text)


def alias(index: int) -> str:
    return f"a{index}"


@dataclass(frozen=True)
class _Parsed:
    kind: OperationType
    field_text: str  # the root field, printed, variables as `$name`
    variables: tuple[tuple[str, str], ...]  # (name, type) as declared
    fragments: tuple[tuple[str, str], ...]  # (name, printed definition)
    complexity: int


_VARIABLE = re.compile(r"\$([_A-Za-z][_0-9A-Za-z]*)")


@cache
def _parsed(operation_name: str) -> _Parsed:
    document = documents.parsed(operation_name)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = tuple(d for d in document.definitions if isinstance(d, FragmentDefinitionNode))
    fields = [s for s in operation.selection_set.selections if isinstance(s, FieldNode)]
    if len(fields) != 1 or len(operation.selection_set.selections) != 1 or fields[0].alias is not None:
        raise ValueError(f"{operation_name}: a batched document must have exactly one root field, without alias")
    field_text = print_ast(fields[0])
    if '"' in field_text:
        raise ValueError(f"{operation_name}: string literals are not supported in a batched document")
    return _Parsed(
        operation.operation,
        field_text,
        tuple((d.variable.name.value, print_ast(d.type)) for d in operation.variable_definitions or ()),
        tuple((f.name.value, print_ast(f)) for f in fragments),
        _field_count(operation, {f.name.value: f for f in fragments}),
    )


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


def _prefixed(text: str, name: str) -> str:
    """`text` with each of its variables prefixed by the item's alias."""
    return _VARIABLE.sub(lambda m: f"${name}_{m.group(1)}", text)


def assemble(items: Sequence[BatchItem]) -> Batch:
    """One document for all `items`, which must all be queries or all mutations.

    Plain text from printed parts cached per operation: assembling a request
    costs string joins, not a walk of the syntax tree (a push assembles
    hundreds)."""
    if not items:
        raise ValueError("an empty batch")
    parts = [_parsed(item.operation) for item in items]
    kinds = {part.kind for part in parts}
    if len(kinds) != 1:
        raise ValueError("a batch mixes queries and mutations")
    kind = kinds.pop()
    definitions: list[str] = []
    fields: list[str] = []
    variables: dict[str, Any] = {}
    fragments: dict[str, str] = {}
    aliases: list[str] = []
    for index, (item, part) in enumerate(zip(items, parts, strict=False)):
        name = alias(index)
        aliases.append(name)
        declared = {variable for variable, _ in part.variables}
        unknown = set(item.variables) - declared
        if unknown:
            raise ValueError(f"{item.operation} has no variable {', '.join(sorted(unknown))}")
        definitions.extend(f"${name}_{variable}: {type_text}" for variable, type_text in part.variables)
        fields.append(f"  {name}: " + _prefixed(part.field_text, name).replace("\n", "\n  "))
        variables.update({f"{name}_{key}": value for key, value in item.variables.items()})
        for fragment_name, fragment_text in part.fragments:
            fragments.setdefault(fragment_name, fragment_text)
    operation_name = MUTATION_BATCH if kind is OperationType.MUTATION else QUERY_BATCH
    keyword = "mutation" if kind is OperationType.MUTATION else "query"
    text = "\n\n".join(
        [f"{keyword} {operation_name}({', '.join(definitions)}) {{\n" + "\n".join(fields) + "\n}"]
        + [fragments[n] for n in sorted(fragments)]
    )
    return Batch(text, variables, operation_name, tuple(aliases))


def token_count(text: str) -> int:
    """Lexical tokens of a document, as graphql-ruby counts them for max_query_string_tokens."""
    lexer = Lexer(Source(text))
    count = 0
    while lexer.advance().kind is not TokenKind.EOF:
        count += 1
    return count


@cache
def _item_tokens(operation_name: str) -> int:
    # The item's root field, its alias (2 tokens) and its variable definitions (4 tokens each).
    part = _parsed(operation_name)
    return token_count(part.field_text) + 2 + sum(3 + token_count(t) for _, t in part.variables)


@cache
def _fragment_tokens(operation_name: str) -> int:
    return sum(token_count(text) for _, text in _parsed(operation_name).fragments)


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
