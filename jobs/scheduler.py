"""`wif schedule`: the long-running scheduler.

sync every N minutes and notify after each sync; push on a thread of its
own after each sync (`PushWorker`), so a long push never delays the next
poll (both draw on the token's one budget, sync first); the dossiers DS's
webhooks point at fetched and pushed within seconds (`HintWorker`);
digest and stats daily; the monthly report on the 1st. Daily times are in
the configured zone (TZ, default Europe/Paris), whatever the host's. The
`schedule.Scheduler`, the clock and the sync interval are injected so tests
drive it with a fake clock or cycles of seconds.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

import schedule

from core.clock import previous_month
from core.db import Database
from core.settings import ScheduleSettings, Settings
from jobs.result import execute
from jobs.runner import LOCKED, JobFailed, JobRunner, JobSkipped, JobSpec, utc_now

if TYPE_CHECKING:
    from sentry_sdk._types import MonitorConfig

log = logging.getLogger(__name__)


def run_verb(name: str, argv: list[str], settings: Settings, database: Database) -> str:
    """Run a `wif` verb in-process, as the scheduler only calls verbs; its result's lines are the job's summary."""
    from jobs.cli import VERBS

    if name not in VERBS:
        raise JobSkipped(f"`wif {name}` is not installed")
    verb = VERBS[name]
    parser = argparse.ArgumentParser(prog=f"wif {name}")
    verb.configure(parser)
    args = parser.parse_args(argv)
    args.command = name
    result = execute(f"wif {name}", verb, args, settings, database)
    if result.exit_code != 0:
        raise JobFailed(f"wif {name} exited with {result.exit_code}: {result.summary or 'no message'}")
    return result.summary or f"wif {name} ok"


@dataclass(frozen=True)
class Jobs:
    sync: JobSpec
    notify: JobSpec
    digest: JobSpec
    stats: JobSpec
    report: Callable[[date], JobSpec]  # the month depends on the day it runs
    push: JobSpec | None = None  # None: the sync pushes itself (embedded sandbox, or push disabled)


def _interval_monitor(minutes: int) -> MonitorConfig:
    return {"schedule": {"type": "interval", "value": minutes, "unit": "minute"}, "checkin_margin": minutes}


def _crontab_monitor(at: str, timezone: str, day_of_month: str = "*") -> MonitorConfig:
    hours, minutes = at.split(":")
    return {
        "schedule": {"type": "crontab", "value": f"{int(minutes)} {int(hours)} {day_of_month} * *"},
        "timezone": timezone,
        "checkin_margin": 30,
    }


def _verb(name: str, argv: list[str], settings: Settings, database: Database) -> Callable[[], str]:
    return lambda: run_verb(name, argv, settings, database)


def default_jobs(settings: Settings, database: Database) -> Jobs:
    """Each job is a `wif` verb: the scheduler adds locks, job runs and monitoring, nothing else.
    Without DS_API_URL, each sync runs against a fresh embedded sandbox, as `wif sync` does."""
    timing = settings.schedule
    every = _interval_monitor(timing.sync_every_minutes)
    # Against the embedded sandbox each verb gets a fresh one: the sync must push it itself.
    separate_push = settings.push.enabled and not settings.uses_sandbox
    return Jobs(
        sync=JobSpec("sync", _verb("sync", ["--no-push"] if separate_push else [], settings, database), every),
        push=JobSpec("push", _verb("push", [], settings, database), every) if separate_push else None,
        notify=JobSpec("notify", _verb("notify", [], settings, database), every),
        digest=JobSpec(
            "digest", _verb("digest", [], settings, database), _crontab_monitor(timing.digest_at, timing.timezone)
        ),
        stats=JobSpec(
            "stats",
            _verb("stats", list(timing.stats_args), settings, database),
            _crontab_monitor(timing.stats_at, timing.timezone),
        ),
        report=lambda today: JobSpec(
            "report",
            _verb("report", ["--month", previous_month(today), "--send"], settings, database),
            _crontab_monitor(timing.report_at, timing.timezone, "1"),
        ),
    )


def run_sync_then_notify(runner: JobRunner, jobs: Jobs, push_worker: PushWorker | None = None) -> None:
    # Notify even after a failed sync: retries of the outbox do not need DS.
    if runner.run(jobs.sync) != LOCKED:
        if push_worker is not None:
            push_worker.request()
        runner.run(jobs.notify)


def run_monthly_report(runner: JobRunner, jobs: Jobs, clock: Callable[[], datetime], zone: str) -> None:
    today = clock().astimezone(ZoneInfo(zone)).date()
    if today.day == 1:
        runner.run(jobs.report(today))


class Runner(Protocol):
    """What `install` puts the jobs on: a JobRunner, or the stand-in of a dry run."""

    def run(self, spec: JobSpec) -> str: ...

    @property
    def clock(self) -> Callable[[], datetime]: ...


def install(
    scheduler: schedule.Scheduler,
    runner: Runner,
    jobs: Jobs,
    timing: ScheduleSettings,
    push_worker: PushWorker | None = None,
    sync_every: timedelta | None = None,
) -> None:
    """The jobs on their clock: the daily ones at their time in `timing.timezone`, whatever the host's zone;
    `sync_every` (default: `timing.sync_every_minutes`) lets a test run cycles of seconds."""
    every = sync_every or timedelta(minutes=timing.sync_every_minutes)
    zone = timing.timezone
    # `schedule` annotates an int, yet counts in a timedelta: a test's cycle of seconds may be a fraction.
    sync = scheduler.every(every.total_seconds())  # type: ignore[arg-type]
    sync.seconds.do(run_sync_then_notify, runner, jobs, push_worker).tag("sync")
    scheduler.every().day.at(timing.digest_at, zone).do(runner.run, jobs.digest).tag("digest")
    scheduler.every().day.at(timing.stats_at, zone).do(runner.run, jobs.stats).tag("stats")
    scheduler.every().day.at(timing.report_at, zone).do(run_monthly_report, runner, jobs, runner.clock, zone).tag(
        "report"
    )


def next_runs(scheduler: schedule.Scheduler, zone: str) -> list[tuple[str, datetime]]:
    """Each job's next run in `zone`; the monthly report's is the next 1st of a month (it checks the day daily)."""
    tz = ZoneInfo(zone)
    runs = []
    for job in scheduler.get_jobs():
        if job.next_run is None:  # not scheduled yet: no run to tell
            continue
        tag = sorted(str(t) for t in job.tags)[0]
        when = job.next_run.astimezone(tz)  # `schedule` keeps naive host-local times
        while tag == "report" and when.day != 1:
            when = (when + timedelta(days=1)).replace(hour=when.hour, minute=when.minute)
        runs.append((tag, when))
    return runs


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


class PushWorker:
    """Runs the push job on a thread of its own, when a sync asks for it. A
    request made while a push runs starts one more push after it."""

    def __init__(self, runner: JobRunner, spec: JobSpec, lock: threading.Lock, stopping: threading.Event):
        self.runner, self.spec, self.lock, self.stopping = runner, spec, lock, stopping
        self._wanted = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wif-push", daemon=True)

    def request(self) -> None:
        self._wanted.set()

    def start(self) -> PushWorker:
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self.stopping.is_set():
            if not self._wanted.wait(1.0):
                continue
            self._wanted.clear()
            with self.lock:
                self.runner.run(self.spec)


# An unbound démarche waits for `wif procedure bind`: asking DS again every few seconds would only repeat the refusal.
NOT_BOUND_RETRY_SECONDS = 300.0


class HintWorker:
    """Every few seconds: the dossiers DS's webhooks pointed at are fetched,
    checked and pushed (`jobs.pipeline.run_hints`). One push at a time in the
    process (`lock`, shared with the push job) and across processes (the
    push job's database lock)."""

    def __init__(
        self,
        settings: Settings,
        engine,
        sessions,
        lock: threading.Lock,
        stopping: threading.Event,
        clock: Callable[[], datetime] | None = None,
    ):
        from connector.webhooks import HintInbox

        self.settings, self.engine, self.sessions, self.lock, self.stopping = settings, engine, sessions, lock, stopping
        self.inbox = HintInbox(sessions)
        from core.clock import utcnow

        self.clock = clock or utcnow
        self.every = settings.webhooks.hint_poll_seconds
        self._thread = threading.Thread(target=self._run, name="wif-hints", daemon=True)

    def start(self) -> HintWorker:
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def run_once(self) -> list[str]:
        from jobs.locks import job_lock
        from jobs.pipeline import run_hints

        hints = self.inbox.pending()
        if not hints:
            return []
        with self.lock, job_lock(self.engine, "push") as acquired:
            if not acquired:
                return []  # another process pushes: the hints wait a second
            started = self.clock()
            lines = run_hints(self.settings, self.sessions, hints)
            self.inbox.handled(hints, started)
        for line in lines:
            log.info("%s", line)
        return lines

    def attempt(self) -> float:
        """One round of `run_once`; returns the seconds to wait before the next."""
        from jobs.binding import NotBound

        try:
            self.run_once()
            return self.every
        except NotBound as refusal:
            # An operator's step, not a fault: one line, and the hints wait for the bind.
            log.error("webhook hints: %s", refusal)
            return NOT_BOUND_RETRY_SECONDS
        except Exception:  # noqa: BLE001 - the poll will catch up; try again later
            log.exception("webhook hints: fetch or push failed, retrying in 30 s")
            return 30.0

    def _run(self) -> None:
        wait: float = self.every
        while not self.stopping.wait(wait):
            wait = self.attempt()


def run_scheduler(
    settings: Settings,
    database: Database,
    *,
    initial_sync: bool = True,
    sync_every: timedelta | None = None,
    loop: SchedulerLoop | None = None,
    clock: Callable[[], datetime] | None = None,
) -> None:
    """`wif schedule` until stopped. The database is opened and migrated here, in the calling (main) thread,
    before any job or worker thread starts: no job thread ever touches Alembic."""
    from jobs.observability import init_sentry

    timing = settings.schedule
    database.open()
    loop = loop or SchedulerLoop(schedule.Scheduler())
    runner = JobRunner(
        database.engine,
        database.sessions,
        lock_ttl=timedelta(minutes=timing.job_lock_ttl_minutes),
        should_stop=loop.stopping.is_set,
        clock=clock or utc_now,
    )
    jobs = default_jobs(settings, database)
    push_lock = threading.Lock()
    push_worker = PushWorker(runner, jobs.push, push_lock, loop.stopping) if jobs.push else None
    install(loop.scheduler, runner, jobs, timing, push_worker, sync_every)
    init_sentry(settings)
    if threading.current_thread() is threading.main_thread():
        loop.install_signal_handlers()
    workers: list = [push_worker] if push_worker else []
    if hints_enabled(settings):
        workers.append(HintWorker(settings, database.engine, database.sessions, push_lock, loop.stopping))
    for worker in workers:
        worker.start()
    if initial_sync:
        run_sync_then_notify(runner, jobs, push_worker)
    loop.run_forever()
    for worker in workers:
        worker.join(timeout=60)


def hints_enabled(settings: Settings) -> bool:
    return settings.webhooks.enabled and not settings.uses_sandbox
