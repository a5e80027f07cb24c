"""The sandbox serves DS's whole public schema: introspected over HTTP, as any client would, it holds
every named type of the real schema (January 2026) with the same kind, fields, arguments, input
fields, enum values, types, defaults and deprecations. Skipped when the real SDL is not at hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import requests
from graphql import build_client_schema, build_schema, get_introspection_query, print_ast
from graphql.utilities import ast_from_value

from sandbox.generator import seeded_store
from sandbox.server import start_server
from sandbox.store import SANDBOX_TOKEN


def real_schema_file() -> Path | None:
    """../shared/ds-api/schema.graphql beside the repository (or a worktree of it)."""
    for parent in Path(__file__).resolve().parents[1:]:
        candidate = parent / "shared" / "ds-api" / "schema.graphql"
        if candidate.exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def real():
    path = real_schema_file()
    if path is None:
        pytest.skip("the real DS schema (shared/ds-api/schema.graphql) is not at hand")
    return build_schema(path.read_text())


# Deprecated arguments, @oneOf and @specifiedBy included: more than DS's stored introspection asks.
FULL_INTROSPECTION = get_introspection_query(
    descriptions=True, specified_by_url=True, input_value_deprecation=True, one_of=True
)


@pytest.fixture(scope="module")
def served():
    """The schema as the sandbox's introspection describes it over HTTP."""
    with start_server(seeded_store(3, seed=1, today=date(2026, 1, 1))) as server:
        body = requests.post(
            server.url,
            json={"query": FULL_INTROSPECTION, "operationName": "IntrospectionQuery"},
            headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"},
            timeout=30,
        ).json()
    return build_client_schema(body["data"])


def _default(value) -> str | None:
    node = ast_from_value(value.default_value, value.type) if value.default_value is not None else None
    return print_ast(node) if node else None


def describe(schema) -> dict:
    """Every named type as comparable facts."""
    out = {}
    for name, kind in schema.type_map.items():
        if name.startswith("__"):
            continue
        facts = {"kind": type(kind).__name__}
        if hasattr(kind, "fields"):
            for field_name, field in kind.fields.items():
                facts[f"field {field_name}"] = (
                    str(field.type),
                    _default(field) if hasattr(field, "default_value") else None,
                    bool(field.deprecation_reason),
                )
                for arg_name, arg in getattr(field, "args", {}).items():
                    facts[f"arg {field_name}({arg_name})"] = (
                        str(arg.type),
                        _default(arg),
                        bool(arg.deprecation_reason),
                    )
        if hasattr(kind, "interfaces"):
            facts["interfaces"] = sorted(i.name for i in kind.interfaces)
        if hasattr(kind, "values"):
            facts.update({f"value {v}": bool(d.deprecation_reason) for v, d in kind.values.items()})
        if hasattr(kind, "is_one_of"):
            facts["oneOf"] = bool(kind.is_one_of)
        out[name] = facts
    return out


def test_every_type_of_the_real_schema_is_served_as_ds_declares_it(real, served):
    expected, actual = describe(real), describe(served)
    missing = sorted(set(expected) - set(actual))
    assert missing == []
    different = {
        name: {k: (v, actual[name].get(k)) for k, v in facts.items() if actual[name].get(k) != v}
        for name, facts in expected.items()
    }
    assert {name: diff for name, diff in different.items() if diff} == {}


def test_nothing_is_served_that_ds_does_not_declare(real, served):
    extra = {name: sorted(set(facts) - set(describe(real).get(name, {}))) for name, facts in describe(served).items()}
    assert {name: keys for name, keys in extra.items() if keys} == {}


def test_every_root_and_mutation_is_served(real, served):
    assert set(served.query_type.fields) == set(real.query_type.fields)
    assert set(served.mutation_type.fields) == set(real.mutation_type.fields)
