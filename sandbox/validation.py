"""GraphQL validation as DS's server applies it (graphql-ruby 2.5): no stricter, no looser.

Two differences from graphql-core's defaults (docs/ds-validation.md):
- a response key selected twice with different scalar types on types that can never
  meet (DS's own stored query does it with `value` on each Column type) is accepted:
  graphql-ruby only logs it unless a schema opts in to the spec's error, and DS does not;
- a query deeper than 15 fields is refused before it runs ("Query has depth of …").
"""
from __future__ import annotations

import importlib.util
from functools import cache

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLIncludeDirective,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    OverlappingFieldsCanBeMergedRule,
    specified_rules,
    validate,
)
from graphql.execution.values import get_directive_values

MAX_DEPTH = 15


@cache
def _overlap_rule_without_type_check():
    """graphql-core's own overlap rule, loaded privately with its return-type comparison switched off.

    The module is executed a second time under its own name but not registered, so the
    rule everyone else imports (the connector's document checks) keeps the spec's check."""
    spec = importlib.util.find_spec(OverlappingFieldsCanBeMergedRule.__module__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.do_types_conflict = lambda *_: False
    return module.OverlappingFieldsCanBeMergedRule


def ds_rules() -> tuple:
    lenient = _overlap_rule_without_type_check()
    return tuple(lenient if rule is OverlappingFieldsCanBeMergedRule else rule for rule in specified_rules)


def validation_errors(schema: GraphQLSchema, document: DocumentNode) -> list[GraphQLError]:
    return validate(schema, document, ds_rules())


def depth_error(document: DocumentNode, operation_name: str | None, variables: dict) -> str | None:
    """DS's max_depth: the deepest chain of fields the operation would run (fragments followed,
    @skip/@include applied, introspection fields not counted)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)]
    if len(chosen) != 1:
        return None  # the executor reports the missing or ambiguous operation
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    depth = _depth(chosen[0].selection_set, fragments, variables, frozenset())
    if depth > MAX_DEPTH:
        return f"Query has depth of {depth}, which exceeds max depth of {MAX_DEPTH}"
    return None


def _included(node, variables) -> bool:
    try:
        skip = get_directive_values(GraphQLSkipDirective, node, variables)
        include = get_directive_values(GraphQLIncludeDirective, node, variables)
    except GraphQLError:
        return True  # a bad variable is the executor's error to report
    return not (skip and skip["if"]) and not (include and not include["if"])


def _depth(selection_set, fragments, variables, seen: frozenset) -> int:
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if not _included(selection, variables):
            continue
        if isinstance(selection, FieldNode):
            if selection.name.value.startswith("__"):
                continue
            deepest = max(deepest, 1 + _depth(selection.selection_set, fragments, variables, seen))
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, fragments, variables, seen))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in seen:
                deepest = max(deepest, _depth(fragments[name].selection_set, fragments, variables, seen | {name}))
    return deepest
