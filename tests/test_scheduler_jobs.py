"""The scheduler's real jobs: `default_jobs` runs the `wif` verbs themselves,
against the embedded DS sandbox, a real SMTP server and a real database.

`test_scheduler.py` drives the timing with a fake clock and fake actions;
this file checks that what the timing triggers is the real thing.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from core.db import Database
from core.jobruns import FAILED, OK
from core.models import Dossier, JobRun, Notification, PushOutbox
from core.settings import DSSettings, MailSettings, NotifySettings, ScheduleSettings, Settings
from jobs.runner import JobRunner
from jobs.scheduler import default_jobs, run_sync_then_notify


@pytest.fixture
def scheduled(database_url, smtp_server, tmp_path, monkeypatch):
    _handler, smtp_url = smtp_server
    monkeypatch.setattr("jobs.runtime.EMBEDDED_SANDBOX_DOSSIERS", 80)  # the embedded sandbox, smaller
    settings = Settings(
        database_url=database_url,
        ds=DSSettings(sandbox_any_database=True),  # the embedded sandbox on the test's database
        mail=MailSettings(smtp_url=smtp_url),
        # Old synthetic dossiers too: the first run must have something to say.
        notify=NotifySettings(templates="all", recent_days=3650),
        schedule=ScheduleSettings(stats_args=("--out", str(tmp_path / "site"))),
    )
    with Database(database_url) as database:
        yield settings, JobRunner(database.engine, database.sessions), database, tmp_path


def runs(sessions) -> dict[str, tuple[str, str]]:
    with sessions() as session:
        return {
            run.job: (run.outcome, run.summary or "") for run in session.scalars(select(JobRun).order_by(JobRun.id))
        }


def test_sync_then_notify_runs_the_verbs(scheduled, smtp_server):
    settings, runner, database, _ = scheduled
    sessions = database.sessions
    handler, _ = smtp_server
    jobs = default_jobs(settings, database)
    run_sync_then_notify(runner, jobs)

    recorded = runs(sessions)
    assert recorded["sync"][0] == OK and recorded["notify"][0] == OK
    # The summary is what the verb printed: the sync line, then what push did.
    assert "fetched" in recorded["sync"][1] and "push démarche" in recorded["sync"][1]
    assert recorded["notify"][1].startswith("notify: due=")
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Dossier)) > 50
        assert session.scalar(select(func.count()).select_from(PushOutbox).where(PushOutbox.status == "delivered")) > 0
        sent = session.scalar(select(func.count()).select_from(Notification).where(Notification.status == "sent"))
    assert sent > 0 and len(handler.received) == sent


def test_digest_stats_and_report_run_the_verbs(scheduled):
    settings, runner, database, tmp_path = scheduled
    sessions = database.sessions
    jobs = default_jobs(settings, database)
    runner.run(jobs.sync)
    assert runner.run(jobs.stats) == OK
    assert (tmp_path / "site" / "index.html").stat().st_size > 1000
    assert runner.run(jobs.digest) == OK
    assert runner.run(jobs.report(date(2026, 12, 1))) == OK
    recorded = runs(sessions)
    assert recorded["digest"][1].startswith("digest: ")
    assert "monthly reports 2026-11" in recorded["report"][1]


def test_a_verb_that_fails_fails_its_job_with_its_output(scheduled):
    settings, runner, database, _ = scheduled
    sessions = database.sessions
    # An unreachable DS: `wif sync` exits non-zero after its retries, and says why.
    broken = Settings(
        database_url=settings.database_url,
        ds=type(settings.ds)(api_url="http://127.0.0.1:9/api/v2/graphql", api_token="t", max_retries=0),
    )
    assert runner.run(default_jobs(broken, database).sync) == FAILED
    outcome, summary = runs(sessions)["sync"]
    assert outcome == FAILED and "wif sync exited with 5" in summary and "DS did not answer" in summary
