"""`wif schedule`: the long-running scheduler (see jobs.scheduler)."""
from __future__ import annotations

import argparse
from datetime import timedelta

import schedule

from core.settings import Settings
from jobs.runner import JobRunner
from jobs.scheduler import SchedulerLoop, default_jobs, install, run_sync_then_notify

HELP = "Run every job on its schedule until stopped (SIGTERM)."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="print the jobs and their next run, then exit")
    parser.add_argument("--no-initial-sync", action="store_true", help="wait for the first interval before syncing")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from core.db import make_engine, session_factory, upgrade
    from jobs.observability import init_sentry

    timing = settings.schedule
    engine = make_engine(settings.database_url)
    scheduler = schedule.Scheduler()
    loop = SchedulerLoop(scheduler)
    runner = JobRunner(
        engine, session_factory(engine),
        lock_ttl=timedelta(minutes=timing.job_lock_ttl_minutes), should_stop=loop.stopping.is_set,
    )
    jobs = default_jobs(settings)
    install(scheduler, runner, jobs, timing)
    if args.dry_run:
        print(f"sync + notify every {timing.sync_every_minutes} min; digest at {timing.digest_at}; "
              f"stats at {timing.stats_at}; monthly report on the 1st at {timing.report_at} (host local time)")
        for job in scheduler.get_jobs():
            print(f"  {sorted(job.tags)[0]:<7} next run {job.next_run:%Y-%m-%d %H:%M}")
        return 0
    init_sentry(settings)
    upgrade(engine)  # schema up to date before the first job
    loop.install_signal_handlers()
    if not args.no_initial_sync:
        run_sync_then_notify(runner, jobs)
    loop.run_forever()
    return 0
