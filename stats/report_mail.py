"""E-mail each service its monthly report, exactly once per (month, service),
through the notifications outbox."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate

from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.settings import Settings
from mail.mailer import Mailer
from mail.outbox import Cancel, DeliveryReport, OutboxEntry, deliver, enqueue, recipient_hash
from mappings.routing import load_routing_table
from notifications.french import de
from stats.format import month_label

log = logging.getLogger(__name__)

SCOPE_PREFIX = "report:"
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def report_email(
    sender: str, to: str, service: str, month: str, filename: str, content: bytes, message_id: str
) -> EmailMessage:
    label = month_label(month)
    # The fallback groupe is a DS groupe, not a service: « du groupe « À orienter manuellement » ».
    whose = f"du groupe « {service} »" if service == load_routing_table().fallback_groupe else de(service)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = f"Rapport mensuel des autorisations provisoires de travail – {label} – {service}"
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        f"Bonjour,\n\nVous trouverez ci-joint le rapport de {label} {whose} : "
        "décisions du mois (acceptées selon la durée de l'autorisation, refusées, classées sans suite), "
        "décisions par nationalité (acceptées, refusées, classées sans suite) et liste des dossiers refusés.\n\n"
        "Les chiffres sont calculés comme ceux de la page publique de statistiques.\n\n"
        "Ce message est envoyé automatiquement par Work in France."
    )
    message.add_attachment(content, maintype=XLSX[0], subtype=XLSX[1], filename=filename)
    return message


def send_monthly_reports(
    factory: sessionmaker[Session],
    mailer: Mailer,
    reports: Mapping[str, bytes],
    month: str,
    file_names: Mapping[str, str],
    emails: Mapping[str, str],
    now: datetime,
    settings: Settings,
) -> DeliveryReport:
    addressed = {service: emails[service] for service in reports if emails.get(service)}
    for service in sorted(set(reports) - set(addressed)):
        log.warning("report %s: no e-mail address for service %r", month, service)
    with transaction(factory) as session:
        enqueue(
            session,
            (
                OutboxEntry(
                    SCOPE_PREFIX + service, None, f"report:{month}", "report", "agents", recipient_hash(address)
                )
                for service, address in addressed.items()
            ),
            now,
        )

    def compose(_session: Session, row) -> EmailMessage:
        service = row.scope.removeprefix(SCOPE_PREFIX)
        if service not in addressed or recipient_hash(addressed[service]) != row.recipient_hash:
            raise Cancel("the service has no report for this run, or its address changed")
        return report_email(
            settings.mail.mail_from,
            addressed[service],
            service,
            month,
            file_names[service],
            reports[service],
            message_id=f"<wif.report.{month}.{row.recipient_hash[:16]}@wif.local>",
        )

    return deliver(
        factory,
        mailer,
        compose,
        now,
        max_attempts=settings.mail.max_attempts,
        retry_base_seconds=settings.mail.retry_base_seconds,
        scope_prefix=SCOPE_PREFIX,
    )
