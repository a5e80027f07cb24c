"""Run one job: database lock, JobRun row, Sentry check-in and error report.

A failing job is logged and reported, and the caller goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.jobruns import FAILED, SKIPPED, RunNote, recorded_run
from jobs.locks import default_holder, job_lock
from jobs.observability import capture_job_failure, cron_checkin, job_scope, scrub_text

if TYPE_CHECKING:
    from sentry_sdk._types import MonitorConfig

log = logging.getLogger(__name__)

LOCKED, STOPPED = "locked", "stopped"  # outcomes of a run that did not start: no JobRun row


class JobSkipped(Exception):
    """The job cannot run here (e.g. its module is not installed): recorded, not reported."""


class JobFailed(Exception):
    """The job ran but did not succeed; the message is its summary."""


@dataclass(frozen=True)
class JobSpec:
    name: str
    action: Callable[[], str | None]  # returns a one-line summary
    monitor_config: MonitorConfig | None = None  # Sentry cron monitor (schedule, margins)


def utc_now() -> datetime:
    return datetime.now(UTC)


class JobRunner:
    def __init__(
        self,
        engine: Engine,
        factory: sessionmaker[Session],
        *,
        clock: Callable[[], datetime] = utc_now,
        lock_ttl: timedelta = timedelta(hours=2),
        holder: str | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ):
        self.engine = engine
        self.factory = factory
        self.clock = clock
        self.lock_ttl = lock_ttl
        self.holder = holder or default_holder()
        self.should_stop = should_stop

    def run(self, spec: JobSpec) -> str:
        """Run the job if its lock is free; returns the outcome."""
        if self.should_stop():
            return STOPPED
        with job_lock(self.engine, spec.name, ttl=self.lock_ttl, holder=self.holder, clock=self.clock) as acquired:
            if not acquired:
                log.info("job %s: held by another scheduler, skipped", spec.name)
                return LOCKED
            with recorded_run(self.factory, spec.name, self.clock) as note, job_scope(spec.name):
                self._execute(spec, note)
        log.info("job %s: %s %s", spec.name, note.outcome, note.summary)
        return note.outcome

    def _execute(self, spec: JobSpec, note: RunNote) -> None:
        try:
            with cron_checkin(spec.name, spec.monitor_config):
                note.summary = spec.action() or ""
        except JobSkipped as reason:
            note.outcome, note.summary = SKIPPED, str(reason)
            log.warning("job %s skipped: %s", spec.name, reason)
        except Exception as error:
            note.outcome, note.summary = FAILED, scrub_text(f"{type(error).__name__}: {error}")
            log.error("job %s failed: %s", spec.name, note.summary, exc_info=True)
            capture_job_failure(spec.name, error)
