"""The sandbox pages dossiers as DS's CursorConnection does: `last`, `before`, the deprecated `order: DESC`."""

from __future__ import annotations

from datetime import date

import pytest

from sandbox.generator import seeded_store
from sandbox.server import start_server
from tests.sandbox_requests import post

PAGE = """
query page($first: Int, $last: Int, $after: String, $before: String, $order: Order) {
  demarche(number: 1) {
    dossiers(first: $first, last: $last, after: $after, before: $before, order: $order) {
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      nodes { number }
    }
  }
}"""


@pytest.fixture(scope="module")
def store():
    return seeded_store(30, seed=3, today=date(2026, 1, 1))


@pytest.fixture(scope="module")
def server(store):
    with start_server(store) as running:
        yield running


@pytest.fixture(scope="module")
def oldest_first(store):
    return [d.number for d in store.visible_dossiers(1)]


def page(server, **variables):
    body = post(server.url, PAGE, variables).json()
    assert "errors" not in body, body["errors"]
    connection = body["data"]["demarche"]["dossiers"]
    return [n["number"] for n in connection["nodes"]], connection["pageInfo"]


def error(server, **variables):
    body = post(server.url, PAGE, variables).json()
    assert body["data"] is None
    return body["errors"][0]["message"], body["errors"][0]["extensions"]["code"]


def test_desc_serves_newest_first_and_pages_backwards_in_time(server, oldest_first):
    numbers, info = page(server, first=10, order="DESC")
    assert numbers == oldest_first[::-1][:10]
    assert info["hasNextPage"] is True and info["hasPreviousPage"] is False
    following, info = page(server, first=10, order="DESC", after=info["endCursor"])
    assert following == oldest_first[::-1][10:20] and info["hasPreviousPage"] is True


def test_last_gives_the_newest_in_ascending_order(server, oldest_first):
    numbers, info = page(server, last=5)
    assert numbers == oldest_first[-5:]
    assert info["hasPreviousPage"] is True and info["hasNextPage"] is False


def test_before_gives_the_nearest_dossiers_before_the_cursor(server, oldest_first):
    _, info = page(server, first=20)
    numbers, before_info = page(server, first=5, before=info["endCursor"])
    assert numbers == oldest_first[14:19]
    assert before_info["hasNextPage"] is True


def test_last_with_desc_and_exclusive_arguments_are_bad_requests(server):
    assert error(server, last=5, order="DESC") == ('Argument "last" is not supported with order "desc"', "bad_request")
    assert error(server, first=5, last=5) == ('Arguments "first" and "last" are exclusive', "bad_request")
    _, info = page(server, first=2)
    assert error(server, after=info["endCursor"], before=info["startCursor"]) == (
        'Arguments "before" and "after" are exclusive',
        "bad_request",
    )


def test_a_negative_page_size_is_an_empty_page(server):
    numbers, info = page(server, first=-3)
    assert numbers == [] and info["hasNextPage"] is True
