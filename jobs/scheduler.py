"""`wif schedule`: the long-running scheduler.

sync (+ push, done by the sync) every N minutes and notify after each sync;
digest and stats daily; the monthly report on the 1st. Times are local
time of the host (set TZ=Europe/Paris). The `schedule.Scheduler`, the clock
and the wait function are injected so tests drive it with a fake clock.
"""
from __future__ import annotations

import argparse
import logging
import os
import shlex
import signal
import threading
from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable

import schedule
from sqlalchemy.orm import Session, sessionmaker

from core.clock import PARIS, previous_month
from core.settings import Settings
from jobs.runner import LOCKED, JobFailed, JobRunner, JobSkipped, JobSpec

log = logging.getLogger(__name__)



def run_verb(name: str, argv: list[str], settings: Settings) -> str:
    """Run a `wif` verb in-process, as the scheduler only calls verbs."""
    from jobs.cli import VERBS

    if name not in VERBS:
        raise JobSkipped(f"`wif {name}` is not installed")
    verb = VERBS[name]
    parser = argparse.ArgumentParser(prog=f"wif {name}")
    verb.configure(parser)
    args = parser.parse_args(argv)
    args.command = name
    code = verb.run(args, settings)
    if code != 0:
        raise JobFailed(f"wif {name} exited with {code}")
    return f"wif {name} ok"


def sync_action(settings: Settings) -> Callable[[], str | None]:
    def action():
        from jobs.pipeline import run_sync
        from jobs.runtime import ds_endpoint

        # run_sync also pushes (unless WIF_PUSH_ENABLED is off) and records its own JobRun.
        # Without DS_API_URL, each run syncs a fresh embedded sandbox, as `wif sync` does.
        with ds_endpoint(settings) as endpoint:
            summaries = run_sync(endpoint)
        return "; ".join(line for summary in summaries for line in summary.lines())

    return action


def mail_action(send: Callable) -> Callable[[], str | None]:
    """A job that e-mails: `send(mailer, config)` returns a report with a delivery."""
    def action():
        from mail.mailer import make_mailer
        from notifications.settings import load_notify_settings

        config = load_notify_settings()
        mailer = make_mailer(config.smtp_url, config.outbox_dir)
        try:
            report = send(mailer, config)
        finally:
            mailer.close()
        if report.delivery.unavailable:
            raise JobFailed(f"mail server unavailable; {report.summary()}")
        return report.summary()

    return action


def notify_action(sessions: sessionmaker[Session], clock: Callable[[], datetime]) -> Callable[[], str | None]:
    from notifications.notify import run_notify

    return mail_action(lambda mailer, config: run_notify(sessions, mailer, clock(), config))


def digest_action(sessions: sessionmaker[Session], clock: Callable[[], datetime]) -> Callable[[], str | None]:
    from notifications.digest import run_digest, service_emails

    return mail_action(lambda mailer, config: run_digest(sessions, mailer, clock(), config, service_emails(config.service_emails)))


@dataclass(frozen=True)
class Jobs:
    sync: JobSpec
    notify: JobSpec
    digest: JobSpec
    stats: JobSpec
    report: Callable[[date], JobSpec]  # the month depends on the day it runs


@dataclass(frozen=True)
class Timing:
    sync_every_minutes: int
    digest_at: str
    stats_at: str
    report_at: str


def _interval_monitor(minutes: int) -> dict:
    return {"schedule": {"type": "interval", "value": minutes, "unit": "minute"}, "checkin_margin": minutes}


def _crontab_monitor(at: str, day_of_month: str = "*", env=os.environ) -> dict:
    hours, minutes = at.split(":")
    return {
        "schedule": {"type": "crontab", "value": f"{int(minutes)} {int(hours)} {day_of_month} * *"},
        "timezone": env.get("TZ", "UTC"),
        "checkin_margin": 30,
    }


def default_jobs(
    settings: Settings, sessions: sessionmaker[Session], clock: Callable[[], datetime], timing: Timing, env=os.environ
) -> Jobs:
    stats_argv = shlex.split(env.get("WIF_STATS_ARGS", ""))
    every = _interval_monitor(timing.sync_every_minutes)
    return Jobs(
        sync=JobSpec("sync", sync_action(settings), every, records_run=False),
        notify=JobSpec("notify", notify_action(sessions, clock), every),
        digest=JobSpec("digest", digest_action(sessions, clock), _crontab_monitor(timing.digest_at, env=env)),
        stats=JobSpec("stats", lambda: run_verb("stats", stats_argv, settings), _crontab_monitor(timing.stats_at, env=env)),
        report=lambda today: JobSpec(
            "report", lambda: run_verb("report", ["--month", previous_month(today), "--send"], settings),
            _crontab_monitor(timing.report_at, "1", env=env),
        ),
    )


def run_sync_then_notify(runner: JobRunner, jobs: Jobs) -> None:
    # Notify even after a failed sync: retries of the outbox do not need DS.
    if runner.run(jobs.sync) != LOCKED:
        runner.run(jobs.notify)


def run_monthly_report(runner: JobRunner, jobs: Jobs, clock: Callable[[], datetime]) -> None:
    today = clock().astimezone(PARIS).date()
    if today.day == 1:
        runner.run(jobs.report(today))


def install(scheduler: schedule.Scheduler, runner: JobRunner, jobs: Jobs, timing: Timing) -> None:
    scheduler.every(timing.sync_every_minutes).minutes.do(run_sync_then_notify, runner, jobs).tag("sync")
    scheduler.every().day.at(timing.digest_at).do(runner.run, jobs.digest).tag("digest")
    scheduler.every().day.at(timing.stats_at).do(runner.run, jobs.stats).tag("stats")
    scheduler.every().day.at(timing.report_at).do(run_monthly_report, runner, jobs, runner.clock).tag("report")


class SchedulerLoop:
    """Runs pending jobs until stopped; a stop request ends the loop after the current job."""

    def __init__(self, scheduler: schedule.Scheduler, *, max_wait_seconds: float = 30.0):
        self.scheduler = scheduler
        self.max_wait_seconds = max_wait_seconds
        self.stopping = threading.Event()

    def request_stop(self, *_signal_args) -> None:
        log.info("stop requested: finishing the current job")
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)

    def run_forever(self) -> None:
        while not self.stopping.is_set():
            self.scheduler.run_pending()
            idle = self.scheduler.idle_seconds
            wait = self.max_wait_seconds if idle is None else min(max(idle, 0.0), self.max_wait_seconds)
            self.stopping.wait(wait)
        log.info("scheduler stopped")
