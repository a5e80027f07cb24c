"""`wif notify [--dry-run]`: e-mail applicants and employers what is due."""
from __future__ import annotations

import argparse
import logging
from datetime import datetime, timezone

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from core.settings import ConfigError, Settings
from mail.mailer import make_mailer
from notifications.notify import outbox_entry, plan, run_notify
from notifications.settings import NotifySettings, load_notify_settings
from core.models import Notification

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="print what would be sent; send and record nothing")


def open_sessions(settings: Settings) -> sessionmaker[Session]:
    from connector.runtime import open_database

    return open_database(settings)[1]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _known_keys(session: Session, keys: list[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    if not keys:
        return set()
    columns = (Notification.scope, Notification.event, Notification.recipient_hash)
    rows = session.execute(select(*columns).where(tuple_(*columns).in_(keys)))
    return {tuple(row) for row in rows}


def print_plan(factory: sessionmaker[Session], now: datetime, config: NotifySettings) -> int:
    with factory() as session:
        due = plan(session, now, config)
        keys = [(e.scope, e.event, e.recipient_hash) for e in map(outbox_entry, due)]
        known = _known_keys(session, keys)
    new = [item for item, key in zip(due, keys) if key not in known]
    for item in new:
        # Roles, not addresses: this output may end up in logs.
        print(f"would send: dossier {item.dossier_number} {item.occurrence.key} to {item.role}")
    print(f"notify (dry run): {len(due)} due, {len(new)} not sent yet")
    return 0


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
