"""Records each run of a job in `job_runs`, for `wif status`."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from core.models import JobRun
from core.clock import utcnow


@dataclass
class RunNote:
    summary: str = ""


@contextlib.contextmanager
def recorded_run(sessions: sessionmaker[Session], job: str):
    note = RunNote()
    with sessions() as session, session.begin():
        run = JobRun(job=job, started_at=utcnow(), outcome="running")
        session.add(run)
    try:
        yield note
    except BaseException as error:
        _close(sessions, run.id, "failed", note.summary or type(error).__name__)
        raise
    _close(sessions, run.id, "ok", note.summary)


def _close(sessions, run_id: int, outcome: str, summary: str) -> None:
    with sessions() as session, session.begin():
        run = session.get(JobRun, run_id)
        run.finished_at = utcnow()
        run.outcome = outcome
        run.summary = summary[:2000]
