"""`wif sync`: poll DS and update the local copy of every dossier, then push back."""

from __future__ import annotations

import argparse

from connector.push import PushStopped
from core.db import Database
from core.errors import ExitCode
from core.settings import Settings
from jobs import runtime
from jobs.binding import bind_embedded_sandbox
from jobs.pipeline import run_sync
from jobs.result import Result
from jobs.runtime import ds_endpoint

HELP = "Poll DS and update the local copy of every dossier."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--demarche", type=int, action="append", help="démarche number (default: DS_DEMARCHE_NUMBER)")
    parser.add_argument(
        "--full", action="store_true", help="rebuild from scratch: re-read and re-evaluate every dossier"
    )
    parser.add_argument("--rescan", action="store_true", help="force the overlap re-scan now")
    parser.add_argument("--dry-run", action="store_true", help="fetch and evaluate, write nothing")
    parser.add_argument("--no-push", action="store_true", help="do not push results back to DS after the sync")
    parser.add_argument(
        "--force",
        action="store_true",
        help="push even when the circuit breaker holds the run (more messages than WIF_PUSH_MAX_MESSAGE_SHARE)",
    )
    parser.add_argument(
        "--sandbox-dossiers",
        type=int,
        default=runtime.EMBEDDED_SANDBOX_DOSSIERS,
        help="size of the embedded sandbox (no DS_API_URL)",
    )


def run(args: argparse.Namespace, settings: Settings, database: Database) -> Result:
    result = Result()
    embedded = settings.uses_sandbox
    try:
        with ds_endpoint(settings, dossiers=args.sandbox_dossiers) as settings:
            if embedded:
                result.lines += bind_embedded_sandbox(settings, database.sessions)
            summaries = run_sync(
                settings,
                database.sessions,
                demarches=tuple(args.demarche or settings.ds.demarche_numbers),
                full=args.full,
                force_rescan=args.rescan,
                dry_run=args.dry_run,
                push=not args.no_push,
                force=args.force,
            )
    except PushStopped as error:
        return result.fail(f"wif sync: synced, but {error}", error.exit_code)
    for summary in summaries:
        result.say(summary.line() + (" (dry run: nothing written)" if args.dry_run else ""))
        result.count(fetched=summary.fetched, created=summary.created, updated=summary.updated)
        if summary.push_line:
            result.say(summary.push_line)
    if any(s.push_held for s in summaries):
        result.exit_code = ExitCode.HELD
    return result
