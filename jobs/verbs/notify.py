"""`wif notify [--dry-run]`: e-mail applicants and employers what is due."""
from __future__ import annotations

import argparse
import logging
from datetime import datetime, timezone

from sqlalchemy.orm import Session, sessionmaker

from core.settings import ConfigError, Settings
from mail.mailer import make_mailer
from notifications.notify import print_plan, run_notify
from notifications.settings import load_notify_settings

HELP = "E-mail applicants and employers the steps of their request."

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="print what would be sent; send and record nothing")


def open_sessions(settings: Settings) -> sessionmaker[Session]:
    from jobs.runtime import open_database

    return open_database(settings)[1]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        config = load_notify_settings()
        factory = open_sessions(settings)
        if args.dry_run:
            return print_plan(factory, utc_now(), config)
        mailer = make_mailer(config.smtp_url, config.outbox_dir)
    except ConfigError as error:
        print(f"wif notify: configuration error: {error}")
        return 2
    try:
        report = run_notify(factory, mailer, utc_now(), config)
    finally:
        mailer.close()
    log.info("notify: %s", report.summary())
    print(f"notify: {report.summary()}")
    return 1 if report.delivery.unavailable else 0
