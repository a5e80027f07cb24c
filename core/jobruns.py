"""The one writer of `job_runs`: each run of a job, for `wif status`.

The row is written `running` before the job starts, in its own
transaction, and closed with the outcome after it.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterator

from sqlalchemy.orm import Session, sessionmaker

from core.clock import utcnow
from core.models import JobRun

OK, FAILED, SKIPPED, RUNNING = "ok", "failed", "skipped", "running"
MAX_SUMMARY = 2000


@dataclass
class RunNote:
    """What the job tells about itself; `outcome` stays ok unless it says otherwise."""

    summary: str = ""
    outcome: str = OK


@contextlib.contextmanager
def recorded_run(sessions: sessionmaker[Session], job: str, clock: Callable[[], datetime] = utcnow) -> Iterator[RunNote]:
    note = RunNote()
    with sessions() as session, session.begin():
        run = JobRun(job=job, started_at=clock(), outcome=RUNNING)
        session.add(run)
    try:
        yield note
    except BaseException as error:
        _close(sessions, run.id, FAILED, note.summary or type(error).__name__, clock)
        raise
    _close(sessions, run.id, note.outcome, note.summary, clock)


def _close(sessions, run_id: int, outcome: str, summary: str, clock) -> None:
    with sessions() as session, session.begin():
        run = session.get(JobRun, run_id)
        run.finished_at = clock()
        run.outcome = outcome
        run.summary = (summary or "")[:MAX_SUMMARY] or None
