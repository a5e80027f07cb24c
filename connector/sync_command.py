"""`wif sync`: poll DS and update the local copy of every dossier."""
from __future__ import annotations

import argparse
import logging
import sys
from datetime import timedelta

from connector import errors
from core.settings import Settings
from core.jobruns import recorded_run
from connector.push import PushStopped
from connector.push_command import run_push
from connector.runtime import ds_endpoint, make_client, open_database
from connector.sync import SyncSummary, Syncer
from core.clock import paris_today
from mappings.pipeline import Evaluator

log = logging.getLogger(__name__)

EXIT_CODES = (
    (errors.DSAuthenticationError, 3),
    (errors.DSNotFound, 4),
    (errors.DSForbidden, 4),
    (errors.DSUnavailable, 5),
    (errors.DSError, 6),
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--demarche", type=int, action="append", help="démarche number (default: DS_DEMARCHE_NUMBER)")
    parser.add_argument("--full", action="store_true", help="rebuild from scratch: re-read and re-evaluate every dossier")
    parser.add_argument("--rescan", action="store_true", help="force the overlap re-scan now")
    parser.add_argument("--dry-run", action="store_true", help="fetch and evaluate, write nothing")
    parser.add_argument("--no-push", action="store_true", help="do not push results back to DS after the sync")
    parser.add_argument("--sandbox-dossiers", type=int, default=300, help="size of the embedded sandbox (no DS_API_URL)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        with ds_endpoint(settings, dossiers=args.sandbox_dossiers) as settings:
            summaries = run_sync(
                settings,
                demarches=tuple(args.demarche or settings.demarche_numbers),
                full=args.full,
                force_rescan=args.rescan,
                dry_run=args.dry_run,
                push=not args.no_push,
            )
    except PushStopped as error:
        print(f"wif sync: synced, but {error}", file=sys.stderr)
        return 7
    except errors.DSError as error:
        print(f"wif sync: {error}", file=sys.stderr)
        return next(code for kind, code in EXIT_CODES if isinstance(error, kind))
    for summary in summaries:
        print(summary.line() + (" (dry run: nothing written)" if args.dry_run else ""))
        if summary.push_line:
            print(summary.push_line)
    return 0


def run_sync(
    settings: Settings,
    *,
    demarches: tuple[int, ...] | None = None,
    full: bool = False,
    force_rescan: bool = False,
    dry_run: bool = False,
    push: bool = True,
) -> list[SyncSummary]:
    """Sync every démarche (and push back, when enabled). Used by the CLI and the scheduler."""
    engine, sessions = open_database(settings)
    summaries = []
    try:
        with make_client(settings) as client, recorded_run(sessions, "sync") as job:
            syncer = Syncer(
                client=client,
                sessions=sessions,
                evaluate=Evaluator.default(settings.routing_key),
                page_size=settings.page_size,
                rescan_every=timedelta(hours=settings.rescan_every_hours),
                rescan_overlap=timedelta(minutes=settings.rescan_overlap_minutes),
                dry_run=dry_run,
                progress=_progress_printer() if sys.stderr.isatty() else None,
                after_page=validity_refresher(),
            )
            for number in demarches or settings.demarche_numbers:
                summaries.append(syncer.sync(number, full=full, force_rescan=force_rescan))
            job.summary = "; ".join(s.line() for s in summaries)
            if push and settings.push_enabled and not dry_run:
                pushes = run_push(
                    settings, demarches=demarches, client=client,
                    pass_to_instruction=settings.pass_to_instruction, disable_notification=settings.disable_notification,
                )
                for summary, pushed in zip(summaries, pushes):
                    summary.push_line = pushed.line()
    finally:
        engine.dispose()
    return summaries


def validity_refresher():
    """Keep the public validity records in step with each page, when a pepper
    is configured (without one the records could not be looked up anyway)."""
    from validity.config import PepperMissing, load_pepper
    from validity.store import refresh_validity

    try:
        pepper = load_pepper()
    except PepperMissing:
        log.info("WIF_VALIDITY_PEPPER is not set: the public validity records are not maintained")
        return None
    return lambda session, numbers: refresh_validity(session, numbers, paris_today(), pepper=pepper)


def _progress_printer():
    def show(summary: SyncSummary) -> None:
        sys.stderr.write(
            f"\rdémarche {summary.demarche_number}: {summary.pages} pages, {summary.fetched} dossiers "
            f"({summary.created} new, {summary.updated} updated)"
        )
        sys.stderr.flush()

    return show
