"""Keyset pagination as DS's CursorConnection does it (docs/ds-pagination.md).

An index is a sorted list of (timestamp, id). A cursor is URL-safe base64,
without padding, of "<UTC timestamp with nanoseconds>Z;<id>" of the active
order column. DS reads one row more than the page to know whether another
page follows; `last` or `before` read backwards; the deprecated `order: DESC`
swaps the cursors and serves newest first (and refuses `last`).
"""

from __future__ import annotations

import base64
import binascii
import bisect
from dataclasses import dataclass
from datetime import UTC, datetime

from graphql import GraphQLError

MAX_PAGE_SIZE = 100  # DS's default_max_page_size, also its default_page_size


def bad_request(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "bad_request"})


def encode_cursor(moment: datetime, key: int) -> str:
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"
    return base64.urlsafe_b64encode(f"{stamp};{key}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    """The (timestamp, id) of a cursor; None when it decodes to something that is no key (matches nothing)."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        # graphql-ruby's cursor decoder: an ExecutionError without a code.
        raise GraphQLError(f'Invalid input: "{cursor}"') from None
    stamp, _, key = text.partition(";")
    try:
        # Nanoseconds in DS's cursors; Python keeps microseconds (the sandbox's clock has no finer grain).
        moment = datetime.fromisoformat(stamp.rstrip("Z")[:26]).replace(tzinfo=UTC)
        return moment, int(key or 0)
    except ValueError:
        return None


@dataclass
class Page:
    keys: list[tuple[datetime, int]]
    has_next: bool
    has_previous: bool
    limit: int  # the page size asked for, after DS's caps

    @property
    def start_cursor(self) -> str | None:
        return encode_cursor(*self.keys[0]) if self.keys else None

    @property
    def end_cursor(self) -> str | None:
        return encode_cursor(*self.keys[-1]) if self.keys else None

    def page_info(self) -> dict:
        return {
            "hasNextPage": self.has_next,
            "hasPreviousPage": self.has_previous,
            "startCursor": self.start_cursor,
            "endCursor": self.end_cursor,
        }


def _clamp(value: int | None) -> int | None:
    # graphql-ruby clamps first/last into [0, max page size] before DS sees them.
    return None if value is None else max(0, min(value, MAX_PAGE_SIZE))


def paginate(
    index, *, first=None, last=None, after=None, before=None, since=None, accept=None, order: str = "ASC"
) -> Page:
    """One page of `index` (sorted (timestamp, id) keys) with DS's rules and pageInfo."""
    after, before = after or None, before or None  # an empty cursor is no cursor
    last = _clamp(last)
    first = _clamp(first)
    if first is None and last is None:
        first = MAX_PAGE_SIZE
    if first is not None and last is not None:
        raise bad_request('Arguments "first" and "last" are exclusive')
    if before is not None and after is not None:
        raise bad_request('Arguments "before" and "after" are exclusive')
    descending = order == "DESC"
    if last is not None and descending:
        raise bad_request('Argument "last" is not supported with order "desc"')
    limit = min(v for v in (first, last, MAX_PAGE_SIZE) if v is not None) + 1
    inverted = last is not None or before is not None
    if descending:
        if before is None:
            inverted = not inverted
        keys = _read(index, limit, before=after, after=before, inverted=inverted, since=since, accept=accept)
        return Page(
            keys[: limit - 1],
            has_next=before is not None or (len(keys) == limit and inverted),
            has_previous=after is not None or (len(keys) == limit and not inverted),
            limit=limit - 1,
        )
    keys = _read(index, limit, before=before, after=after, inverted=inverted, since=since, accept=accept)
    trimmed = keys[: limit - 1]
    if inverted:
        trimmed.reverse()
    return Page(
        trimmed,
        has_next=before is not None or (len(keys) == limit and not inverted),
        has_previous=after is not None or (len(keys) == limit and inverted),
        limit=limit - 1,
    )


def _read(index, limit, *, before, after, inverted, since, accept) -> list:
    """Up to `limit` keys past the cursor, nearest first (backwards when inverted), like DS's SQL."""
    start = bisect.bisect_left(index, (since,)) if since is not None else 0
    end = len(index)
    if before is not None:
        key = decode_cursor(before)
        if key is None:
            return []
        end = bisect.bisect_left(index, key)
    elif after is not None:
        key = decode_cursor(after)
        if key is None:
            return []
        start = max(start, bisect.bisect_right(index, key))
    positions = range(end - 1, start - 1, -1) if inverted else range(start, end)
    keys: list[tuple[datetime, int]] = []
    for position in positions:
        if len(keys) >= limit:
            break
        if accept is None or accept(index[position][1]):
            keys.append(index[position])
    return keys
