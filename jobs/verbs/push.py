"""`wif push`: write routing, annotations, labels and messages back to DS."""

from __future__ import annotations

import argparse

from core.db import Database
from core.errors import ExitCode
from core.settings import Settings
from jobs.binding import bind_embedded_sandbox
from jobs.pipeline import run_push, say_on_terminal
from jobs.progress import on_terminal
from jobs.result import Result
from jobs.runtime import ds_endpoint

HELP = "Push routing, annotations, labels and messages back to DS."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--demarche", type=int, action="append", help="démarche number (default: DS_DEMARCHE_NUMBER)")
    parser.add_argument("--dry-run", action="store_true", help="print the planned mutations, send nothing")
    parser.add_argument(
        "--all",
        action="store_true",
        dest="everything",
        help="reconsider every dossier, not only those synced since the last complete push",
    )
    parser.add_argument(
        "--pass-to-instruction",
        action="store_true",
        help="also pass complete dossiers en_construction to en_instruction (default: WIF_PASS_TO_INSTRUCTION)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="send even when the circuit breaker holds the run (more messages than WIF_PUSH_MAX_MESSAGE_SHARE)",
    )
    parser.add_argument(
        "--disable-notification",
        action="store_true",
        help="with --pass-to-instruction: DS sends no e-mail to the applicant (default: WIF_DISABLE_NOTIFICATION)",
    )


def run(args: argparse.Namespace, settings: Settings, database: Database) -> Result:
    result = Result()
    if not settings.push.enabled:
        result.say("wif push: disabled (WIF_PUSH_ENABLED=false): nothing is written to DS")
        return result
    embedded = settings.uses_sandbox
    with ds_endpoint(settings) as settings:
        if embedded:
            result.lines += bind_embedded_sandbox(settings, database.sessions)
        summaries = run_push(
            settings,
            database.sessions,
            demarches=tuple(args.demarche or settings.ds.demarche_numbers),
            dry_run=args.dry_run,
            everything=args.everything,
            pass_to_instruction=args.pass_to_instruction or settings.push.pass_to_instruction,
            disable_notification=args.disable_notification or settings.push.disable_notification,
            # The forecast is for the person watching: at once on a terminal, else the first line of the result.
            announce=say_on_terminal if on_terminal() else result.say,
            force=args.force,
        )
    for summary in summaries:
        result.say(summary.line() + (" (dry run: nothing sent)" if args.dry_run else ""))
    if any(s.held for s in summaries) and not args.dry_run:
        result.exit_code = ExitCode.HELD
    return result
