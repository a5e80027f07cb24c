"""`wif digest [--dry-run]`: the daily e-mail to each service's agents."""
from __future__ import annotations

import argparse

from core.settings import Settings
from jobs.runtime import open_database
from jobs.verbs.notify import utc_now
from mail.mailer import make_mailer
from notifications.digest import plan_digests, recipients, run_digest

HELP = "E-mail each service its daily digest of dossiers to handle."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="print each service's digest counts; send nothing")


def run(args: argparse.Namespace, settings: Settings) -> int:
    # SMTP_URL was checked when the settings were loaded.
    mailer = None if args.dry_run else make_mailer(settings.mail.smtp_url, settings.mail.outbox_dir)
    sessions = open_database(settings)[1]
    emails = recipients(settings)
    if mailer is None:
        with sessions() as session:
            contexts = plan_digests(session, utc_now(), settings)
        for service, context in contexts.items():
            destination = "address known" if emails.get(service) else "NO ADDRESS"
            print(f"would send: {service}: {len(context.waiting)} waiting, {len(context.alerts)} alerts ({destination})")
        print(f"digest (dry run): {len(contexts)} service(s)")
        return 0
    try:
        report = run_digest(sessions, mailer, utc_now(), settings, emails)
    finally:
        mailer.close()
    print(f"digest: {report.summary()}")
    return 1 if report.delivery.unavailable else 0
