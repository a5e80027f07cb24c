"""Persisted queries as DS's own clients send them: `{queryId, operationName, variables}`."""

from __future__ import annotations

from datetime import date

import pytest
import requests

from sandbox.generator import seeded_store
from sandbox.server import start_server
from sandbox.store import SANDBOX_TOKEN


@pytest.fixture(scope="module")
def server():
    with start_server(seeded_store(10, seed=2, today=date(2026, 1, 1))) as running:
        yield running


def send(server, token=SANDBOX_TOKEN, **body):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(server.url, json=body, headers=headers, timeout=10)


def test_introspection_needs_no_token(server):
    response = send(server, token=None, queryId="introspection", operationName="IntrospectionQuery")
    assert response.status_code == 200
    schema = response.json()["data"]["__schema"]
    assert schema["queryType"]["name"] == "Query" and schema["mutationType"]["name"] == "Mutation"
    assert {"Dossier", "Demarche", "Champ"} <= {t["name"] for t in schema["types"]}


def test_an_unknown_query_id_is_an_internal_error(server):
    response = send(server, queryId="ds-query-v1", operationName="getDossier")
    assert response.status_code == 500
    error = response.json()["errors"][0]
    assert error["message"] == "Internal Server Error"
    assert error["extensions"]["code"] == "internal_server_error" and error["extensions"]["exception_id"]


def test_a_body_without_a_query_is_answered_like_graphql_ruby(server):
    response = send(server, variables={})
    assert response.status_code == 200
    assert response.json() == {"errors": [{"message": "No query string was present"}]}


def test_without_a_token_a_sent_query_is_still_forbidden(server):
    response = send(server, token=None, query="{ __typename }")
    assert response.status_code == 403
