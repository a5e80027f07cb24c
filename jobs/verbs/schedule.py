"""`wif schedule`: the long-running scheduler (see jobs.scheduler)."""
from __future__ import annotations

import argparse
from datetime import timedelta

import schedule

from core.settings import Settings
from jobs.runner import JobRunner
import threading

from jobs.scheduler import HintWorker, PushWorker, SchedulerLoop, default_jobs, install, run_sync_then_notify

HELP = "Run every job on its schedule until stopped (SIGTERM)."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="print the jobs and their next run, then exit")
    parser.add_argument("--no-initial-sync", action="store_true", help="wait for the first interval before syncing")


def unreached_now(engine, settings: Settings) -> list[str]:
    """Dossiers no digest nor report will reach (notifications.digest.unreached); none before the first sync."""
    from sqlalchemy import inspect

    from core.db import session_factory
    from notifications.digest import unreached, unreached_lines

    if not inspect(engine).has_table("dossiers"):
        return []
    with session_factory(engine)() as session:
        return unreached_lines(unreached(session, settings))


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
    push_lock = threading.Lock()
    push_worker = PushWorker(runner, jobs.push, push_lock, loop.stopping) if jobs.push else None
    install(scheduler, runner, jobs, timing, push_worker)
    for line in unreached_now(engine, settings):
        print(line)
    if args.dry_run:
        print(f"sync + notify every {timing.sync_every_minutes} min; digest at {timing.digest_at}; "
              f"stats at {timing.stats_at}; monthly report on the 1st at {timing.report_at} (host local time)")
        for job in scheduler.get_jobs():
            print(f"  {sorted(job.tags)[0]:<7} next run {job.next_run:%Y-%m-%d %H:%M}")
        if push_worker:
            print("  push    after each sync, on its own thread")
        if settings.webhooks.enabled and not settings.uses_sandbox:
            print(f"  hints   every {settings.webhooks.hint_poll_seconds:g} s (dossiers DS's webhooks pointed at)")
        return 0
    init_sentry(settings)
    upgrade(engine)  # schema up to date before the first job
    loop.install_signal_handlers()
    workers = [push_worker] if push_worker else []
    if settings.webhooks.enabled and not settings.uses_sandbox:
        workers.append(HintWorker(settings, engine, session_factory(engine), push_lock, loop.stopping))
    for worker in workers:
        worker.start()
    if not args.no_initial_sync:
        run_sync_then_notify(runner, jobs, push_worker)
    loop.run_forever()
    for worker in workers:
        worker.join(timeout=60)
    return 0
