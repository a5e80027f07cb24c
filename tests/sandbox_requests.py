"""Helpers for tests that talk to the sandbox over HTTP."""

from __future__ import annotations

import requests

from connector import documents
from sandbox.store import SANDBOX_TOKEN


def post(
    url: str,
    query: str,
    variables: dict | None = None,
    operation_name: str | None = None,
    token: str | None = SANDBOX_TOKEN,
    timeout: float = 10,
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"query": query, "variables": variables or {}, "operationName": operation_name}
    return requests.post(url, json=body, headers=headers, timeout=timeout)


def run_document(url: str, operation_name: str, token: str | None = SANDBOX_TOKEN, **variables) -> requests.Response:
    """Send one of the project's documents (connector/graphql) by name."""
    return post(url, documents.load(operation_name), variables, operation_name, token)
