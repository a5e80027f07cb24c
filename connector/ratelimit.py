"""Client-side request budget, one per token, shared by sync and push.

DS throttles at 400 requests per minute per token, in fixed windows aligned
on the epoch (NOTES §4). A sliding window of the same size is stricter than
any fixed window, so staying inside it means never being throttled by our
own traffic.

Sync comes first: a push may use the window only up to `max_requests`
minus a reserve, and never while a sync request waits, so a long push never
delays the next poll (nor the fetch of a dossier a webhook pointed at).
"""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable

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
        self._sent: deque[float] = deque()
        self._condition = threading.Condition()
        self._sync_waiting = 0
        self.waited_seconds = 0.0
        self.granted = {SYNC: 0, PUSH: 0}
        self.waited = {SYNC: 0.0, PUSH: 0.0}  # seconds spent waiting, by priority

    def acquire(self, priority: str = SYNC) -> None:
        """Block until one more request of this priority fits in the window, then count it."""
        if priority not in PRIORITIES:
            raise ValueError(f"unknown priority {priority!r}")
        asked = self._clock()
        with self._condition:
            if priority == SYNC:
                self._sync_waiting += 1
            try:
                while True:
                    now = self._clock()
                    while self._sent and now - self._sent[0] >= self.per_seconds:
                        self._sent.popleft()
                    limit = self.max_requests if priority == SYNC else self.push_limit
                    if len(self._sent) < limit and (priority == SYNC or self._sync_waiting == 0):
                        self._sent.append(now)
                        self.granted[priority] += 1
                        self.waited[priority] += now - asked
                        return
                    if len(self._sent) >= limit:
                        # The oldest request that must leave the window for one more to fit.
                        wait = self.per_seconds - (now - self._sent[len(self._sent) - limit])
                    else:
                        wait = 0.05  # room, but a sync request goes first
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
