"""Fault injection: the next k requests fail in a chosen way (docs/ds-errors.md, docs/ds-rate-limit.md).

Kinds: 429, 500, 502, 503, 504 (HTTP errors), slow (answer after N
seconds), reset (close the connection without an answer), drop (execute the
request, then close the connection: the answer is lost, the effects are
not), timeout (HTTP 200, partial data and a `timeout` error), stuck_cursor
(a dossiers page answers the cursor it started from as its endCursor, and
says there is more: what coarse cursors, or a page whose dossiers were
modified while it was read, look like to a client). A standing rule
`timeout_when_first_above = N` times out any dossiers page of more than N
nodes, so a client that retries with a smaller `first` gets through;
`timeout_when_fields_above = N` runs only the first N root fields of a
mutation and times out the rest, as DS's 30 s limit would.

A standing node error `node_error = {dossier: N, field: "Commune.code"}` makes
DS's data bug on one dossier (#12696 "Cannot return null for non-nullable
field Commune.code"): the first champ of that dossier holding a `Commune`
gets a null `code`, and the executor nulls the nearest nullable parent with
an `errors` entry whose path names the node's index: the champ's `commune`
(the node comes back, with the error), or for `File.byteSizeBigInt` the
dossier's node in `nodes: [Dossier]` (the others are kept). `getDossier`
fails on it the same way; a query that does not select that field is not
affected. Types: Commune, Departement, Address,
Pays, PersonneMorale (a SIRET champ's établissement), File (the first file of
a pièce justificative); any other field raises an internal error on the
dossier's champs (#11942). `field: null` removes it.

Answers that break DS's own schema or do not add up, as a DS fake that is
not ours returned them in a fault campaign (`malformed_answer`, applied to
the next answer that holds a dossiers page, or a `dossier`):
empty_nodes and null_nodes (no dossier, while more pages are announced),
null_end_cursor and absent_end_cursor (more pages announced, no cursor to
reach them), null_page_info, duplicate_node (the page's first dossier again
in place of its second), short_page (the page's second half left out, its
endCursor kept: those dossiers are skipped), and null_number, null_id,
null_state, null_date (the first dossier's `number`, `id`, `state` or
`dateDerniereModification` null, with no error: the schema says non-null).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from dataclasses import dataclass

MALFORMED_NULL_FIELDS = {
    "null_number": "number",
    "null_id": "id",
    "null_state": "state",
    "null_date": "dateDerniereModification",
}
MALFORMED_PAGES = (
    "empty_nodes",
    "null_nodes",
    "null_end_cursor",
    "absent_end_cursor",
    "null_page_info",
    "duplicate_node",
    "short_page",
)
MALFORMED = MALFORMED_PAGES + tuple(MALFORMED_NULL_FIELDS)
KINDS = ("429", "500", "502", "503", "504", "slow", "reset", "drop", "timeout", "stuck_cursor") + MALFORMED


@dataclass
class Fault:
    kind: str
    remaining: int = 1
    seconds: float = 1.0
    operation: str | None = None  # only requests with this operationName


@dataclass(frozen=True)
class RequestFaults:
    """What one GraphQL execution must simulate."""

    force_timeout: bool = False
    timeout_when_first_above: int | None = None
    node_errors: tuple[tuple[int, str], ...] = ()
    stuck_cursor: bool = False

    def node_error(self, dossier_number: int) -> str | None:
        return dict(self.node_errors).get(dossier_number)

    def dossiers_timeout(self, page_size: int) -> bool:
        limit = self.timeout_when_first_above
        return self.force_timeout or (limit is not None and page_size > limit)


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.pending: list[Fault] = []
        self.timeout_when_first_above: int | None = None
        self.timeout_when_fields_above: int | None = None
        self.node_errors: dict[int, str] = {}

    def add(self, kind: str, count: int = 1, seconds: float = 1.0, operation: str | None = None) -> Fault:
        kind = str(kind)
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}; expected one of {', '.join(KINDS)}")
        if count < 1:
            raise ValueError("a fault needs count >= 1")
        fault = Fault(kind, count, seconds, operation)
        with self._lock:
            self.pending.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.pending.clear()
            self.timeout_when_first_above = None
            self.timeout_when_fields_above = None
            self.node_errors.clear()

    def set_node_error(self, dossier_number: int, field: str | None) -> None:
        with self._lock:
            if field:
                self.node_errors[int(dossier_number)] = str(field)
            else:
                self.node_errors.pop(int(dossier_number), None)

    def request_faults(self, fault_kind: str | None) -> RequestFaults:
        with self._lock:
            return RequestFaults(
                fault_kind == "timeout",
                self.timeout_when_first_above,
                tuple(self.node_errors.items()),
                fault_kind == "stuck_cursor",
            )

    def take(self, operation_name: str | None) -> Fault | None:
        """The fault the current request must suffer, if any (consumes one use)."""
        with self._lock:
            for fault in self.pending:
                if fault.operation is None or fault.operation == operation_name:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self.pending.remove(fault)
                    return fault
        return None

    def configure(self, spec: dict) -> None:
        """Apply a JSON command from the admin endpoint or the CLI."""
        if spec.get("clear"):
            self.clear()
        if "timeout_when_first_above" in spec:
            value = spec["timeout_when_first_above"]
            self.timeout_when_first_above = None if value is None else int(value)
        if "timeout_when_fields_above" in spec:
            value = spec["timeout_when_fields_above"]
            self.timeout_when_fields_above = None if value is None else int(value)
        if "node_error" in spec:
            node = spec["node_error"]
            self.set_node_error(int(node["dossier"]), node.get("field"))
        if "kind" in spec:
            self.add(spec["kind"], int(spec.get("count", 1)), float(spec.get("seconds", 1.0)), spec.get("operation"))


def _page_in(value) -> dict | None:
    """The first connection (a dict with `nodes` and `pageInfo`) inside an answer's data."""
    children: Iterable
    if isinstance(value, dict):
        if "nodes" in value and "pageInfo" in value:
            return value
        children = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return None
    for child in children:
        found = _page_in(child)
        if found is not None:
            return found
    return None


