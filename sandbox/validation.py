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
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OverlappingFieldsCanBeMergedRule,
    VariableNode,
    specified_rules,
    validate,
)

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
    values = {
        d.variable.name.value: d.default_value.value
        for d in chosen[0].variable_definitions or ()
        if isinstance(d.default_value, BooleanValueNode)
    }
    values.update(variables)
    depth = _depth(chosen[0].selection_set, fragments, values, frozenset())
    if depth > MAX_DEPTH:
        return f"Query has depth of {depth}, which exceeds max depth of {MAX_DEPTH}"
    return None


def _condition(value_node, variables) -> bool | None:
    if isinstance(value_node, BooleanValueNode):
        return value_node.value
    if isinstance(value_node, VariableNode):
        value = variables.get(value_node.name.value)
        return value if isinstance(value, bool) else None
    return None


def _included(node, variables) -> bool:
    for directive in node.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        condition = next((_condition(a.value, variables) for a in directive.arguments if a.name.value == "if"), None)
        if condition is None:
            continue  # a missing or bad value is the executor's error to report
        if (name == "skip") == condition:
            return False
    return True


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
