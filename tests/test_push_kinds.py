"""The table of mutation kinds against DS's schema: a new row that names a mutation DS lacks, or sends an
instructeur where DS takes none, fails here before any sandbox runs."""

from pathlib import Path

import pytest
from graphql import build_schema

from connector import documents
from connector.push import KINDS

REAL_SCHEMA = Path(__file__).resolve().parents[1].parent / "shared" / "ds-api" / "schema.graphql"


@pytest.fixture(scope="module")
def real_schema():
    if not REAL_SCHEMA.exists():
        pytest.skip(f"real DS schema not found at {REAL_SCHEMA}")
    return build_schema(REAL_SCHEMA.read_text())


@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_kind_sends_a_document_of_the_project(name):
    assert KINDS[name].mutation in documents.operation_names()


@pytest.mark.parametrize("name", sorted(KINDS))
def test_a_kind_sends_an_instructeur_exactly_when_ds_takes_one(real_schema, name):
    kind = KINDS[name]
    fields = real_schema.mutation_type.fields[kind.mutation].args["input"].type.of_type.fields
    assert ("instructeurId" in fields) == kind.as_instructeur


def test_the_order_within_a_dossier_is_total_and_the_groupe_goes_first():
    orders = [kind.order for kind in KINDS.values()]
    assert len(set(orders)) == len(orders)
    assert min(KINDS.values(), key=lambda kind: kind.order).name == "groupe"
