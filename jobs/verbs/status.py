"""`wif status`: last run of each job, watermark per démarche, outbox backlogs."""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from core.jobruns import close_interrupted
from core.settings import Settings
from jobs.runtime import open_database
from jobs.status import collect_status, format_status

HELP = "Show the last run of each job, sync watermarks and outbox backlogs."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the status as JSON")
    parser.add_argument("--fail-on-error", action="store_true", help="exit 1 when the last run of a job failed")


def run(args: argparse.Namespace, settings: Settings) -> int:
    _engine, sessions = open_database(settings)
    close_interrupted(sessions)  # a run killed while `running` shows as interrupted, not running for ever
    with sessions() as session:
        status = collect_status(session, settings.ds.demarche_numbers, settings)
    if args.json:
        print(json.dumps(asdict(status), default=str, indent=2))
    else:
        print(format_status(status))
    return 1 if args.fail_on_error and not status.healthy else 0
