"""The team's alert when the mail server refuses every message: one e-mail a
day per reply (WIF_TEAM_EMAIL), through the outbox like the validity check's
alerts, so it is sent once, and again later if the server refuses it too.

It carries the server's reply (addresses removed) and counts: no personal data.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.models import PENDING, Notification
from core.settings import MailSettings
from mail.mailer import Mailer, build_email
from mail.outbox import KEPT_BY_REFUSAL, Cancel, OutboxEntry, deliver, enqueue, recipient_hash

log = logging.getLogger(__name__)

SCOPE = "mail:alerts"
TEMPLATE = "mail_refused"
PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class TeamRefusalAlert:
    """`deliver(..., alert=TeamRefusalAlert(settings.mail))`."""

    mail: MailSettings = field(repr=False)

    def __call__(self, factory: sessionmaker[Session], mailer: Mailer, now: datetime, reply: str, kept: int) -> None:
        team = self.mail.team_email
        if not team:
            log.warning("mail server refuses every message; WIF_TEAM_EMAIL is not set, nobody is told")
            return
        key = hashlib.sha256(reply.encode()).hexdigest()[:12]
        with transaction(factory) as session:
            enqueue(
                session,
                [OutboxEntry(SCOPE, None, f"refused:{now:%Y-%m-%d}:{key}", TEMPLATE, "team", recipient_hash(team))],
                now,
            )
        # At once: a server that refuses the notifications' content may take this one; else it waits its turn.
        deliver(
            factory,
            mailer,
            self._compose,
            now,
            max_attempts=self.mail.max_attempts,
            retry_base_seconds=self.mail.retry_base_seconds,
            scope_prefix=SCOPE,
        )

    def send_due(self, factory: sessionmaker[Session], mailer: Mailer, now: datetime) -> None:
        """An alert the server refused earlier, tried before the next batch."""
        if self.mail.team_email:
            deliver(
                factory,
                mailer,
                self._compose,
                now,
                max_attempts=self.mail.max_attempts,
                retry_base_seconds=self.mail.retry_base_seconds,
                scope_prefix=SCOPE,
            )

    def _compose(self, session: Session, row: Notification) -> EmailMessage:
        if recipient_hash(self.mail.team_email) != row.recipient_hash:
            raise Cancel("the team address changed")
        reply = session.scalar(
            select(func.min(Notification.last_error)).where(
                Notification.status == PENDING, Notification.last_error.startswith(KEPT_BY_REFUSAL)
            )
        )
        if reply is None:
            raise Cancel("the messages it kept have all been sent since")
        waiting = session.execute(select(func.count()).where(Notification.status == PENDING)).scalar_one()
        reply = reply.removeprefix(KEPT_BY_REFUSAL).strip()
        return refusal_email(
            self.mail.mail_from,
            self.mail.team_email,
            reply,
            waiting,
            row.created_at,
            message_id=f"<wif.mail.{row.event.replace(':', '.')}.{row.recipient_hash[:16]}@wif.local>",
        )


def refusal_email(sender: str, to: str, reply: str, waiting: int, since: datetime, message_id: str) -> EmailMessage:
    when = since.astimezone(PARIS)
    lines = [
        "Bonjour,",
        "",
        f"Le {when:%d/%m/%Y} à {when:%H:%M} (heure de Paris), le serveur de courrier a refusé plusieurs messages "
        f"de suite, à des destinataires différents, avec la même réponse :",
        "",
        f"« {reply} »",
        "",
        "Ce refus ne vient pas des adresses mais du serveur (blocage, réputation de l'adresse d'envoi, filtre "
        "anti-spam, SPF/DKIM). L'envoi a été arrêté : aucun message n'est perdu, "
        f"{waiting} message(s) attendent d'être envoyés ; ils seront retentés à chaque envoi, jusqu'à ce que le "
        "serveur les accepte.",
        "",
        "Ce message ne contient aucune donnée personnelle.",
        "",
        "Le connecteur Work in France",
    ]
    text = "\n".join(lines) + "\n"
    html = "".join(f"<p>{line}</p>" for line in lines if line)
    return build_email(
        sender=sender,
        to=to,
        subject="Courriels : le serveur refuse tous les messages",
        text=text,
        html=html,
        message_id=message_id,
    )
