"""DS client cases a local server cannot show (headers DS never sends), and
the request budget on a fake clock. Everything else runs against the sandbox."""

import json
import logging

import pytest
import responses

from connector.client import DSClient, _server_wait_seconds
from connector.errors import DSAuthenticationError, DSForbidden, DSNotFound, DSTokenExpired, DSUnavailable
from connector.ratelimit import RequestBudget

URL = "https://ds.example.test/api/v2/graphql"
TOKEN = "c2VjcmV0LXRva2VuLXRoYXQtbXVzdC1uZXZlci1sZWFr"
PAGE = {
    "data": {
        "demarche": {
            "id": "x",
            "number": 1,
            "dossiers": {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": []},
        }
    }
}


def make_client(clock, **kwargs):
    return DSClient(
        URL, TOKEN, sleep=clock.sleep, now=clock.time, budget=RequestBudget(400, 60, clock.time, clock.sleep), **kwargs
    )


@responses.activate
def test_retry_after_header_is_preferred_over_ratelimit_reset(clock):
    responses.post(
        URL,
        body="Calm down, cowboy!",
        status=429,
        headers={"Retry-After": "7", "RateLimit-Reset": str(int(clock.time()) + 50)},
    )
    responses.post(URL, json=PAGE)
    data = make_client(clock).execute("getDemarcheDossiers", {"demarcheNumber": 1})
    assert data["demarche"]["number"] == 1
    assert 7 <= clock.sleeps[-1] <= 7.5


@responses.activate
def test_429_waits_until_ratelimit_reset_and_sends_operation_name(clock):
    responses.post(
        URL,
        body="Calme toi, cowboy !",
        status=429,
        headers={"RateLimit-Remaining": "0", "RateLimit-Reset": str(int(clock.time()) + 42)},
    )
    responses.post(URL, json=PAGE)
    client = make_client(clock)
    client.execute("getDemarcheDossiers", {"demarcheNumber": 1})
    assert 42 <= clock.sleeps[-1] <= 42.5
    sent = json.loads(responses.calls[1].request.body)
    assert sent["operationName"] == "getDemarcheDossiers"
    assert responses.calls[1].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert client.stats.throttled == 1


@responses.activate
def test_gives_up_after_max_retries_with_a_clear_error(clock):
    responses.post(URL, body="bad gateway", status=502)
    with pytest.raises(DSUnavailable, match="after 3 attempts.*HTTP 502"):
        make_client(clock, max_retries=2).execute("getDemarcheDossiers", {"demarcheNumber": 1})
    assert len(responses.calls) == 3
    # exponential backoff with jitter: each wait within [b/2, b] for b = 1, 2
    assert 0.5 <= clock.sleeps[0] <= 1 and 1 <= clock.sleeps[1] <= 2


@pytest.mark.parametrize(
    "status, body, exception",
    [
        (
            403,
            {
                "errors": [
                    {
                        "message": "Without a token, only persisted queries are allowed",
                        "extensions": {"code": "forbidden"},
                    }
                ],
                "data": None,
            },
            DSAuthenticationError,
        ),
        (
            401,
            {"errors": [{"message": "Token expired", "extensions": {"code": "unauthorized"}}], "data": None},
            DSTokenExpired,
        ),
        (
            200,
            {"errors": [{"message": "Demarche not found", "extensions": {"code": "not_found"}}], "data": None},
            DSNotFound,
        ),
        (
            200,
            {
                "errors": [
                    {
                        "message": "An object of type Demarche was hidden due to permissions",
                        "extensions": {"code": "unauthorized"},
                    }
                ],
                "data": None,
            },
            DSForbidden,
        ),
    ],
)
@responses.activate
def test_errors_are_classified_and_never_show_the_token(status, body, exception, caplog, clock):
    caplog.set_level(logging.DEBUG)
    responses.post(URL, json=body, status=status)
    with pytest.raises(exception) as raised:
        make_client(clock).execute("getDemarcheDossiers", {"demarcheNumber": 1})
    assert len(responses.calls) == 1  # fails fast: no retry
    assert TOKEN not in str(raised.value) and TOKEN not in repr(raised.value)
    assert TOKEN not in caplog.text


def test_server_wait_reads_http_date_retry_after():
    assert _server_wait_seconds({"Retry-After": "Thu, 01 Jan 1970 00:01:40 GMT"}, now=90) == 10


def test_budget_never_allows_more_than_the_limit_in_any_window(clock):
    budget = RequestBudget(5, 60, clock.time, clock.sleep)
    sent = []
    for _ in range(23):
        budget.acquire()
        sent.append(clock.time())
        clock.advance(seconds=1)  # a request takes a second
    for t in sent:
        assert sum(1 for s in sent if t <= s < t + 60) <= 5
    assert budget.waited_seconds > 0


def test_a_timeout_among_node_errors_is_a_timeout():
    from connector.errors import DSQueryTimeout, classify

    body = {
        "data": {"demarche": None},
        "errors": [
            {
                "message": "Cannot return null for non-nullable field File.byteSizeBigInt.",
                "path": ["demarche", "dossiers", "nodes", 1, "champs", 3, "files", 0, "byteSizeBigInt"],
            },
            {
                "message": "Timeout on Demarche.dossiers",
                "path": ["demarche", "dossiers", "nodes", 5],
                "extensions": {"code": "timeout"},
            },
        ],
    }
    assert isinstance(classify(200, body).error, DSQueryTimeout)
