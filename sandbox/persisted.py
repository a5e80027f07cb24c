"""Persisted queries: `{queryId, operationName, variables}` as DS's own clients send them
(docs/ds-persisted-queries.md).

DS stores three documents under fixed ids: `ds-query-v2` (getDemarche, getGroupeInstructeur,
getDossier, getDemarcheDescriptor), `ds-mutation-v2` (one operation per mutation) and
`introspection`. The operation names, their variables and what they return are DS's;
the documents in `sandbox/persisted/` are the sandbox's own writing. Without a token, DS
runs a persisted query as an anonymous caller (no démarche readable, no write).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from graphql import get_introspection_query

DOCUMENTS = Path(__file__).with_name("persisted")
QUERY_IDS = ("ds-query-v2", "ds-mutation-v2", "introspection")


@cache
def persisted_document(query_id: str) -> str | None:
    """The text DS runs for `query_id`, or None when DS has no query of that id."""
    if query_id == "introspection":
        return get_introspection_query(descriptions=True)
    if query_id not in QUERY_IDS:
        return None
    path = DOCUMENTS / f"{query_id}.graphql"
    return path.read_text(encoding="utf-8") if path.exists() else None
