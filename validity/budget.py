"""A lookup budget shared by every `wif serve` worker, kept in the database.

The per-client token bucket (`validity.ratelimit`) lives in one process and
keys on the address: forty addresses, or four workers, multiply it. This
budget counts the lookups of every worker in fixed windows, one row per
window. The UPDATE's own WHERE makes the check and the increment one step
(PostgreSQL re-reads the row a concurrent UPDATE changed; SQLite runs one
writer at a time), so the budget holds whatever the number of workers.

It also counts misses (« aucune autorisation trouvée »: an unknown number or a wrong birth
date), and flips the window's `alerted` flag once when they pass the
threshold: exactly one lookup, in one worker, learns that it must alert.

Every lookup runs the same statements, whatever its outcome: a miss costs
the work of a hit, so the response time does not tell them apart.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.db import rows_changed
from core.models import ValidityBudget

# Past windows kept for diagnosis (how many lookups, how many misses).
KEEP_WINDOWS_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class Window:
    start: int  # epoch seconds
    seconds: int
    allowed: bool
    opened: bool = False  # this lookup opened the window (once per window, in one worker)

    def retry_after(self, now: float) -> float:
        return max(0.0, self.start + self.seconds - now)


@dataclass(frozen=True)
class Spike:
    """The misses of a window passed the alert threshold."""

    window_start: int
    window_seconds: int
    threshold: int


class LookupBudget:
    def __init__(self, limit: int, window_seconds: int, miss_alert: int, clock: Callable[[], float] = time.time):
        if limit < 1 or window_seconds < 1 or miss_alert < 1:
            raise ValueError("limit, window_seconds and miss_alert must be at least 1")
        self.limit, self.window_seconds, self.miss_alert = limit, window_seconds, miss_alert
        self.clock = clock

    def now(self) -> float:
        return self.clock()

    def take(self, session: Session) -> Window:
        """Count one lookup in the current window, if the window has room."""
        start = int(self.clock() // self.window_seconds) * self.window_seconds
        insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        created = session.execute(
            insert(ValidityBudget)
            .values(window_start=start, lookups=0, misses=0, alerted=False)
            .on_conflict_do_nothing(index_elements=["window_start"])
            .returning(ValidityBudget.window_start)
        ).all()
        if created:  # once per window: forget the old ones
            session.execute(delete(ValidityBudget).where(ValidityBudget.window_start < start - KEEP_WINDOWS_SECONDS))
        taken = rows_changed(
            session,
            update(ValidityBudget)
            .where(ValidityBudget.window_start == start, ValidityBudget.lookups < self.limit)
            .values(lookups=ValidityBudget.lookups + 1),
        )
        return Window(start, self.window_seconds, taken == 1, opened=bool(created))

    def settle(self, session: Session, window: Window, missed: bool) -> Spike | None:
        """Count the outcome; a Spike when this very lookup took the misses over the threshold.

        Both statements run for a hit too (adding 0, matching no row)."""
        session.execute(
            update(ValidityBudget)
            .where(ValidityBudget.window_start == window.start)
            .values(misses=ValidityBudget.misses + int(missed))
        )
        flipped = rows_changed(
            session,
            update(ValidityBudget)
            .where(
                ValidityBudget.window_start == window.start,
                ValidityBudget.alerted.is_(False),
                ValidityBudget.misses >= self.miss_alert,
            )
            .values(alerted=True),
        )
        return Spike(window.start, window.seconds, self.miss_alert) if flipped == 1 else None
