"""Every document the connector sends must be valid against the real DS schema."""

from pathlib import Path

import pytest
from graphql import build_schema, validate

from connector import documents

REAL_SCHEMA = Path(__file__).resolve().parents[1].parent / "shared" / "ds-api" / "schema.graphql"
SANDBOX_SCHEMA = Path(documents.__file__).resolve().parents[1] / "sandbox" / "schema.graphql"


@pytest.fixture(scope="module")
def real_schema():
    if not REAL_SCHEMA.exists():
        pytest.skip(f"real DS schema not found at {REAL_SCHEMA}")
    return build_schema(REAL_SCHEMA.read_text())


def test_there_are_documents():
    assert "getDemarcheDossiers" in documents.operation_names()


@pytest.mark.parametrize("name", documents.operation_names())
def test_document_validates_against_real_schema(real_schema, name):
    errors = validate(real_schema, documents.parsed(name))
    assert errors == [], [e.message for e in errors]


@pytest.mark.parametrize("name", documents.operation_names())
def test_document_validates_against_sandbox_schema(name):
    errors = validate(build_schema(SANDBOX_SCHEMA.read_text()), documents.parsed(name))
    assert errors == [], [e.message for e in errors]


def test_unknown_document_is_a_clear_error():
    with pytest.raises(KeyError, match="no GraphQL document named"):
        documents.load("doesNotExist")


def _type_string(graphql_type) -> str:
    return str(graphql_type)


def test_sandbox_schema_is_a_subset_of_the_real_one(real_schema):
    """The sandbox speaks DS's language: every type, field and argument it
    declares exists in the real schema with the same type."""
    from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

    sandbox = build_schema(SANDBOX_SCHEMA.read_text())
    problems = []
    for name, sandbox_type in sandbox.type_map.items():
        if name.startswith("__"):
            continue
        real_type = real_schema.type_map.get(name)
        if real_type is None:
            problems.append(f"type {name} is not in the real schema")
            continue
        if isinstance(sandbox_type, GraphQLEnumType):
            extra = set(sandbox_type.values) - set(real_type.values)
            problems += [f"enum value {name}.{v} is not in the real schema" for v in sorted(extra)]
        if isinstance(sandbox_type, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)):
            for field_name, field in sandbox_type.fields.items():
                real_field = real_type.fields.get(field_name)
                if real_field is None:
                    problems.append(f"field {name}.{field_name} is not in the real schema")
                    continue
                if _type_string(field.type) != _type_string(real_field.type):
                    problems.append(f"{name}.{field_name}: {field.type} in the sandbox, {real_field.type} on DS")
                for arg_name, arg in getattr(field, "args", {}).items():
                    real_arg = real_field.args.get(arg_name)
                    if real_arg is None or _type_string(arg.type) != _type_string(real_arg.type):
                        problems.append(f"argument {name}.{field_name}({arg_name}) differs from DS")
    assert problems == []
