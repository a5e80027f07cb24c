"""Rate limit and injected faults of the sandbox, over HTTP."""

from __future__ import annotations

import time
from datetime import date

import pytest
import requests

from sandbox.server import THROTTLED_BODY
from tests.sandbox_requests import run_document

# The shared `store` and `server` fixtures (conftest).
SANDBOX = dict(n=60, seed=5, today=date(2026, 1, 1))
SANDBOX_SERVER = dict(rate_limit=5, window_seconds=3600)


def page(server, first=10, **kwargs):
    return run_document(server.url, "getDemarcheDossiers", demarcheNumber=1, first=first, **kwargs)


def test_rate_limit_per_token_with_plain_text_429(server, store):
    for _ in range(5):
        assert page(server).status_code == 200
    throttled = page(server)
    assert throttled.status_code == 429
    assert throttled.text == THROTTLED_BODY and "cowboy" in throttled.text
    assert throttled.headers["RateLimit-Remaining"] == "0"
    reset = int(throttled.headers["RateLimit-Reset"])
    assert reset % 3600 == 0 and reset > time.time()
    assert "Retry-After" not in throttled.headers
    store.add_token("second-token")
    assert page(server, token="second-token").status_code == 200  # the limit is per Authorization header
    assert page(server, token=None).status_code == 403  # no header: not throttled, refused by auth


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_http_faults_hit_the_next_requests_only(server, status):
    server.faults.add(str(status), count=2)
    assert [page(server).status_code for _ in range(3)] == [status, status, 200]


def test_fault_filtered_by_operation_name(server, store):
    server.faults.add("500", operation="getDossier")
    assert page(server).status_code == 200
    number = store.visible_dossiers(1)[0].number
    assert run_document(server.url, "getDossier", dossierNumber=number).status_code == 500
    assert run_document(server.url, "getDossier", dossierNumber=number).status_code == 200


def test_reset_closes_the_connection(server):
    server.faults.add("reset")
    with pytest.raises(requests.ConnectionError):
        page(server)
    assert page(server).status_code == 200


def test_slow_answers_late(server):
    server.faults.add("slow", seconds=0.5)
    with pytest.raises(requests.Timeout):
        requests.post(
            server.url, json={"query": "{ __typename }"}, timeout=0.1, headers={"Authorization": "Bearer sandbox-token"}
        )
    assert page(server).status_code == 200  # the fault was used once


def test_timeout_gives_partial_data_and_a_timeout_error(server):
    server.faults.add("timeout")
    body = page(server, first=10).json()
    assert body["errors"] == [
        {
            "message": "Timeout on Demarche.dossiers",
            "locations": body["errors"][0]["locations"],
            "path": ["demarche", "dossiers", "nodes", 5],
            "extensions": {"code": "timeout"},
        }
    ]
    nodes = body["data"]["demarche"]["dossiers"]["nodes"]
    assert all(nodes[:5]) and nodes[5:] == [None] * 5
    assert "errors" not in page(server).json()


def test_standing_timeout_rule_lets_smaller_pages_through(server):
    server.faults.timeout_when_first_above = 20
    try:
        assert page(server, first=50).json()["errors"][0]["extensions"]["code"] == "timeout"
        assert page(server, first=None).json()["errors"][0]["extensions"]["code"] == "timeout"  # default: 100
        assert "errors" not in page(server, first=20).json()
    finally:
        server.faults.clear()


def test_admin_endpoint_switches_faults(server):
    base = server.url.rsplit("/api/", 1)[0]
    answer = requests.post(f"{base}/__sandbox/faults", json={"kind": "503", "count": 1}, timeout=5)
    assert answer.status_code == 200 and answer.json()["pending"][0]["kind"] == "503"
    assert page(server).status_code == 503
    requests.post(f"{base}/__sandbox/faults", json={"timeout_when_first_above": 5}, timeout=5)
    assert page(server, first=6).json()["errors"][0]["extensions"]["code"] == "timeout"
    requests.post(f"{base}/__sandbox/faults", json={"clear": True}, timeout=5)
    assert "errors" not in page(server, first=6).json()
    assert requests.post(f"{base}/__sandbox/faults", json={"kind": "418"}, timeout=5).status_code == 400


def test_request_log_records_operation_variables_and_status(server):
    page(server, first=3)
    entry = server.request_log[-1]
    assert (entry.operation_name, entry.variables["first"], entry.status) == ("getDemarcheDossiers", 3, 200)


def test_timeout_on_a_query_without_dossiers_page(server, store):
    server.faults.add("timeout")
    body = run_document(server.url, "getDossier", dossierNumber=store.visible_dossiers(1)[0].number).json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "timeout"
