"""Keyset pagination like DS's CursorConnection (NOTES §5, §7.1).

An index is a sorted list of (timestamp, id). A cursor is base64 of
"<ISO8601 UTC timestamp with µs>;<id>" of the active order column, and
`after` means (timestamp, id) > cursor. Page size is silently capped at 100.
"""
from __future__ import annotations

import base64
import binascii
import bisect
from dataclasses import dataclass
from datetime import datetime, timezone

from graphql import GraphQLError

MAX_PAGE_SIZE = 100


def bad_request(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "bad_request"})


def encode_cursor(moment: datetime, key: int) -> str:
    stamp = moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return base64.b64encode(f"{stamp};{key}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        stamp, key = base64.b64decode(cursor.encode(), validate=True).decode().split(";")
        return datetime.fromisoformat(stamp).astimezone(timezone.utc), int(key)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad_request(f"Invalid cursor: {cursor!r}") from None


@dataclass
class Page:
    keys: list[tuple[datetime, int]]
    has_next: bool
    has_previous: bool
    limit: int

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


def page_size(first: int | None, last: int | None) -> int:
    requested = first if first is not None else last
    return MAX_PAGE_SIZE if requested is None else min(requested, MAX_PAGE_SIZE)


def paginate(index, *, first=None, last=None, after=None, before=None, since=None, accept=None) -> Page:
    """One page of `index` (sorted (timestamp, id) keys) with DS's pageInfo rules."""
    if first is not None and last is not None:
        raise bad_request("Passing both `first` and `last` to paginate this connection is not supported.")
    if after is not None and before is not None:
        raise bad_request("Passing both `after` and `before` to paginate this connection is not supported.")
    if (first is not None and first < 0) or (last is not None and last < 0):
        raise bad_request("`first` and `last` must be positive.")
    limit = page_size(first, last)
    start = bisect.bisect_left(index, (since,)) if since is not None else 0
    if after is not None:
        start = max(start, bisect.bisect_right(index, decode_cursor(after)))
    end = bisect.bisect_left(index, decode_cursor(before)) if before is not None else len(index)
    inverted = last is not None
    positions = range(end - 1, start - 1, -1) if inverted else range(start, end)
    keys = []
    for position in positions:
        if len(keys) >= limit:
            break
        key = index[position]
        if accept is None or accept(key[1]):
            keys.append(key)
    if inverted:
        keys.reverse()
    full = limit > 0 and len(keys) == limit
    return Page(
        keys=keys,
        has_next=before is not None or (full and not inverted),
        has_previous=after is not None or (full and inverted),
        limit=limit,
    )
