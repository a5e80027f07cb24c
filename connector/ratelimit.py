"""Client-side request budget, one per token, shared by sync and push.

DS throttles at 400 requests per minute per token, in fixed windows aligned
on the epoch (docs/ds-rate-limit.md). A sliding window of the same size is stricter than
any fixed window, so staying inside it means never being throttled by our
own traffic.

DS counts a request when it arrives, somewhere between the moment we send it
and the moment its answer is back; a thread descheduled after taking its
slot, or a slow connection, moves that moment. So a request holds its place
in the window from when it leaves until `per_seconds` after its answer came
back (docs/ds-rate-limit.md): any `per_seconds` of arrivals at DS then holds
at most `max_requests`, however the requests were delayed on the way.

Sync comes first: a push may use the window only up to `max_requests`
minus a reserve, and never while a sync request waits, so a long push never
delays the next poll (nor the fetch of a dossier a webhook pointed at).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

SYNC, PUSH = "sync", "push"
PRIORITIES = (SYNC, PUSH)


class RequestBudget:
    def __init__(
        self,
        max_requests: int = 400,
        per_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
        *,
        sync_reserve: float = 0.1,
    ):
        if max_requests < 1:
            raise ValueError("the request budget must allow at least one request")
        self.max_requests = max_requests
        self.per_seconds = per_seconds
        # Requests of the window push may not take: sync always finds room.
        self.push_limit = max(1, max_requests - max(1, round(max_requests * sync_reserve))) if max_requests > 1 else 1
        self._clock = clock
        self._sleep = sleep  # a fake clock's sleep, in unit tests; None: wait on the condition
        self._answered: deque[float] = deque()  # when each answer of the window came back, in order
        self._in_flight = 0  # sent, answer not back yet: in the window until it is, and a window more
        self._condition = threading.Condition()
        self._sync_waiting = 0
        self.waited_seconds = 0.0
        self.granted = {SYNC: 0, PUSH: 0}
        self.waited = {SYNC: 0.0, PUSH: 0.0}  # seconds spent waiting, by priority

    @contextmanager
    def request(self, priority: str = SYNC) -> Iterator[None]:
        """Wait until one more request of this priority fits in the window; it
        holds its place until `per_seconds` after the block ends (its answer)."""
        self._take(priority, in_flight=True)
        try:
            yield
        finally:
            with self._condition:
                self._in_flight -= 1
                self._answered.append(self._clock())
                self._condition.notify_all()

    def acquire(self, priority: str = SYNC) -> None:
        """Block until one more request of this priority fits in the window, then
        count it as sent and answered now (`request` when the answer is awaited)."""
        self._take(priority, in_flight=False)

    def _take(self, priority: str, in_flight: bool) -> None:
        if priority not in PRIORITIES:
            raise ValueError(f"unknown priority {priority!r}")
        asked = self._clock()
        with self._condition:
            if priority == SYNC:
                self._sync_waiting += 1
            try:
                while True:
                    now = self._clock()
                    while self._answered and now - self._answered[0] >= self.per_seconds:
                        self._answered.popleft()
                    held = len(self._answered) + self._in_flight
                    limit = self.max_requests if priority == SYNC else self.push_limit
                    if held < limit and (priority == SYNC or self._sync_waiting == 0):
                        if in_flight:
                            self._in_flight += 1
                        else:
                            self._answered.append(now)
                        self.granted[priority] += 1
                        self.waited[priority] += now - asked
                        return
                    if held < limit:
                        wait = 0.05  # room, but a sync request goes first
                    elif held - limit < len(self._answered):
                        # The answer that must leave the window for one more request to fit.
                        wait = self.per_seconds - (now - self._answered[held - limit])
                    else:
                        wait = self.per_seconds  # only awaited answers fill it: woken when one comes back
                    wait = max(wait, 0.001)
                    self.waited_seconds += wait
                    if self._sleep is not None:
                        self._sleep(wait)
                    else:
                        self._condition.wait(wait)
            finally:
                if priority == SYNC:
                    self._sync_waiting -= 1
                self._condition.notify_all()
