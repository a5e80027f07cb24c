"""Plan the due dossier notifications, then deliver them through the mail outbox (`wif notify` runs it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.models import Notification
from core.settings import Settings
from core.snapshot import delay_cohort, iter_snapshots
from mail.alerts import TeamRefusalAlert
from mail.mailer import Mailer, build_email
from mail.outbox import Cancel, DeliveryReport, OutboxEntry, deliver, dossier_scope, enqueue, recipient_hash
from mappings.expected_delay import per_service, window_start
from notifications.contexts import dossier_context
from notifications.events import DueNotification, due_notifications, occurrences, recipient_address
from notifications.messages import parse_message_switches
from notifications.render import render


@dataclass
class NotifyReport:
    due: int
    created: int
    delivery: DeliveryReport

    def summary(self) -> str:
        return f"due={self.due} new={self.created} {self.delivery.summary()}"


def plan(session: Session, now: datetime, settings: Settings) -> list[DueNotification]:
    enabled = parse_message_switches(settings.notify.templates)
    due = []
    for facts in iter_snapshots(session):
        due.extend(due_notifications(facts, now, settings.notify.recent_days, enabled))
    return due


def outbox_entry(item: DueNotification) -> OutboxEntry:
    return OutboxEntry(
        scope=dossier_scope(item.dossier_number),
        dossier_number=item.dossier_number,
        event=item.occurrence.key,
        template=item.occurrence.template,
        role=item.role,
        recipient_hash=recipient_hash(item.address),
    )


def message_id(row: Notification, domain: str = "wif.local") -> str:
    return f"<wif.{row.scope.replace(':', '-')}.{row.event.replace('#', '-')}.{row.recipient_hash[:16]}@{domain}>"


def dossier_composer(settings: Settings, now: datetime):
    delays: dict = {}

    def service_delays(session: Session) -> dict:
        """The expected decision delay per service, read once per run (the « dossier complet » message says it)."""
        if "value" not in delays:
            delays["value"] = per_service(delay_cohort(session, window_start(now)), now)
        return delays["value"]

    def compose(session: Session, row: Notification) -> EmailMessage:
        number = row.dossier_number
        facts = next(iter_snapshots(session, [number]), None) if number is not None else None
        if facts is None:
            raise Cancel("dossier gone (deleted or trashed)")
        occurrence = next((o for o in occurrences(facts) if o.key == row.event), None)
        if occurrence is None:
            raise Cancel("event no longer applies")
        address = recipient_address(facts, row.role)
        if not address or recipient_hash(address) != row.recipient_hash:
            raise Cancel("recipient address changed")
        context = dossier_context(
            facts,
            occurrence,
            row.role,
            settings.ds.web_url,
            service_delays(session) if occurrence.template == "complet" else None,
            validity_url=settings.pages.validity_url,
        )
        rendered = render(occurrence.template, context)
        message = build_email(
            sender=settings.mail.mail_from,
            to=address,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            message_id=message_id(row),
        )
        message["X-WIF-Message"] = f"{row.template}:{row.role}"  # for filtering and support, no personal data
        if context.contact:  # a reply reaches the service that handles the dossier, not ne-pas-repondre@
            message["Reply-To"] = context.contact
        return message

    return compose


def run_notify(factory: sessionmaker[Session], mailer: Mailer, now: datetime, settings: Settings) -> NotifyReport:
    with transaction(factory) as session:
        due = plan(session, now, settings)
        created = enqueue(session, (outbox_entry(item) for item in due), now)
    delivery = deliver(
        factory,
        mailer,
        dossier_composer(settings, now),
        now,
        max_attempts=settings.mail.max_attempts,
        retry_base_seconds=settings.mail.retry_base_seconds,
        scope_prefix="dossier:",
        alert=TeamRefusalAlert(settings.mail),
    )
    return NotifyReport(due=len(due), created=created, delivery=delivery)


def _known_keys(session: Session, keys: list[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    if not keys:
        return set()
    columns = (Notification.scope, Notification.event, Notification.recipient_hash)
    rows = session.execute(select(*columns).where(tuple_(*columns).in_(keys)))
    return {(scope, event, recipient_hash) for scope, event, recipient_hash in rows}


def plan_lines(factory: sessionmaker[Session], now: datetime, settings: Settings) -> list[str]:
    """What a dry run says: one line per message not sent yet, then the count."""
    with factory() as session:
        due = plan(session, now, settings)
        keys = [(e.scope, e.event, e.recipient_hash) for e in map(outbox_entry, due)]
        known = _known_keys(session, keys)
    new = [item for item, key in zip(due, keys, strict=False) if key not in known]
    # Roles, not addresses: this output may end up in logs.
    return [f"would send: dossier {item.dossier_number} {item.occurrence.key} to {item.role}" for item in new] + [
        f"notify (dry run): {len(due)} due, {len(new)} not sent yet"
    ]
