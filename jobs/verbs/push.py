"""`wif push`: write routing, annotations, labels and messages back to DS."""
from __future__ import annotations

import argparse
import sys

from connector.errors import DSError
from connector.push import PushStopped
from core.settings import Settings
from jobs.binding import NOT_BOUND_EXIT, NotBound, bind_embedded_sandbox
from jobs.pipeline import run_push
from jobs.runtime import ds_endpoint

HELP = "Push routing, annotations, labels and messages back to DS."
# The circuit breaker held a run: nothing was sent, `--force` sends it.
HELD_EXIT = 8


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--demarche", type=int, action="append", help="démarche number (default: DS_DEMARCHE_NUMBER)")
    parser.add_argument("--dry-run", action="store_true", help="print the planned mutations, send nothing")
    parser.add_argument("--all", action="store_true", dest="everything",
                        help="reconsider every dossier, not only those synced since the last complete push")
    parser.add_argument("--pass-to-instruction", action="store_true",
                        help="also pass complete dossiers en_construction to en_instruction (default: WIF_PASS_TO_INSTRUCTION)")
    parser.add_argument("--force", action="store_true",
                        help="send even when the circuit breaker holds the run (more messages than WIF_PUSH_MAX_MESSAGE_SHARE)")
    parser.add_argument("--disable-notification", action="store_true",
                        help="with --pass-to-instruction: DS sends no e-mail to the applicant (default: WIF_DISABLE_NOTIFICATION)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.push.enabled:
        print("wif push: disabled (WIF_PUSH_ENABLED=false): nothing is written to DS")
        return 0
    embedded = settings.uses_sandbox
    try:
        with ds_endpoint(settings) as settings:
            if embedded:
                bind_embedded_sandbox(settings, sys.stdout)
            summaries = run_push(
                settings,
                demarches=tuple(args.demarche or settings.ds.demarche_numbers),
                dry_run=args.dry_run,
                everything=args.everything,
                pass_to_instruction=args.pass_to_instruction or settings.push.pass_to_instruction,
                disable_notification=args.disable_notification or settings.push.disable_notification,
                announce=sys.stdout,
                force=args.force,
            )
    except NotBound as error:
        print(f"wif push: {error}", file=sys.stderr)
        return NOT_BOUND_EXIT
    except PushStopped as error:
        print(f"wif push: {error}", file=sys.stderr)
        return 7
    except DSError as error:
        print(f"wif push: {error}", file=sys.stderr)
        return 6
    for summary in summaries:
        print(summary.line() + (" (dry run: nothing sent)" if args.dry_run else ""))
    return HELD_EXIT if any(s.held for s in summaries) and not args.dry_run else 0
