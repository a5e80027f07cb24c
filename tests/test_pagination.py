"""The prefetching page iterator: one page ahead, never more, errors passed on."""

import threading

import pytest

from connector.pagination import prefetched


def counting(n, fetched, fail_at=None):
    for i in range(n):
        if i == fail_at:
            raise RuntimeError("DS broke")
        fetched.append(i)
        yield i


def test_yields_everything_in_order():
    fetched = []
    assert list(prefetched(counting(5, fetched))) == [0, 1, 2, 3, 4]


def test_never_more_than_one_page_ahead():
    fetched = []
    pages = prefetched(counting(10, fetched))
    for taken in range(3):
        assert next(pages) == taken
        # give the producer every chance to run ahead
        threading.Event().wait(0.05)
        assert len(fetched) <= taken + 2
    pages.close()
    assert len(fetched) <= 5


def test_an_error_of_the_producer_is_raised_to_the_caller():
    fetched = []
    pages = prefetched(counting(5, fetched, fail_at=2))
    assert [next(pages), next(pages)] == [0, 1]
    with pytest.raises(RuntimeError, match="DS broke"):
        next(pages)


def test_the_caller_stopping_stops_the_producer():
    fetched = []
    for page in prefetched(counting(100, fetched)):
        if page == 1:
            break
    assert len(fetched) <= 3
    assert not any(t.name == "ds-prefetch" for t in threading.enumerate())