def malformed_answer(kind: str | None, response: dict) -> dict:
    """The answer as a DS that breaks its own schema would give it (see the
    module's docstring); any other kind, or an answer with no page nor
    dossier, is returned as it is."""
    if kind not in MALFORMED or not isinstance(response.get("data"), dict):
        return response
    response = copy.deepcopy(response)
    data = response["data"]
    page = _page_in(data)
    if kind in MALFORMED_NULL_FIELDS:
        nodes = page["nodes"] if page is not None else [data.get("dossier")]
        node = next((n for n in nodes or [] if isinstance(n, dict)), None)
        if node is not None:
            node[MALFORMED_NULL_FIELDS[kind]] = None
        return response
    if page is None:
        return response
    info = page["pageInfo"]
    if kind == "null_page_info":
        page["pageInfo"] = None
    elif kind in ("empty_nodes", "null_nodes"):
        page["nodes"] = [] if kind == "empty_nodes" else None
        info["hasNextPage"] = True
    elif kind == "null_end_cursor":
        info.update(endCursor=None, hasNextPage=True)
    elif kind == "absent_end_cursor":
        info.pop("endCursor", None)
        info["hasNextPage"] = True
    elif kind == "duplicate_node" and len(page["nodes"] or []) >= 2:
        page["nodes"][1] = copy.deepcopy(page["nodes"][0])
    elif kind == "short_page" and page["nodes"]:
        page["nodes"] = page["nodes"][: max(1, len(page["nodes"]) // 2)]
    return response


def parse_fault_spec(text: str) -> dict:
    """CLI form: `500`, `500:3` (three times), `slow:2:5` (twice, 5 s), `timeout_when_first_above=20`,
    `node_error=12:Commune.code` (dossier 12's commune code is null)."""
    if text.startswith("node_error="):
        dossier, _, field = text.split("=", 1)[1].partition(":")
        return {"node_error": {"dossier": int(dossier), "field": field or "Commune.code"}}
    for rule in ("timeout_when_first_above", "timeout_when_fields_above"):
        if text.startswith(f"{rule}="):
            return {rule: int(text.split("=", 1)[1])}
    kind, _, rest = text.partition(":")
    count, _, seconds = rest.partition(":")
    spec = {"kind": kind, "count": int(count or 1)}
    if seconds:
        spec["seconds"] = float(seconds)
    return spec
