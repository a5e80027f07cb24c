"""Run one job: database lock, JobRun row, Sentry check-in and error report.

A failing job is logged and reported, and the caller goes on.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.models import JobRun
from jobs.locks import default_holder, job_lock
from jobs.observability import capture_job_failure, cron_checkin, job_scope, scrub_text

log = logging.getLogger(__name__)

OK, FAILED, SKIPPED, LOCKED, STOPPED = "ok", "failed", "skipped", "locked", "stopped"


class JobSkipped(Exception):
    """The job cannot run here (e.g. its module is not installed): recorded, not reported."""


class JobFailed(Exception):
    """The job ran but did not succeed; the message is its summary."""


@dataclass(frozen=True)
class JobSpec:
    name: str
    action: Callable[[], str | None]  # returns a one-line summary
    monitor_config: dict | None = None  # Sentry cron monitor (schedule, margins)
    # False when the action writes its own JobRun row (run_sync does), to avoid two rows per run.
    records_run: bool = True


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


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
            return self._run_locked(spec)

    def _run_locked(self, spec: JobSpec) -> str:
        run_id = self._start(spec.name) if spec.records_run else None
        with job_scope(spec.name):
            outcome, summary = self._execute(spec)
        if run_id is not None:
            self._finish(run_id, outcome, summary)
        log.info("job %s: %s %s", spec.name, outcome, summary or "")
        return outcome

    def _execute(self, spec: JobSpec) -> tuple[str, str | None]:
        outcome, summary = OK, None
        try:
            with cron_checkin(spec.name, spec.monitor_config):
                summary = spec.action()
        except JobSkipped as reason:
            outcome, summary = SKIPPED, str(reason)
            log.warning("job %s skipped: %s", spec.name, reason)
        except Exception as error:
            outcome, summary = FAILED, scrub_text(f"{type(error).__name__}: {error}")[:2000]
            log.error("job %s failed: %s", spec.name, summary, exc_info=True)
            capture_job_failure(spec.name, error)
        return outcome, summary

    def _start(self, job: str) -> int:
        with transaction(self.factory) as session:
            run = JobRun(job=job, started_at=self.clock(), outcome="running")
            session.add(run)
            session.flush()
            return run.id

    def _finish(self, run_id: int, outcome: str, summary: str | None) -> None:
        with transaction(self.factory) as session:
            session.execute(
                update(JobRun).where(JobRun.id == run_id).values(finished_at=self.clock(), outcome=outcome, summary=summary)
            )
