"""`wif sync`: poll DS and update the local copy of every dossier, then push back."""
from __future__ import annotations

import argparse
import sys

from connector import errors
from connector.pagination import CursorLoopError, PageInconsistent
from connector.push import PushStopped
from core.settings import Settings
from jobs.binding import NOT_BOUND_EXIT, NotBound, bind_embedded_sandbox
from jobs.pipeline import run_sync
from jobs.verbs.push import HELD_EXIT
from jobs import runtime
from jobs.runtime import ds_endpoint

HELP = "Poll DS and update the local copy of every dossier."

EXIT_CODES = (
    (errors.DSAuthenticationError, 3),
    (errors.DSNotFound, 4),
    (errors.DSForbidden, 4),
    (errors.DSUnavailable, 5),
    (CursorLoopError, 9),
    (PageInconsistent, 11),
    (errors.DSError, 6),
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--demarche", type=int, action="append", help="démarche number (default: DS_DEMARCHE_NUMBER)")
    parser.add_argument("--full", action="store_true", help="rebuild from scratch: re-read and re-evaluate every dossier")
    parser.add_argument("--rescan", action="store_true", help="force the overlap re-scan now")
    parser.add_argument("--dry-run", action="store_true", help="fetch and evaluate, write nothing")
    parser.add_argument("--no-push", action="store_true", help="do not push results back to DS after the sync")
    parser.add_argument("--force", action="store_true",
                        help="push even when the circuit breaker holds the run (more messages than WIF_PUSH_MAX_MESSAGE_SHARE)")
    parser.add_argument("--sandbox-dossiers", type=int, default=runtime.EMBEDDED_SANDBOX_DOSSIERS,
                        help="size of the embedded sandbox (no DS_API_URL)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    embedded = settings.uses_sandbox
    try:
        with ds_endpoint(settings, dossiers=args.sandbox_dossiers) as settings:
            if embedded:
                bind_embedded_sandbox(settings, sys.stdout)
            summaries = run_sync(
                settings,
                demarches=tuple(args.demarche or settings.ds.demarche_numbers),
                full=args.full,
                force_rescan=args.rescan,
                dry_run=args.dry_run,
                push=not args.no_push,
                force=args.force,
            )
    except NotBound as error:
        print(f"wif sync: {error}", file=sys.stderr)
        return NOT_BOUND_EXIT
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
    return HELD_EXIT if any(s.push_held for s in summaries) else 0
