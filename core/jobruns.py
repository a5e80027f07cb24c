"""The one writer of `job_runs`: each run of a job, for `wif status`.

The row is written `running` before the job starts, in its own
transaction, and closed with the outcome after it. It names its host and
process and beats every minute while the job runs, so that the next start
finds a run that was killed (`kill -9`, a crash, a lost machine) and marks
it `interrupted` instead of letting it look `running` for ever.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.clock import utcnow
from core.models import JobRun

log = logging.getLogger(__name__)

OK, FAILED, SKIPPED, RUNNING, INTERRUPTED = "ok", "failed", "skipped", "running", "interrupted"
MAX_SUMMARY = 2000
HEARTBEAT_SECONDS = 60.0
# No heartbeat for this long: the run is gone, wherever it ran.
SILENT_AFTER = timedelta(minutes=5)
# Tells this process from an earlier one that had the same pid on the same
# host (a container's pid 1 after a restart).
INSTANCE = uuid.uuid4().hex


@dataclass
class RunNote:
    """What the job tells about itself; `outcome` stays ok unless it says otherwise."""

    summary: str = ""
    outcome: str = OK


def this_process() -> tuple[str, int]:
    return socket.gethostname()[:255], os.getpid()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process holds that pid now
        return True
    return True


def close_interrupted(sessions: sessionmaker[Session], clock: Callable[[], datetime] = utcnow) -> int:
    """Mark `interrupted` the runs left `running` by a process that is gone:
    one of this host whose pid no longer exists, or any that stopped beating.
    This process's own runs are never touched. Returns how many."""
    host, pid = this_process()
    now = clock()
    closed = 0
    with sessions() as session, session.begin():
        for run in session.scalars(select(JobRun).where(JobRun.outcome == RUNNING)):
            if run.instance == INSTANCE:
                continue
            last_sign = run.heartbeat_at or run.started_at
            if run.host == host and run.pid is not None and (run.pid == pid or not _alive(run.pid)):
                why = f"process {run.pid} ended without closing the run"
            elif now - last_sign > SILENT_AFTER:
                why = "no sign of life since " + last_sign.strftime("%Y-%m-%d %H:%M:%S UTC")
            else:
                continue
            run.outcome = INTERRUPTED
            run.summary = (f"interrupted: {why}" + (f" | {run.summary}" if run.summary else ""))[:MAX_SUMMARY]
            closed += 1
    if closed:
        log.warning("%d job run(s) left running by a process that is gone: marked interrupted", closed)
    return closed


class _Heartbeat(threading.Thread):
    def __init__(self, sessions, run_id: int, clock) -> None:
        super().__init__(name=f"job-run-{run_id}-heartbeat", daemon=True)
        self.sessions, self.run_id, self.clock = sessions, run_id, clock
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(HEARTBEAT_SECONDS):
            try:
                with self.sessions() as session, session.begin():
                    session.execute(
                        update(JobRun)
                        .where(JobRun.id == self.run_id, JobRun.outcome == RUNNING)
                        .values(heartbeat_at=self.clock())
                    )
            except Exception as error:  # a busy database must not stop the job; the next beat tries again
                log.warning("job run %s: heartbeat not written: %s", self.run_id, error)


@contextlib.contextmanager
def recorded_run(
    sessions: sessionmaker[Session], job: str, clock: Callable[[], datetime] = utcnow
) -> Iterator[RunNote]:
    note = RunNote()
    close_interrupted(sessions, clock)
    host, pid = this_process()
    with sessions() as session, session.begin():
        started = clock()
        run = JobRun(
            job=job, started_at=started, outcome=RUNNING, host=host, pid=pid, instance=INSTANCE, heartbeat_at=started
        )
        session.add(run)
    heartbeat = _Heartbeat(sessions, run.id, clock)
    heartbeat.start()
    try:
        yield note
    except BaseException as error:
        heartbeat.stopped.set()
        _close(sessions, run.id, FAILED, note.summary or type(error).__name__, clock)
        raise
    heartbeat.stopped.set()
    _close(sessions, run.id, note.outcome, note.summary, clock)


def _close(sessions, run_id: int, outcome: str, summary: str, clock) -> None:
    with sessions() as session, session.begin():
        run = session.get(JobRun, run_id)
        run.finished_at = clock()
        run.outcome = outcome
        run.summary = (summary or "")[:MAX_SUMMARY] or None
