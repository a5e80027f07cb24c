"""The one page iterator of the project: it owns the cursor.

It yields each page before asking for the next, so the caller can commit
the page and its cursor first. A `timeout` from DS retries the same cursor
with a smaller page (NOTES §5); a repeated cursor is a bug, not a loop.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from queue import Empty, Queue
from typing import Iterator, TypeVar

from connector.client import DSClient
from connector.errors import DSQueryTimeout

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 100  # DS silently caps `first` at 100


class CursorLoopError(RuntimeError):
    pass


@dataclass(frozen=True)
class Page:
    nodes: list[dict]
    end_cursor: str | None  # None on an empty page: never store it
    has_next_page: bool
    first: int


def _connection(data: dict, path: tuple[str, ...]) -> dict:
    for key in path:
        data = data[key]
    return data


def iter_pages(
    client: DSClient,
    operation_name: str,
    variables: dict,
    connection_path: tuple[str, ...],
    *,
    after: str | None = None,
    first: int = 50,
    min_first: int = 1,
) -> Iterator[Page]:
    first = max(1, min(first, MAX_PAGE_SIZE))
    seen: set[str] = set()
    while True:
        try:
            data = client.execute(operation_name, {**variables, "first": first, "after": after})
        except DSQueryTimeout:
            if first <= min_first:
                raise
            first = max(min_first, first // 2)
            log.warning("%s: DS timed out, retrying the same page with first=%d", operation_name, first)
            continue
        connection = _connection(data, connection_path)
        page_info = connection["pageInfo"]
        page = Page(
            nodes=[n for n in connection["nodes"] if n is not None],
            end_cursor=page_info.get("endCursor"),
            has_next_page=bool(page_info.get("hasNextPage")),
            first=first,
        )
        yield page
        if not page.has_next_page or page.end_cursor is None:
            return
        if page.end_cursor in seen:
            raise CursorLoopError(f"{operation_name}: DS returned cursor {page.end_cursor!r} twice")
        seen.add(page.end_cursor)
        after = page.end_cursor


T = TypeVar("T")
_DONE = object()


def prefetched(items: Iterator[T]) -> Iterator[T]:
    """Fetch the next page while the caller saves this one.

    A sync then costs about max(fetch, save) per page instead of their sum.
    The producer asks for a page only once the caller has taken the previous
    one, so it is never more than one page ahead: an interrupted sync has
    made at most one request too many, and each cursor is still committed
    with its own page by the caller.
    """
    handoff: Queue = Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                handoff.put(item)
                handoff.join()  # wait until the caller took it, then fetch the next
                if stop.is_set():
                    return
            handoff.put(_DONE)
        except BaseException as error:  # noqa: BLE001 — handed to the caller, who raises it
            handoff.put(error)

    producer = threading.Thread(target=produce, name="ds-prefetch", daemon=True)
    producer.start()
    try:
        while True:
            item = handoff.get()
            handoff.task_done()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while producer.is_alive():  # unblock a producer waiting for its page to be taken
            try:
                handoff.get(timeout=0.1)
                handoff.task_done()
            except Empty:
                pass
        producer.join()
