"""`wif report --month YYYY-MM [--out DIR] [--send]`: write the monthly xlsx
of each service and, with --send, e-mail each one to its service (once)."""
from __future__ import annotations

import argparse
import logging
import re
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from core.settings import Settings
from core.db import make_engine, session_factory
from core.clock import paris_today, previous_month
from stats.report import DEFAULT_DS_HOST, build_monthly_reports, file_name

HELP = "Write the monthly xlsx report of each service."

log = logging.getLogger(__name__)


def month_argument(text: str) -> str:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise argparse.ArgumentTypeError(f"expected YYYY-MM, got {text!r}")
    return text


def configure(parser) -> None:
    parser.add_argument("--month", type=month_argument, default=None, help="YYYY-MM (default: the previous month)")
    parser.add_argument("--out", type=Path, default=Path("var/reports"), help="directory for the xlsx files")
    parser.add_argument("--ds-host", default=None, help="host of the DS instruction links (default: from DS_API_URL)")
    parser.add_argument("--dry-run", action="store_true", help="list the reports that would be written, write nothing")
    parser.add_argument("--send", action="store_true", help="also e-mail each report to its service (SMTP_URL, or .eml files)")


def ds_host(settings: Settings) -> str:
    """The DS web host: the API's host in production, the public one for the sandbox."""
    if settings.uses_sandbox:
        return DEFAULT_DS_HOST
    parts = urlsplit(settings.ds.api_url)
    return f"{parts.scheme}://{parts.netloc}"


def run(args, settings: Settings) -> int:
    month = args.month or previous_month(paris_today())
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as session:
            reports = build_monthly_reports(session, month, args.ds_host or ds_host(settings))
    finally:
        engine.dispose()
    if args.dry_run:
        for service in reports:
            print(file_name(month, service))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for service, content in reports.items():
        (args.out / file_name(month, service)).write_bytes(content)
    log.info("monthly reports for %s: %d services, written to %s", month, len(reports), args.out)
    if args.send:
        return _send(settings, reports, month)
    return 0


def _send(settings: Settings, reports: dict[str, bytes], month: str) -> int:
    from mail.mailer import make_mailer
    from notifications.digest import recipients
    from stats.report_mail import send_monthly_reports

    engine = make_engine(settings.database_url)
    mailer = make_mailer(settings.mail.smtp_url, settings.mail.outbox_dir)
    try:
        delivery = send_monthly_reports(
            session_factory(engine), mailer, reports, month,
            {service: file_name(month, service) for service in reports},
            recipients(settings),
            datetime.now(timezone.utc), settings,
        )
    finally:
        mailer.close()
        engine.dispose()
    print(f"monthly reports {month}: {delivery.summary()}")
    return 1 if delivery.unavailable else 0
