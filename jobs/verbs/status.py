"""`wif status`: last run of each job, watermark per démarche, outbox backlogs."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from core.db import Database
from core.errors import ExitCode
from core.jobruns import close_interrupted
from core.settings import Settings
from jobs.result import Result
from jobs.status import collect_status, format_status

HELP = "Show the last run of each job, sync watermarks and outbox backlogs."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the status as JSON")
    parser.add_argument("--fail-on-error", action="store_true", help="exit 1 when the last run of a job failed")


def run(args: argparse.Namespace, settings: Settings, database: Database) -> Result:
    close_interrupted(database.sessions)  # a run killed while `running` shows as interrupted, not running for ever
    with database.sessions() as session:
        status = collect_status(session, settings.ds.demarche_numbers, settings)
    text = json.dumps(asdict(status), default=str, indent=2) if args.json else format_status(status)
    result = Result(lines=[text])
    if args.fail_on_error and not status.healthy:
        result.exit_code = ExitCode.FAILED
    return result
