"""`wif notify [--dry-run]`: e-mail applicants and employers what is due."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from core.db import Database
from core.errors import ExitCode
from core.settings import Settings
from jobs.alerts import send_unknown_champs_alert
from jobs.result import Result
from mail.mailer import make_mailer
from notifications.notify import plan_lines, run_notify

HELP = "E-mail applicants and employers the steps of their request."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="print what would be sent; send and record nothing")


def utc_now() -> datetime:
    return datetime.now(UTC)


def run(args: argparse.Namespace, settings: Settings, database: Database) -> Result:
    # WIF_NOTIFY_TEMPLATES and SMTP_URL were checked when the settings were loaded.
    if args.dry_run:
        return Result(lines=plan_lines(database.sessions, utc_now(), settings))
    mailer = make_mailer(settings.mail.smtp_url, settings.mail.outbox_dir)
    try:
        report = run_notify(database.sessions, mailer, utc_now(), settings)
        send_unknown_champs_alert(database.sessions, mailer, utc_now(), settings)
    finally:
        mailer.close()
    result = Result(lines=[f"notify: {report.summary()}"])
    if report.delivery.unavailable:
        result.exit_code = ExitCode.FAILED
    return result
