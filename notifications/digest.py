"""Daily digest per service: dossiers waiting too long and alerts for agents.

`waiting_rows` and `alert_rows` are pure; `run_digest` sends one e-mail per
service through the outbox, at most once per service and day.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.models import CANCELLED, PENDING, Q_PARTIAL, Q_UNSTORABLE, SENDING, Dossier, Notification, QuarantinedDossier
from core.settings import Settings
from core.snapshot import DossierSnapshot, iter_snapshots
from mail.alerts import TeamRefusalAlert
from mail.mailer import Mailer, build_email
from mail.outbox import Cancel, DeliveryReport, OutboxEntry, deliver, enqueue, recipient_hash, service_scope
from mappings.routing import RoutingTable, load_routing_table
from notifications.apt_dates import apt_date_problems, problem_labels
from notifications.contexts import (
    PARIS,
    STATE_LABELS,
    AlertRow,
    DigestContext,
    WaitingRow,
    agent_dossier_url,
    french_date,
)
from notifications.french import plural
from notifications.render import render

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Waiting:
    facts: DossierSnapshot
    since: datetime
    days: int


def waiting_since(facts: DossierSnapshot) -> datetime | None:
    """When the dossier entered its current state (the last passage)."""
    fallback = {"en_construction": facts.date_depot}.get(facts.state)
    return facts.last_entered(facts.state) or fallback


def waiting_too_long(
    facts_list: Iterable[DossierSnapshot], now: datetime, thresholds: Mapping[str, int]
) -> list[Waiting]:
    """Dossiers beyond the threshold of their state, oldest first."""
    out = []
    for facts in facts_list:
        since = waiting_since(facts) if facts.state in thresholds else None
        if since is None:
            continue
        days = (now - since).days
        if days > thresholds[facts.state]:
            out.append(Waiting(facts, since, days))
    return sorted(out, key=lambda waiting: (waiting.since, waiting.facts.number))


def decision_time(facts: DossierSnapshot) -> datetime | None:
    if not facts.is_decided:
        return None
    return facts.last_entered(facts.state) or facts.date_traitement


def alert_reasons(facts: DossierSnapshot, now: datetime, alert_days: int) -> list[str]:
    """French reasons an agent must look at the dossier; empty when none."""
    decided = decision_time(facts)
    if decided is None or decided < now - timedelta(days=alert_days):
        return []
    reasons = []
    if facts.state == "accepte":
        problems = apt_date_problems(facts.apt_start, facts.apt_end, facts.permit_expiry)
        reasons += [f"dossier accepté : {problem_labels()[code]}" for code in problems]
    applicant = (facts.usager_email or "").strip().lower()
    late = [m for m in facts.messages if m.sender_email.strip().lower() == applicant and m.created_at > decided]
    if applicant and late:
        reasons.append(f"{len(late)} message(s) du demandeur reçu(s) après la décision")
    return reasons


@dataclass(frozen=True)
class Quarantined:
    """A dossier the sync set aside (core.models.QuarantinedDossier), with the
    service of its last stored version, if any."""

    demarche_number: int
    dossier_number: int
    status: str
    error: str
    champ: str | None
    service: str | None


def quarantine_reason(row: Quarantined) -> str:
    if row.status == Q_PARTIAL:
        return (
            f"dossier lu en partie : Démarche Numérique n'a pas pu fournir le champ « {row.champ or 'inconnu'} » "
            f"({row.error}) ; il est marqué « À vérifier », contrôlez ce champ dans DS"
        )
    if row.status == Q_UNSTORABLE:
        return (
            f"dossier impossible à enregistrer par le connecteur ({row.error}"
            + (f" ; {row.champ}" if row.champ else "")
            + ") : il n'est pas à jour ici, traitez-le dans DS"
        )
    return (
        f"dossier illisible sur Démarche Numérique ({row.error}) : le connecteur ne peut pas le vérifier, "
        "traitez-le dans DS"
    )


def quarantined_dossiers(session: Session) -> list[Quarantined]:
    rows = session.execute(
        select(QuarantinedDossier, Dossier.service)
        .outerjoin(Dossier, Dossier.number == QuarantinedDossier.dossier_number)
        .order_by(QuarantinedDossier.dossier_number)
    )
    return [
        Quarantined(q.demarche_number, q.dossier_number, q.status, q.error, q.champ, service) for q, service in rows
    ]


def groupe_note(facts: DossierSnapshot, push_enabled: bool) -> str:
    """A digest lists the dossiers the routing gives its service, whatever DS's groupe says before the push;
    when DS still has one elsewhere, its agents cannot open it yet: say where it is and what moves it."""
    target, current = facts.target_groupe_label, facts.groupe_label
    if not target or not current or current == target:
        return ""
    if push_enabled:
        return (
            f"encore dans le groupe « {current} » sur DS : le prochain envoi du connecteur le place dans « {target} »"
        )
    return f"encore dans le groupe « {current} » sur DS, l'envoi vers DS est désactivé : déplacez-le dans « {target} »"


def digest_contexts(
    facts_list: Iterable[DossierSnapshot],
    now: datetime,
    settings: Settings,
    table: RoutingTable | None = None,
    quarantined: Iterable[Quarantined] = (),
) -> dict[str, DigestContext]:
    """One context per service that has something to show. A dossier with no service, or whose
    service is not open yet, waits in the fallback groupe: it goes to that groupe's digest.
    A dossier the sync set aside is an alert of its service (the fallback groupe's if never stored)."""
    table = table or load_routing_table()
    facts_list = list(facts_list)
    waiting_by_service: dict[str, list[WaitingRow]] = defaultdict(list)
    for late in waiting_too_long(facts_list, now, settings.notify.waiting_days):
        facts = late.facts
        waiting_by_service[table.in_charge(facts.service)].append(
            WaitingRow(
                dossier_number=facts.number,
                state_label=STATE_LABELS[facts.state],
                since=french_date(late.since),
                days=late.days,
                groupe_label=facts.groupe_label or "",
                url=agent_dossier_url(settings.ds.web_url, facts.demarche_number, facts.number),
                routing_reason=facts.routing_reason or "",
                groupe_note=groupe_note(facts, settings.push.enabled),
            )
        )
    alerts_by_service: dict[str, list[AlertRow]] = defaultdict(list)
    for facts in facts_list:
        for reason in alert_reasons(facts, now, settings.notify.alert_days):
            alerts_by_service[table.in_charge(facts.service)].append(
                AlertRow(
                    facts.number, reason, agent_dossier_url(settings.ds.web_url, facts.demarche_number, facts.number)
                )
            )
    for row in quarantined:
        alerts_by_service[table.in_charge(row.service)].append(
            AlertRow(
                row.dossier_number,
                quarantine_reason(row),
                agent_dossier_url(settings.ds.web_url, row.demarche_number, row.dossier_number),
            )
        )
    thresholds = tuple(
        f"{STATE_LABELS[state]} depuis plus de {days} jours" for state, days in settings.notify.waiting_days.items()
    )
    contexts = {}
    for service in sorted(set(waiting_by_service) | set(alerts_by_service)):
        waiting, alerts = tuple(waiting_by_service.get(service, ())), tuple(alerts_by_service.get(service, ()))
        contexts[service] = DigestContext(
            service=service,
            to_orient=service == table.fallback_groupe,
            generated_on=french_date(now),
            thresholds=thresholds,
            waiting=waiting,
            alerts=alerts,
            summary=digest_summary(waiting, alerts, settings.notify.waiting_days),
            contact=settings.mail.team_email,
        )
    return contexts


def digest_summary(waiting: tuple[WaitingRow, ...], alerts: tuple[AlertRow, ...], thresholds: Mapping[str, int]) -> str:
    """The digest in one sentence, before its 200 lines: how many alerts, how many waiting and since when."""
    parts = []
    if alerts:
        parts.append(plural(len(alerts), "alerte"))
    if waiting:
        by_state = [
            (state, sum(1 for row in waiting if row.state_label == STATE_LABELS[state])) for state in thresholds
        ]
        detail = ", ".join(
            f"{count} {STATE_LABELS[state]} depuis plus de {thresholds[state]} jours"
            for state, count in by_state
            if count
        )
        oldest = max(row.days for row in waiting)
        parts.append(
            f"{plural(len(waiting), 'dossier')} en attente au-delà des seuils ({detail}), "
            f"le plus ancien depuis {plural(oldest, 'jour')}"
        )
    return "En bref : " + " ; ".join(parts) + "."


def recipients(settings: Settings) -> dict[str, str]:
    """Who gets each digest and monthly report: the open services, and the fallback groupe's agents
    (WIF_FALLBACK_EMAIL, else the team running the connector, WIF_TEAM_EMAIL)."""
    return service_emails(settings.notify.service_emails, settings.notify.fallback_email or settings.mail.team_email)


def unreached(session: Session, settings: Settings, table: RoutingTable | None = None) -> dict[str, int]:
    """Dossiers waiting for a decision, per groupe in charge, that no digest nor report reaches: their groupe has
    no address (the fallback groupe with neither WIF_FALLBACK_EMAIL nor WIF_TEAM_EMAIL)."""
    table = table or load_routing_table()
    emails = recipients(settings)
    rows = session.execute(
        select(Dossier.service, func.count())
        .where(
            Dossier.state.in_(("en_construction", "en_instruction")),
            Dossier.deleted_at.is_(None),
            Dossier.hidden_at.is_(None),
        )
        .group_by(Dossier.service)
    )
    counts: dict[str, int] = defaultdict(int)
    for service, count in rows:
        groupe = table.in_charge(service)
        if not emails.get(groupe):
            counts[groupe] += count
    return dict(sorted(counts.items()))


def unreached_lines(counts: Mapping[str, int]) -> list[str]:
    """What `wif status` and `wif schedule` say about them."""
    return [
        f"{count} dossier(s) waiting in « {groupe} » reach no one: no digest, no monthly report "
        "(set WIF_FALLBACK_EMAIL, or WIF_TEAM_EMAIL)"
        for groupe, count in counts.items()
        if count
    ]


def service_emails(overrides: Mapping[str, str] | None = None, fallback_email: str = "") -> dict[str, str]:
    """Who gets a digest or a report → address: each open service of mappings/services.csv
    (a service not open yet gets nothing), and the fallback groupe when `fallback_email` is given.

    `overrides` (WIF_SERVICE_EMAILS) wins, e.g. to redirect a service's digest.
    """
    table = load_routing_table()
    emails = {service.name: service.email for service in table.services if service.email and service.open}
    emails.update({name: address for name, address in (overrides or {}).items() if table.in_charge(name) == name})
    if fallback_email:
        emails[table.fallback_groupe] = fallback_email
    return emails


def digest_event(now: datetime) -> str:
    return f"digest:{now.astimezone(PARIS).date().isoformat()}"


@dataclass
class DigestReport:
    services: int
    without_address: list[str]
    delivery: DeliveryReport

    def summary(self) -> str:
        return f"services={self.services} no_address={len(self.without_address)} {self.delivery.summary()}"


def plan_digests(session: Session, now: datetime, settings: Settings) -> dict[str, DigestContext]:
    return digest_contexts(iter_snapshots(session), now, settings, quarantined=quarantined_dossiers(session))


def run_digest(
    factory: sessionmaker[Session],
    mailer: Mailer,
    now: datetime,
    settings: Settings,
    emails: Mapping[str, str],
) -> DigestReport:
    with factory() as session:
        contexts = plan_digests(session, now, settings)
    addressed = {service: emails[service] for service in contexts if emails.get(service)}
    without_address = sorted(set(contexts) - set(addressed))
    for service in without_address:
        log.warning("digest: no e-mail address for service %r", service)
    event = digest_event(now)
    with transaction(factory) as session:
        _cancel_older_digests(session, event)
        enqueue(
            session,
            (
                OutboxEntry(service_scope(service), None, event, "digest", "agents", recipient_hash(address))
                for service, address in addressed.items()
            ),
            now,
        )

    def compose(_session: Session, row: Notification) -> EmailMessage:
        service = row.scope.removeprefix("service:")
        if service not in addressed or recipient_hash(addressed[service]) != row.recipient_hash:
            raise Cancel("nothing to report any more, or the service address changed")
        rendered = render("digest", contexts[service])
        return build_email(
            sender=settings.mail.mail_from,
            to=addressed[service],
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            message_id=f"<wif.digest.{row.event.removeprefix('digest:')}.{row.recipient_hash[:16]}@wif.local>",
        )

    delivery = deliver(
        factory,
        mailer,
        compose,
        now,
        max_attempts=settings.mail.max_attempts,
        retry_base_seconds=settings.mail.retry_base_seconds,
        scope_prefix="service:",
        alert=TeamRefusalAlert(settings.mail),
    )
    return DigestReport(services=len(contexts), without_address=without_address, delivery=delivery)


def _cancel_older_digests(session: Session, current_event: str) -> None:
    # Yesterday's digest still pending is stale: today's replaces it.
    session.execute(
        update(Notification)
        .where(
            Notification.template == "digest",
            Notification.event != current_event,
            Notification.status.in_((PENDING, SENDING)),
        )
        .values(status=CANCELLED, last_error="superseded by a newer digest")
    )
