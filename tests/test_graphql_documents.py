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
