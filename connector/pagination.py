"""The one page iterator of the project: it owns the cursor.

It yields each page before asking for the next, so the caller can commit
the page and its cursor first.

- A `timeout` from DS retries the same cursor with half the page (docs/ds-errors.md#query-limits);
  at the smallest page a timeout is one more transient fault, retried with
  backoff up to the client's `max_retries`, then `DSUnavailable`. After a
  few pages in a row without a timeout the page doubles again, up to the
  size asked for.
- Errors that are each about one dossier of the page (DS nulls that node or
  a field inside it, #12696) do not stop it: the page keeps its good
  dossiers and names the failed ones (`Page.failed`), through a light query
  of the same page (same cursor and arguments, numbers only) when DS nulled
  the whole node.
- A cursor seen before (including the one it started from) is a loop:
  `CursorLoopError`.
- A page that does not add up (no `pageInfo`; no dossier, or no `endCursor`,
  while more pages are announced; a dossier it cannot name) is asked again,
  with backoff, up to the client's `max_retries`, then `PageInconsistent`:
  never yielded, so the caller's cursor does not move past dossiers unread.
- A dossier missing a field DS's schema says is never null is DS's fault,
  not the dossier's: it is named like a node DS nulled (`Page.failed`). The
  same dossier twice in a page is read once. A page holding fewer dossiers
  than asked for while more pages are announced is yielded `short`: the
  caller re-scans from before it (docs/ds-malformed-answers.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from queue import Empty, Queue
from typing import TypeVar

from connector.client import DSClient
from connector.datetimes import parse_ds_datetime
from connector.errors import DSError, DSQueryTimeout, DSUnavailable, NodeError
from core.errors import ExitCode

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 100  # DS silently caps `first` at 100
# Pages in a row without a timeout before the page size doubles again.
GROW_AFTER = 3
# The Dossier fields the sync reads that DS's schema declares non-null.
DOSSIER_REQUIRED = ("id", "number", "state", "dateDerniereModification")


class CursorLoopError(DSError):
    """DS gave back a cursor already seen in this run (coarse cursors, or the
    page's dossiers modified while it was read): the sync would never end."""

    exit_code = ExitCode.CURSOR_LOOP


class PageInconsistent(DSError):
    """DS kept answering a page that does not add up (see the module's
    docstring): the pages before it are saved, the cursor did not move."""

    exit_code = ExitCode.PAGE_INCONSISTENT


class _DoesNotAddUp(Exception):
    """This answer of a page cannot be trusted: ask for it again."""


def schema_break(node: dict, required: tuple[str, ...]) -> str | None:
    """The first of `required` the node holds null (or lacks), or None."""
    return next((name for name in required if node.get(name) is None), None)


def schema_break_message(name: str) -> str:
    return f"DS answered {name} null, which its schema says is never null"


@dataclass(frozen=True)
class FailedNode:
    """A dossier of the page DS could not give: its number, DS's error, and
    the error's path inside the dossier (e.g. `champs.40.files.0.byteSizeBigInt`)."""

    number: int
    message: str
    path: str


@dataclass(frozen=True)
class Page:
    nodes: list[dict]
    end_cursor: str | None  # None on an empty page: never store it
    has_next_page: bool
    first: int
    failed: list[FailedNode] = field(default_factory=list)
    unstorable: bool = False  # may hold a NUL or a lone surrogate: clean the raw copy (connector.storable)
    short: bool = False  # fewer dossiers than asked for, while more pages are announced


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
    identify_operation: str | None = None,
    required: tuple[str, ...] = (),
) -> Iterator[Page]:
    """`identify_operation`: the light twin of `operation_name` (same
    arguments, nodes { id number }) that names the dossiers DS nulled.
    `required`: the node fields DS's schema says are never null."""
    ceiling = max(1, min(first, MAX_PAGE_SIZE))
    first = ceiling
    seen: set[str] = {after} if after else set()
    nodes_at = connection_path + ("nodes",)
    timeouts_at_floor = timeouts_in_a_row = 0
    clean_pages = refetches = 0
    while True:
        page_variables = {**variables, "first": first, "after": after}
        try:
            data, broken = client.execute_partial(operation_name, page_variables, nodes_at=nodes_at)
        except DSQueryTimeout as error:
            client.stats.count_retry("timeout")
            clean_pages = 0
            timeouts_in_a_row += 1
            if first > min_first:
                first = max(min_first, first // 2)
                log.warning("%s: DS timed out, retrying the same page with first=%d", operation_name, first)
                continue
            if timeouts_at_floor >= client.max_retries:
                raise DSUnavailable(
                    f"DS kept timing out on {operation_name}: {timeouts_in_a_row} timeouts in a row, down to a page "
                    f"of {first}; the pages read before are saved, run the sync again later"
                ) from error
            wait = client.backoff(timeouts_at_floor)
            timeouts_at_floor += 1
            log.warning(
                "%s: DS timed out on a page of %d, retry %d/%d in %.1fs",
                operation_name,
                first,
                timeouts_at_floor,
                client.max_retries,
                wait,
            )
            continue
        timeouts_at_floor = timeouts_in_a_row = 0
        unstorable = client.last_answer_unstorable
        try:
            page = _read_page(
                client, data, broken, connection_path, first, identify_operation, page_variables, required, unstorable
            )
        except _DoesNotAddUp as problem:
            if refetches >= client.max_retries:
                raise PageInconsistent(
                    f"{operation_name}: DS answered {refetches + 1} times in a row a page that does not add up "
                    f"({problem}); the pages read before are saved and the cursor did not move past this one, "
                    "run the sync again later"
                ) from None
            client.stats.count_retry("inconsistent page")
            wait = client.backoff(refetches)
            refetches += 1
            log.warning(
                "%s: DS answered a page that does not add up (%s), asking again (%d/%d) in %.1fs",
                operation_name,
                problem,
                refetches,
                client.max_retries,
                wait,
            )
            continue
        refetches = 0
        if page.short:
            log.warning(
                "%s: DS answered %d dossier(s) for a page of %d and announced more: what it left out "
                "is read by a re-scan",
                operation_name,
                len(page.nodes) + len(page.failed),
                first,
            )
        yield page
        if not page.has_next_page or page.end_cursor is None:
            return
        if page.end_cursor in seen:
            raise CursorLoopError(
                f"{operation_name}: DS gave back the page cursor {page.end_cursor!r} a second time (its dossiers "
                "were modified while they were read, or its cursors are coarser than its dates). The pages read "
                "so far are saved; run the sync again"
            )
        seen.add(page.end_cursor)
        after = page.end_cursor
        clean_pages += 1
        if first < ceiling and clean_pages >= GROW_AFTER:
            first = min(ceiling, first * 2)
            clean_pages = 0


def _read_page(
    client: DSClient,
    data: dict,
    broken: list[NodeError],
    connection_path: tuple[str, ...],
    first: int,
    identify_operation: str | None,
    variables: dict,
    required: tuple[str, ...],
    unstorable: bool,
) -> Page:
    """The page of this answer; `_DoesNotAddUp` when it cannot be trusted."""
    connection = _connection(data, connection_path)
    page_info = connection.get("pageInfo") if isinstance(connection, dict) else None
    if not isinstance(page_info, dict):
        raise _DoesNotAddUp("no pageInfo")
    has_next_page = page_info.get("hasNextPage") is True
    end_cursor = page_info.get("endCursor")
    nodes = connection.get("nodes") or []
    if has_next_page and not nodes:
        raise _DoesNotAddUp("no dossier, and more pages announced")
    if has_next_page and not end_cursor:
        raise _DoesNotAddUp("more pages announced, and no endCursor to reach them")
    prefix = ".".join([*connection_path, "nodes"])
    for index, node in enumerate(nodes):
        missing = schema_break(node, required) if isinstance(node, dict) else None
        if missing:
            broken = [*broken, NodeError(index, schema_break_message(missing), f"{prefix}.{index}.{missing}")]
    failed = _failed_nodes(client, identify_operation, variables, connection_path, nodes, broken)
    set_aside = {e.index for e in broken}
    failed_numbers = {f.number for f in failed}
    kept: dict[int, dict] = {}
    for index, node in enumerate(nodes):
        if index in set_aside or not isinstance(node, dict) or node.get("number") in failed_numbers:
            continue
        other = kept.get(node["number"])
        if other is None or _modified(node) > _modified(other):  # twice in a page: read once, the latest
            kept[node["number"]] = node
    return Page(
        nodes=list(kept.values()),
        end_cursor=end_cursor,
        has_next_page=has_next_page,
        first=first,
        failed=failed,
        unstorable=unstorable,
        short=has_next_page and len(kept) + len(failed_numbers - kept.keys()) < first,
    )


def _modified(node: dict):
    return parse_ds_datetime(node.get("dateDerniereModification")) or datetime.min.replace(tzinfo=UTC)


def _failed_nodes(
    client: DSClient,
    identify_operation: str | None,
    variables: dict,
    connection_path: tuple[str, ...],
    nodes: list,
    broken: list[NodeError],
) -> list[FailedNode]:
    """The dossiers of the page that DS's node errors are about, by number."""
    if not broken:
        return []
    by_index: dict[int, NodeError] = {}
    for error in broken:
        by_index.setdefault(error.index, error)  # the first error of a node says enough
    numbers: dict[int, int] = {}
    for index in by_index:
        node = nodes[index] if index < len(nodes) else None
        if node is not None and node.get("number") is not None:
            numbers[index] = node["number"]  # the node came back, with a field nulled inside
    missing = [index for index in by_index if index not in numbers]
    extra: list[int] = []
    if missing:
        if identify_operation is None:
            raise DSError(
                f"DS could not give dossier(s) at {', '.join(by_index[i].path for i in missing)} and nothing names them"
            )
        light = (
            _connection(execute_through_timeouts(client, identify_operation, variables), connection_path)["nodes"] or []
        )
        for index in missing:
            if index < len(light) and isinstance(light[index], dict) and light[index].get("number") is not None:
                numbers[index] = light[index]["number"]
        # Should the page have moved between the two reads, a dossier the light page has and the
        # good nodes lack is set aside too: retried alone, it costs a request, never a dossier.
        good = {n.get("number") for n in nodes if isinstance(n, dict)}
        extra = [
            n["number"]
            for n in light
            if isinstance(n, dict)
            and n.get("number") is not None
            and n["number"] not in good
            and n["number"] not in numbers.values()
        ]
    unnamed = [index for index in by_index if index not in numbers]
    if unnamed and not extra:
        raise _DoesNotAddUp(f"a dossier it could not give, at {by_index[unnamed[0]].path}, that nothing names")
    failed = []
    for index, error in sorted(by_index.items()):
        if index in numbers:
            failed.append(FailedNode(numbers[index], error.message, _inside_node(error.path, connection_path, index)))
    first_error = next(iter(by_index.values()))
    failed += [FailedNode(number, first_error.message, "") for number in extra]
    return failed


def execute_through_timeouts(client: DSClient, operation_name: str, variables: dict) -> dict:
    """`client.execute`, a `timeout` being one more transient fault (a light
    query, or one dossier: nothing smaller to ask for)."""
    for attempt in range(client.max_retries + 1):
        try:
            return client.execute(operation_name, variables)
        except DSQueryTimeout as error:
            client.stats.count_retry("timeout")
            if attempt == client.max_retries:
                raise DSUnavailable(
                    f"DS kept timing out on {operation_name}: {attempt + 1} timeouts in a row; "
                    "the pages read before are saved, run the sync again later"
                ) from error
            client.backoff(attempt)
    raise AssertionError("unreachable")


def _inside_node(path: str, connection_path: tuple[str, ...], index: int) -> str:
    prefix = ".".join([*connection_path, "nodes", str(index)])
    return path[len(prefix) + 1 :] if path.startswith(prefix) else path


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
