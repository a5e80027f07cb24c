"""Scheduler with a fake clock, job locks, JobRun rows, clean stop, `wif status`."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import types
from collections import Counter
from datetime import date, timedelta

import pytest
import schedule
from sqlalchemy import select

from core.clock import previous_month
from core.db import transaction
from core.jobruns import FAILED, OK, SKIPPED
from core.models import JobRun, SyncState
from core.settings import ScheduleSettings
from jobs import scheduler as scheduler_module
from jobs import status as status_module
from jobs.locks import job_lock
from jobs.result import Result
from jobs.runner import LOCKED, STOPPED, JobRunner, JobSpec
from jobs.scheduler import Jobs, SchedulerLoop, install, run_verb


class Recorder:
    def __init__(self):
        self.calls = Counter()
        self.failing: set[str] = set()

    def spec(self, name: str) -> JobSpec:
        def action():
            self.calls[name] += 1
            if name in self.failing:
                raise RuntimeError(f"{name} broke for etudiant@example.org")
            return f"{name} done"

        return JobSpec(name, action)

    def jobs(self) -> Jobs:
        return Jobs(
            sync=self.spec("sync"),
            notify=self.spec("notify"),
            digest=self.spec("digest"),
            stats=self.spec("stats"),
            report=lambda today: self.spec(f"report {previous_month(today)}"),
        )


# The `clock` fixture (tests/conftest.py) starts on 2026-03-01 00:00 UTC, a 1st: the monthly report is due.
TIMING = ScheduleSettings(sync_every_minutes=15, digest_at="07:30", stats_at="05:00", report_at="06:00", timezone="UTC")


def make_runner(engine, sessions, clock, **kwargs) -> JobRunner:
    return JobRunner(engine, sessions, clock=clock.utc, **kwargs)


def drive(scheduler: schedule.Scheduler, clock, hours: float, step_minutes: int = 5) -> None:
    for _ in range(int(hours * 60 / step_minutes)):
        clock.advance(minutes=step_minutes)
        scheduler.run_pending()


def test_jobs_run_at_their_interval(engine, sessions, clock):
    recorder, scheduler = Recorder(), schedule.Scheduler()
    install(scheduler, make_runner(engine, sessions, clock), recorder.jobs(), TIMING)
    drive(scheduler, clock, hours=48)
    assert recorder.calls == Counter(
        {
            "sync": 48 * 4,
            "notify": 48 * 4,
            "digest": 2,
            "stats": 2,
            "report 2026-02": 1,
        }
    )
    with sessions() as session:
        outcomes = Counter((run.job, run.outcome) for run in session.scalars(select(JobRun)))
    assert outcomes[("sync", OK)] == 192 and outcomes[("digest", OK)] == 2


def test_a_failing_job_does_not_stop_the_others(engine, sessions, clock):
    recorder, scheduler = Recorder(), schedule.Scheduler()
    recorder.failing.add("sync")
    install(scheduler, make_runner(engine, sessions, clock), recorder.jobs(), TIMING)
    drive(scheduler, clock, hours=8)
    assert recorder.calls["sync"] == 32 and recorder.calls["notify"] == 32 and recorder.calls["digest"] == 1
    with sessions() as session:
        failed = session.scalars(select(JobRun).where(JobRun.job == "sync")).all()
    assert {run.outcome for run in failed} == {FAILED}
    assert "RuntimeError" in failed[0].summary and "@" not in failed[0].summary


def test_a_second_scheduler_does_not_take_a_held_lock(engine, sessions, clock):
    recorder = Recorder()
    runner = make_runner(engine, sessions, clock, holder="second")
    with job_lock(engine, "sync", holder="first", clock=clock.utc) as acquired:
        assert acquired
        assert runner.run(recorder.spec("sync")) == LOCKED
        assert runner.run(recorder.spec("digest")) == OK  # other jobs are not blocked
    assert recorder.calls == Counter({"digest": 1})
    assert runner.run(recorder.spec("sync")) == OK


def test_a_locked_sync_skips_its_notify(engine, sessions, clock):
    recorder = Recorder()
    runner = make_runner(engine, sessions, clock)
    with job_lock(engine, "sync", holder="other", clock=clock.utc):
        scheduler_module.run_sync_then_notify(runner, recorder.jobs())
    assert recorder.calls == Counter()


@pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="lock rows with expiry exist on SQLite only")
def test_an_abandoned_lock_row_expires(engine, sessions, clock):
    recorder = Recorder()
    stale = job_lock(engine, "sync", holder="crashed", ttl=timedelta(minutes=30), clock=clock.utc)
    assert stale.__enter__()  # never released, as if the process died
    runner = make_runner(engine, sessions, clock, holder="alive")
    assert runner.run(recorder.spec("sync")) == LOCKED
    clock.advance(minutes=31)
    assert runner.run(recorder.spec("sync")) == OK


def test_sigterm_stops_after_the_current_job(engine, sessions, clock):
    scheduler = schedule.Scheduler()
    loop = SchedulerLoop(scheduler, max_wait_seconds=0.01)
    runner = make_runner(engine, sessions, clock, should_stop=loop.stopping.is_set)
    outcomes = []

    def first():
        os.kill(os.getpid(), signal.SIGTERM)  # arrives while the job runs
        return "finished anyway"

    scheduler.every(1).minutes.do(lambda: outcomes.append(runner.run(JobSpec("first", first))))
    scheduler.every(1).minutes.do(lambda: outcomes.append(runner.run(JobSpec("second", lambda: "ran"))))
    clock.advance(minutes=1)
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        loop.install_signal_handlers()
        loop.run_forever()  # returns: the signal stopped it
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    assert outcomes == [OK, STOPPED]
    with sessions() as session:
        assert [(r.job, r.outcome, r.summary) for r in session.scalars(select(JobRun))] == [
            ("first", OK, "finished anyway")
        ]


def test_a_verb_that_is_not_installed_is_skipped(engine, sessions, clock, monkeypatch):
    from jobs import cli

    fake = types.ModuleType("test_scheduler_fake_verb")
    fake.calls = []
    fake.configure = lambda parser: parser.add_argument("--month")
    fake.run = lambda args, settings, database: fake.calls.append(args.month) or Result()
    monkeypatch.setitem(cli.VERBS, "report", fake)
    assert run_verb("report", ["--month", "2026-02"], None, None) == "wif report ok"
    assert fake.calls == ["2026-02"]
    monkeypatch.delitem(cli.VERBS, "report")
    runner = make_runner(engine, sessions, clock)
    assert runner.run(JobSpec("report", lambda: run_verb("report", [], None, None))) == SKIPPED


def test_two_overlapping_verbs_on_two_threads_each_get_their_own_result(monkeypatch):
    """The push thread and the main thread's notify at once: each job's summary is its own, stdout stays put."""
    from jobs import cli

    both_running = threading.Barrier(2, timeout=10)
    terminal = sys.stdout

    def verb(name: str) -> types.ModuleType:
        def run(args, settings, database):
            result = Result(lines=[f"{name} line 1"])
            both_running.wait()
            assert sys.stdout is terminal  # nobody redirected it under the other verb
            result.say(f"{name} line 2")
            both_running.wait()
            return result

        module = types.ModuleType(f"fake_{name}")
        module.configure, module.run = (lambda parser: None), run
        return module

    monkeypatch.setitem(cli.VERBS, "push", verb("push"))
    monkeypatch.setitem(cli.VERBS, "notify", verb("notify"))
    summaries = {}
    push = threading.Thread(target=lambda: summaries.update(push=run_verb("push", [], None, None)))
    push.start()
    summaries["notify"] = run_verb("notify", [], None, None)
    push.join(10)
    assert summaries == {"push": "push line 1 | push line 2", "notify": "notify line 1 | notify line 2"}
    assert sys.stdout is terminal


def test_previous_month():
    assert previous_month(date(2026, 1, 1)) == "2025-12"
    assert previous_month(date(2026, 3, 1)) == "2026-02"


def test_status_shows_last_runs_watermarks_and_backlogs(database_url, clock, capsys):
    from core.db import Database
    from core.settings import Settings

    settings = Settings(database_url=database_url)
    database = Database(database_url)
    engine, sessions = database.engine, database.sessions
    runner = make_runner(engine, sessions, clock)
    runner.run(JobSpec("sync", lambda: "first"))
    clock.advance(minutes=15)
    runner.run(JobSpec("sync", lambda: (_ for _ in ()).throw(RuntimeError("DS down"))))
    runner.run(JobSpec("digest", lambda: "sent=2"))
    with transaction(sessions) as session:
        session.add(
            SyncState(demarche_number=1, updated_since=clock.utc() - timedelta(days=1), last_success_at=clock.utc())
        )
    with sessions() as session:
        status = status_module.collect_status(session)
    assert [(run.job, run.outcome) for run in status.jobs] == [("digest", OK), ("sync", FAILED)]
    assert status.watermarks[0].demarche_number == 1
    assert {line.name for line in status.backlogs} >= {"notifications"}
    assert not status.healthy
    text = status_module.format_status(status)
    assert "sync     failed" in text and "démarche 1" in text and "notifications" in text

    from jobs.verbs import status as status_verb

    result = status_verb.run(argparse.Namespace(json=True, fail_on_error=True), settings, database)
    assert result.exit_code == 1 and '"outcome": "failed"' in result.lines[0]
    database.dispose()


def test_against_ds_the_sync_leaves_push_to_its_own_thread(engine, sessions, clock):
    import dataclasses
    import threading

    from core.settings import DSSettings, Settings
    from jobs.scheduler import PushWorker, default_jobs

    on_ds = default_jobs(Settings(ds=DSSettings(api_url="https://ds.example.test/api/v2/graphql")), None)
    assert on_ds.push is not None and on_ds.push.name == "push"
    assert default_jobs(Settings(), None).push is None  # the embedded sandbox: the sync pushes itself

    recorder = Recorder()
    pushed = threading.Event()
    # Job names of their own: PostgreSQL advisory locks are shared by every test on the server.
    spec = JobSpec("push-worker-test", lambda: pushed.set() or "pushed")
    jobs = dataclasses.replace(
        recorder.jobs(), sync=recorder.spec("sync-worker-test"), notify=recorder.spec("notify-worker-test")
    )
    stopping = threading.Event()
    worker = PushWorker(make_runner(engine, sessions, clock), spec, threading.Lock(), stopping).start()
    try:
        scheduler_module.run_sync_then_notify(make_runner(engine, sessions, clock), jobs, worker)
        assert (
            recorder.calls["sync-worker-test"] == 1 and recorder.calls["notify-worker-test"] == 1
        )  # the sync did not wait
        assert pushed.wait(10)
    finally:
        stopping.set()
        worker.join(5)


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="advisory locks exist on PostgreSQL only")
def test_advisory_locks_of_two_schemas_do_not_block_each_other(engine, tmp_path):
    from core.db import make_engine
    from tests.conftest import fresh_database

    with fresh_database(tmp_path) as other_url:
        other = make_engine(other_url)
        try:
            with job_lock(engine, "sync", holder="a") as here:
                with job_lock(other, "sync", holder="b") as there, job_lock(engine, "sync", holder="c") as again:
                    assert here and there  # one deployment per schema: each holds its own job
                    assert not again  # the same schema: still one holder at a time
        finally:
            other.dispose()
