"""`wif report --month YYYY-MM [--out DIR] [--send]`: write the monthly xlsx
of each service and, with --send, e-mail each one to its service (once)."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from core.clock import paris_today, previous_month
from core.db import Database
from core.errors import ExitCode
from core.settings import Settings
from jobs.result import Result
from jobs.runtime import writable_directory, writing_into
from stats.report import DEFAULT_DS_HOST, build_monthly_reports, file_name

HELP = "Write the monthly xlsx report of each service."


def month_argument(text: str) -> str:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
        raise argparse.ArgumentTypeError(f"expected YYYY-MM, got {text!r}")
    return text


def configure(parser) -> None:
    parser.add_argument("--month", type=month_argument, default=None, help="YYYY-MM (default: the previous month)")
    parser.add_argument("--out", type=Path, default=Path("var/reports"), help="directory for the xlsx files")
    parser.add_argument("--ds-host", default=None, help="host of the DS instruction links (default: from DS_API_URL)")
    parser.add_argument("--dry-run", action="store_true", help="list the reports that would be written, write nothing")
    parser.add_argument(
        "--send", action="store_true", help="also e-mail each report to its service (SMTP_URL, or .eml files)"
    )


def ds_host(settings: Settings) -> str:
    """The DS web host: the API's host in production, the public one for the sandbox."""
    if settings.uses_sandbox:
        return DEFAULT_DS_HOST
    parts = urlsplit(settings.ds.api_url)
    return f"{parts.scheme}://{parts.netloc}"


def check(args) -> None:
    """Before the database is opened: an --out that cannot be written is refused, nothing created."""
    if not args.dry_run:
        writable_directory(args.out)


def run(args, settings: Settings, database: Database) -> Result:
    month = args.month or previous_month(paris_today())
    with database.sessions() as session:
        reports = build_monthly_reports(session, month, args.ds_host or ds_host(settings))
    if args.dry_run:
        return Result(lines=[file_name(month, service) for service in reports])
    with writing_into(args.out) as out:
        out.mkdir(parents=True, exist_ok=True)
        for service, content in reports.items():
            (out / file_name(month, service)).write_bytes(content)
    result = Result(lines=[f"monthly reports {month}: {len(reports)} service(s), written to {args.out}"])
    if args.send:
        _send(settings, database, reports, month, result)
    return result


def _send(settings: Settings, database: Database, reports: dict[str, bytes], month: str, result: Result) -> None:
    from mail.mailer import make_mailer
    from notifications.digest import recipients
    from stats.report_mail import send_monthly_reports

    mailer = make_mailer(settings.mail.smtp_url, settings.mail.outbox_dir)
    try:
        delivery = send_monthly_reports(
            database.sessions,
            mailer,
            reports,
            month,
            {service: file_name(month, service) for service in reports},
            recipients(settings),
            datetime.now(UTC),
            settings,
        )
    finally:
        mailer.close()
    result.say(f"monthly reports {month}: {delivery.summary()}")
    if delivery.unavailable:
        result.exit_code = ExitCode.FAILED
