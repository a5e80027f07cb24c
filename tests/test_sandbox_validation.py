"""The sandbox validates like DS's server: what graphql-ruby accepts passes, what it refuses fails."""

from __future__ import annotations

from datetime import date

import pytest

from sandbox.generator import seeded_store
from sandbox.server import start_server
from tests.sandbox_requests import post


@pytest.fixture(scope="module")
def server():
    with start_server(seeded_store(10, seed=4, today=date(2026, 1, 1))) as running:
        yield running


def test_one_response_key_with_two_scalar_types_on_exclusive_types_is_accepted(server):
    # DS's own stored query selects `value` on every Column type, each of its own type.
    query = """{ demarche(number: 1) { dossiers(first: 3) { nodes { champs {
        ... on TextChamp { value }
        ... on DecimalNumberChamp { value }
        ... on CheckboxChamp { value }
    } } } } }"""
    body = post(server.url, query).json()
    assert "errors" not in body, body["errors"]
    values = [c.get("value") for n in body["data"]["demarche"]["dossiers"]["nodes"] for c in n["champs"]]
    assert any(isinstance(v, float) for v in values) and any(isinstance(v, str) for v in values)


def test_two_fields_behind_one_key_on_the_same_type_are_still_refused(server):
    body = post(server.url, "{ demarche(number: 1) { x: title x: state } }").json()
    assert "data" not in body
    assert "conflict" in body["errors"][0]["message"]


def nested_rows(pairs: int) -> str:
    """dossier > champs > (rows > champs) x pairs > id: a query of depth 3 + 2 x pairs."""
    inner = "id"
    for _ in range(pairs):
        inner = f"... on RepetitionChamp {{ rows {{ champs {{ {inner} }} }} }}"
    return f"{{ dossier(number: 100001) {{ champs {{ {inner} }} }} }}"


def test_a_query_deeper_than_15_is_refused_before_it_runs(server):
    response = post(server.url, nested_rows(7))
    assert response.status_code == 200
    assert response.json() == {"errors": [{"message": "Query has depth of 17, which exceeds max depth of 15"}]}
    assert "depth" not in str(post(server.url, nested_rows(6)).json())
