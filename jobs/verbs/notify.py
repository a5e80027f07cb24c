"""`wif notify [--dry-run]`: e-mail applicants and employers what is due."""
from __future__ import annotations

import argparse
from datetime import datetime, timezone

from core.settings import Settings
from jobs.runtime import open_database
from mail.mailer import make_mailer
from notifications.notify import print_plan, run_notify

HELP = "E-mail applicants and employers the steps of their request."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="print what would be sent; send and record nothing")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def run(args: argparse.Namespace, settings: Settings) -> int:
    # WIF_NOTIFY_TEMPLATES and SMTP_URL were checked when the settings were loaded.
    mailer = None if args.dry_run else make_mailer(settings.mail.smtp_url, settings.mail.outbox_dir)
    sessions = open_database(settings)[1]
    if mailer is None:
        return print_plan(sessions, utc_now(), settings)
    try:
        report = run_notify(sessions, mailer, utc_now(), settings)
    finally:
        mailer.close()
    print(f"notify: {report.summary()}")
    return 1 if report.delivery.unavailable else 0
