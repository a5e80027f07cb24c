"""`wif schedule`: the long-running scheduler (see jobs.scheduler)."""

from __future__ import annotations

import argparse
import logging
from datetime import datetime

import schedule

from core.db import Database
from core.settings import Settings
from jobs.result import Result
from jobs.runner import JobSpec
from jobs.scheduler import Jobs, hints_enabled, install, next_runs, run_scheduler
from notifications.digest import unreached, unreached_lines

HELP = "Run every job on its schedule until stopped (SIGTERM)."

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="print the jobs and their next run, then exit")
    parser.add_argument("--no-initial-sync", action="store_true", help="wait for the first interval before syncing")


def unreached_now(database_url: str, settings: Settings) -> list[str]:
    """Dossiers no digest nor report will reach (notifications.digest.unreached); none before the first sync.
    Read without migrating: a dry run changes nothing."""
    from sqlalchemy import inspect

    from core.db import make_engine, session_factory
    from notifications.digest import unreached, unreached_lines

    engine = make_engine(database_url)
    try:
        if not inspect(engine).has_table("dossiers"):
            return []
        with session_factory(engine)() as session:
            return unreached_lines(unreached(session, settings))
    finally:
        engine.dispose()


def run(args: argparse.Namespace, settings: Settings, database: Database) -> Result:
    if args.dry_run:
        return Result(lines=unreached_now(settings.database_url, settings) + plan(settings))
    with database.sessions() as session:  # opened and migrated here, in the main thread, before any job
        for line in unreached_lines(unreached(session, settings)):
            log.warning("%s", line)
    run_scheduler(settings, database, initial_sync=not args.no_initial_sync)
    return Result()


def plan(settings: Settings) -> list[str]:
    """The jobs and their next run, in the configured zone; nothing runs, the database is not opened."""
    timing = settings.schedule
    scheduler = schedule.Scheduler()
    idle = JobSpec("dry-run", lambda: None)
    nothing = Jobs(idle, idle, idle, idle, report=lambda today: idle)
    install(scheduler, _NoRunner(), nothing, timing)
    lines = [
        f"sync + notify every {timing.sync_every_minutes} min; digest at {timing.digest_at}; "
        f"stats at {timing.stats_at}; monthly report on the 1st at {timing.report_at} ({timing.timezone})"
    ]
    lines += [f"  {tag:<7} next run {when:%Y-%m-%d %H:%M %Z}" for tag, when in next_runs(scheduler, timing.timezone)]
    if settings.push.enabled and not settings.uses_sandbox:
        lines.append("  push    after each sync, on its own thread")
    if hints_enabled(settings):
        lines.append(f"  hints   every {settings.webhooks.hint_poll_seconds:g} s (dossiers DS's webhooks pointed at)")
    return lines


class _NoRunner:
    """The dry run's runner: it lists the jobs, runs none."""

    @staticmethod
    def clock() -> datetime:  # pragma: no cover - never called by a dry run
        raise AssertionError("a dry run reads no clock")

    def run(self, spec: JobSpec) -> str:  # pragma: no cover - never called by a dry run
        raise AssertionError("a dry run runs no job")
