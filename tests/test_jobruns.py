"""Job runs killed while `running` are found `interrupted` by the next start."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core import jobruns
from core.jobruns import INTERRUPTED, RUNNING, close_interrupted, recorded_run, this_process
from core.models import JobRun

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def a_finished_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def add_run(sessions, **values) -> int:
    values = {"job": "sync", "started_at": NOW - timedelta(minutes=1), "outcome": RUNNING} | values
    with sessions() as session, session.begin():
        run = JobRun(**values)
        session.add(run)
    return run.id


def outcome(sessions, run_id: int) -> str:
    with sessions() as session:
        return session.get(JobRun, run_id).outcome


def test_a_run_whose_process_is_gone_or_silent_is_interrupted_and_a_live_one_is_not(sessions):
    host, pid = this_process()
    dead_here = add_run(sessions, host=host, pid=a_finished_pid(), heartbeat_at=NOW)
    silent_elsewhere = add_run(sessions, host="autre-machine", pid=1, heartbeat_at=NOW - timedelta(minutes=6))
    beating_elsewhere = add_run(sessions, host="autre-machine", pid=1, heartbeat_at=NOW - timedelta(minutes=1))
    legacy_old = add_run(sessions, started_at=NOW - timedelta(hours=3))  # before runs named their process
    mine = add_run(
        sessions,
        host=host,
        pid=pid,
        instance=jobruns.INSTANCE,  # a thread of this process
        heartbeat_at=NOW - timedelta(hours=1),
    )
    # This pid on this host, but an earlier process: a container's pid 1 before a restart.
    my_pid_before = add_run(sessions, host=host, pid=pid, instance="0" * 32, heartbeat_at=NOW)
    finished = add_run(sessions, host=host, pid=a_finished_pid(), outcome="ok", finished_at=NOW)

    assert close_interrupted(sessions, lambda: NOW) == 4
    assert [outcome(sessions, i) for i in (dead_here, silent_elsewhere, legacy_old, my_pid_before)] == [INTERRUPTED] * 4
    assert [outcome(sessions, i) for i in (beating_elsewhere, mine, finished)] == [RUNNING, RUNNING, "ok"]
    with sessions() as session:
        assert "ended without closing the run" in session.get(JobRun, dead_here).summary
        assert "no sign of life since 2026-12-01 11:54:00 UTC" in session.get(JobRun, silent_elsewhere).summary
    assert close_interrupted(sessions, lambda: NOW) == 0


def test_a_run_names_its_process_and_beats_while_it_runs(sessions, monkeypatch):
    monkeypatch.setattr(jobruns, "HEARTBEAT_SECONDS", 0.01)
    ticks = iter(NOW + timedelta(seconds=i) for i in range(10_000))
    with recorded_run(sessions, "push", clock=lambda: next(ticks)):
        with sessions() as session:
            run = session.scalars(select(JobRun)).one()
            assert (run.host, run.pid, run.instance, run.outcome) == (*this_process(), jobruns.INSTANCE, RUNNING)
            first_beat = run.heartbeat_at
        for _ in range(500):  # wait for a beat, however slow the machine
            time.sleep(0.01)
            with sessions() as session:
                if session.get(JobRun, run.id).heartbeat_at > first_beat:
                    break
        else:
            pytest.fail("no heartbeat written")
    assert outcome(sessions, run.id) == "ok"


def test_the_next_run_closes_the_runs_a_killed_process_left(sessions):
    host, _ = this_process()
    killed = add_run(sessions, job="push", host=host, pid=a_finished_pid(), heartbeat_at=NOW)
    with recorded_run(sessions, "push", clock=lambda: NOW):
        pass
    assert outcome(sessions, killed) == INTERRUPTED
