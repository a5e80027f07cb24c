"""`wif digest [--dry-run]`: the daily e-mail to each service's agents."""

from __future__ import annotations

import argparse

from core.db import Database
from core.errors import ExitCode
from core.settings import Settings
from jobs.result import Result
from jobs.verbs.notify import utc_now
from mail.mailer import make_mailer
from notifications.digest import plan_digests, recipients, run_digest

HELP = "E-mail each service its daily digest of dossiers to handle."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="print each service's digest counts; send nothing")


def run(args: argparse.Namespace, settings: Settings, database: Database) -> Result:
    # SMTP_URL was checked when the settings were loaded.
    mailer = None if args.dry_run else make_mailer(settings.mail.smtp_url, settings.mail.outbox_dir)
    emails = recipients(settings)
    result = Result()
    if mailer is None:
        with database.sessions() as session:
            contexts = plan_digests(session, utc_now(), settings)
        for service, context in contexts.items():
            destination = "address known" if emails.get(service) else "NO ADDRESS"
            result.say(
                f"would send: {service}: {len(context.waiting)} waiting, {len(context.alerts)} alerts ({destination})"
            )
        result.say(f"digest (dry run): {len(contexts)} service(s)")
        return result
    try:
        report = run_digest(database.sessions, mailer, utc_now(), settings, emails)
    finally:
        mailer.close()
    result.say(f"digest: {report.summary()}")
    if report.delivery.unavailable:
        result.exit_code = ExitCode.FAILED
    return result
