"""Client-side request budget.

DS throttles at 400 requests per minute per token, in fixed windows aligned
on the epoch (NOTES §4). A sliding window of the same size is stricter than
any fixed window, so staying inside it means never being throttled by our
own traffic.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable


class RequestBudget:
    def __init__(
        self,
        max_requests: int = 400,
        per_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if max_requests < 1:
            raise ValueError("the request budget must allow at least one request")
        self.max_requests = max_requests
        self.per_seconds = per_seconds
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()
        self.waited_seconds = 0.0

    def acquire(self) -> None:
        """Block until one more request fits in the window, then count it."""
        with self._lock:
            while True:
                now = self._clock()
                while self._sent and now - self._sent[0] >= self.per_seconds:
                    self._sent.popleft()
                if len(self._sent) < self.max_requests:
                    self._sent.append(now)
                    return
                wait = self.per_seconds - (now - self._sent[0])
                self.waited_seconds += wait
                self._sleep(wait)
