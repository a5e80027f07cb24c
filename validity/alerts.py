"""E-mail to the team when the validity check's misses spike: through the
notification outbox (`mail.outbox`), so each spike is one message, sent once.

The message carries counts only: no number, no date, no address of a client.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from core.clock import utcnow
from core.models import Notification, ValidityBudget
from core.settings import MailSettings
from mail.mailer import Mailer, build_email
from mail.outbox import Cancel, DeliveryReport, OutboxEntry, deliver, enqueue, recipient_hash
from validity.budget import Spike

log = logging.getLogger(__name__)

SCOPE = "validity:alerts"
TEMPLATE = "validity_miss_spike"
PARIS = ZoneInfo("Europe/Paris")


def spike_email(
    sender: str, to: str, row: ValidityBudget, window_seconds: int, threshold: int, message_id: str
) -> EmailMessage:
    start = datetime.fromtimestamp(row.window_start, UTC).astimezone(PARIS)
    end = datetime.fromtimestamp(row.window_start + window_seconds, UTC).astimezone(PARIS)
    when = f"le {start:%d/%m/%Y} entre {start:%H:%M} et {end:%H:%M} (heure de Paris)"
    lines = [
        "Bonjour,",
        "",
        f"La vérification publique des autorisations provisoires de travail a reçu {when} "
        f"{row.lookups} vérification(s), dont {row.misses} sans résultat (numéro inconnu ou date de naissance "
        f"erronée) : c'est au moins le seuil d'alerte de {threshold}.",
        "",
        "Un tel pic peut être une tentative d'énumération des dossiers. Le budget global de vérifications "
        "protège le service : au-delà, il répond « trop de demandes » à tous jusqu'à la fenêtre suivante.",
        "",
        "Ce message ne contient aucune donnée personnelle. Il est envoyé une seule fois par fenêtre.",
        "",
        "Le connecteur Work in France",
    ]
    text = "\n".join(lines) + "\n"
    html = "".join(f"<p>{line}</p>" for line in lines if line)
    return build_email(
        sender=sender,
        to=to,
        subject="Vérification des APT : pic de vérifications sans résultat",
        text=text,
        html=html,
        message_id=message_id,
    )


class SpikeAlerts:
    """Enqueues one alert per spike (in the lookup's transaction), then sends it off the request's path."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        mail: MailSettings,
        team_email: str,
        make_mailer: Callable[[], Mailer],
        *,
        window_seconds: int,
        threshold: int,
        background: bool = True,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions, self.mail, self.team_email = sessions, mail, team_email
        self.make_mailer, self.background, self.now = make_mailer, background, now
        self.window_seconds, self.threshold = window_seconds, threshold

    def enqueue(self, session: Session, spike: Spike) -> None:
        if not self.team_email:
            log.warning(
                "validity check: misses over %d in a window; WIF_TEAM_EMAIL is not set, nobody is told", spike.threshold
            )
            return
        log.warning("validity check: misses over %d in a window: the team is e-mailed", spike.threshold)
        enqueue(
            session,
            [
                OutboxEntry(
                    SCOPE, None, f"miss_spike:{spike.window_start}", TEMPLATE, "team", recipient_hash(self.team_email)
                )
            ],
            self.now(),
        )

    def send(self) -> None:
        if not self.team_email:
            return
        if self.background:
            threading.Thread(target=self.deliver, name="validity-alert", daemon=True).start()
        else:
            self.deliver()

    def deliver(self) -> DeliveryReport | None:
        try:
            mailer = self.make_mailer()
            try:
                return deliver(
                    self.sessions,
                    mailer,
                    self._compose,
                    self.now(),
                    max_attempts=self.mail.max_attempts,
                    retry_base_seconds=self.mail.retry_base_seconds,
                    scope_prefix=SCOPE,
                )
            finally:
                mailer.close()
        except Exception as error:  # the alert must never break the check; the row stays for the next try
            log.error("validity check: alert not sent: %s", type(error).__name__)
            return None

    def _compose(self, session: Session, row: Notification) -> EmailMessage:
        if recipient_hash(self.team_email) != row.recipient_hash:
            raise Cancel("the team address changed")
        window_start = int(row.event.removeprefix("miss_spike:"))
        counts = session.get(ValidityBudget, window_start)
        if counts is None:
            raise Cancel("the window is no longer known")
        return spike_email(
            self.mail.mail_from,
            self.team_email,
            counts,
            self.window_seconds,
            self.threshold,
            message_id=f"<wif.validity.{window_start}.{row.recipient_hash[:16]}@wif.local>",
        )
