"""`wif digest [--dry-run]`: the daily e-mail to each service's agents."""
from __future__ import annotations

import argparse
import logging

from core.settings import ConfigError, Settings
from jobs.verbs.notify import open_sessions, utc_now
from notifications.digest import plan_digests, run_digest, service_emails
from mail.mailer import make_mailer
from notifications.settings import load_notify_settings

HELP = "E-mail each service its daily digest of dossiers to handle."

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="print each service's digest counts; send nothing")


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        config = load_notify_settings()
        factory = open_sessions(settings)
        emails = service_emails(config.service_emails)
        if args.dry_run:
            with factory() as session:
                contexts = plan_digests(session, utc_now(), config)
            for service, context in contexts.items():
                destination = "address known" if emails.get(service) else "NO ADDRESS"
                print(f"would send: {service}: {len(context.waiting)} waiting, {len(context.alerts)} alerts ({destination})")
            print(f"digest (dry run): {len(contexts)} service(s)")
            return 0
        mailer = make_mailer(config.smtp_url, config.outbox_dir)
    except ConfigError as error:
        print(f"wif digest: configuration error: {error}")
        return 2
    try:
        report = run_digest(factory, mailer, utc_now(), config, emails)
    finally:
        mailer.close()
    log.info("digest: %s", report.summary())
    print(f"digest: {report.summary()}")
    return 1 if report.delivery.unavailable else 0
