"""The team's alert about champs unknown to the procedure: a form change on DS that no agent can act on in a
dossier (the dossiers' status ignores it). While synced dossiers carry one, `wif notify` (run after every sync by
the scheduler) e-mails WIF_TEAM_EMAIL at most once a day per set of champs, through the notification outbox like
the team's other alerts (mail/alerts.py, validity/alerts.py), so it is sent once, and again if the server refused it.

It names the champs (the administrateur's labels) and counts the dossiers: no personal data, no dossier number.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from email.message import EmailMessage
from html import escape

from sqlalchemy.orm import Session, sessionmaker

from core.clock import PARIS
from core.db import transaction
from core.models import Notification
from core.settings import Settings
from jobs.status import UnknownChamp, unknown_champs
from mail.mailer import Mailer, build_email
from mail.outbox import Cancel, DeliveryReport, OutboxEntry, deliver, enqueue, recipient_hash

log = logging.getLogger(__name__)

SCOPE = "jobs:alerts"
TEMPLATE = "unknown_champs"


def unknown_champs_email(sender: str, to: str, champs: list[UnknownChamp], message_id: str) -> EmailMessage:
    count = sum(u.dossiers for u in champs)
    lines = [
        "Bonjour,",
        "",
        f"{count} dossier(s) synchronisé(s) portent des champs que la définition de la procédure "
        "(mappings/procedure.yaml) ne connaît pas : le formulaire a changé sur Démarche Numérique.",
        "",
        *(f"- démarche {u.demarche_number} : « {u.label} », sur {u.dossiers} dossier(s)" for u in champs),
        "",
        "Ces champs ne changent pas le statut des dossiers et ne sont pas lus. Ajoutez chaque champ utile à la "
        "procédure puis liez-le (wif procedure bind --yes), ou retirez-le du formulaire. « wif procedure check » "
        "et « wif status » les listent.",
        "",
        "Ce message est envoyé au plus une fois par jour ; il ne contient aucune donnée personnelle.",
        "",
        "Le connecteur Work in France",
    ]
    text = "\n".join(lines) + "\n"
    html = "".join(f"<p>{escape(line)}</p>" for line in lines if line)
    subject = f"Work in France : {len(champs)} champ(s) inconnu(s) de la procédure sur {count} dossier(s)"
    return build_email(sender=sender, to=to, subject=subject, text=text, html=html, message_id=message_id)


def send_unknown_champs_alert(
    sessions: sessionmaker[Session], mailer: Mailer, now: datetime, settings: Settings
) -> DeliveryReport | None:
    """Enqueue today's alert when synced dossiers carry a champ unknown to the procedure, then send what is due."""
    team = settings.mail.team_email
    with sessions() as session:
        champs = unknown_champs(session)
    if champs and not team:
        log.warning(
            "%d champ(s) unknown to the procedure on synced dossiers; WIF_TEAM_EMAIL is not set, nobody is "
            "told (wif status lists them)",
            len(champs),
        )
    if not team:
        return None
    if champs:
        names = "|".join(sorted(f"{u.demarche_number}:{u.label}" for u in champs))
        key = hashlib.sha256(names.encode()).hexdigest()[:12]
        with transaction(sessions) as session:
            enqueue(
                session,
                [
                    OutboxEntry(
                        SCOPE,
                        None,
                        f"unknown_champs:{now.astimezone(PARIS):%Y-%m-%d}:{key}",
                        TEMPLATE,
                        "team",
                        recipient_hash(team),
                    )
                ],
                now,
            )

    def compose(session: Session, row: Notification) -> EmailMessage:
        if recipient_hash(team) != row.recipient_hash:
            raise Cancel("the team address changed")
        current = unknown_champs(session)
        if not current:
            raise Cancel("no synced dossier carries a champ unknown to the procedure any more")
        return unknown_champs_email(
            settings.mail.mail_from,
            team,
            current,
            message_id=f"<wif.{row.event.replace(':', '.')}.{row.recipient_hash[:16]}@wif.local>",
        )

    return deliver(
        sessions,
        mailer,
        compose,
        now,
        max_attempts=settings.mail.max_attempts,
        retry_base_seconds=settings.mail.retry_base_seconds,
        scope_prefix=SCOPE,
    )
