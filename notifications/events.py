"""Which notifications are due: pure functions from dossier facts to items.

An occurrence is an event that currently applies to a dossier (its key is
what the outbox deduplicates on); a due notification is an occurrence
recent enough, switched on, with a recipient address.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.snapshot import DossierSnapshot, FindingFact
from notifications.apt_dates import apt_date_problems
from notifications.contexts import DOSSIER_MESSAGE_TYPES

OUT_OF_SCOPE = "out_of_scope"  # the prefix of the checks' out-of-scope finding codes (mappings/checks.py)


@dataclass(frozen=True)
class Occurrence:
    # depot, hors_perimetre, incomplet, complet, en_instruction, accepte, refuse, sans_suite, apt_dates_invalid
    template: str
    key: str  # outbox event key: the template, plus a variant when the same template may recur
    occurred_at: datetime
    findings: tuple[FindingFact, ...] = ()  # incomplet: the blocking findings; hors_perimetre: why out of scope
    apt_problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class DueNotification:
    dossier_number: int
    occurrence: Occurrence
    role: str
    address: str

    @property
    def message_name(self) -> str:
        return f"{self.occurrence.template}:{self.role}"


def _short_hash(parts: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(parts)).encode()).hexdigest()[:12]


def _depot(facts: DossierSnapshot) -> Occurrence | None:
    deposited = facts.first_entered("en_construction") or facts.date_depot
    # Once in instruction, that message says more than "received" would; out of scope, « hors_perimetre » says both.
    if deposited is None or facts.state != "en_construction" or facts.completeness_status == "hors_perimetre":
        return None
    return Occurrence("depot", "depot", deposited)


def _hors_perimetre(facts: DossierSnapshot) -> Occurrence | None:
    """Agents see « Hors périmètre »; the applicant and the employer are told too, with the reason, instead of
    « bien reçue … le service vérifie qu'elle est complète » and then nothing."""
    if facts.completeness_status != "hors_perimetre" or facts.state != "en_construction":
        return None
    reasons = tuple(f for f in facts.findings if f.code.startswith(OUT_OF_SCOPE))
    occurred = facts.applicant_activity_at() or facts.date_derniere_modification
    # Another reason (the applicant corrected the nationality, the hours…) is another message.
    return Occurrence("hors_perimetre", f"hors_perimetre#{_short_hash(f.code for f in reasons)}", occurred, reasons)


def _incomplet(facts: DossierSnapshot) -> Occurrence | None:
    # Only while the applicant can still add documents (DS locks the form in instruction).
    if facts.completeness_status != "incomplet" or facts.state != "en_construction":
        return None
    blocking = tuple(f for f in facts.findings if f.severity == "blocking")
    # Dated by the applicant's last action, not by when our checks ran: a first sync or a new
    # rules revision must not make old dossiers look new (nor do annotations the push writes).
    occurred = facts.applicant_activity_at() or facts.date_derniere_modification
    # A new list of findings deserves a new message; the same list, not (keyed on the texts, as always).
    return Occurrence("incomplet", f"incomplet#{_short_hash(f.message for f in blocking)}", occurred, blocking)


def _complet(facts: DossierSnapshot) -> Occurrence | None:
    if facts.completeness_status != "complet" or facts.completed_at is None or facts.is_decided:
        return None
    # completed_at is when our checks first saw it complete; the applicant's last action bounds it.
    activity = facts.applicant_activity_at()
    return Occurrence("complet", "complet", min(facts.completed_at, activity) if activity else facts.completed_at)


def _en_instruction(facts: DossierSnapshot) -> Occurrence | None:
    since = facts.last_entered("en_instruction")
    if facts.state != "en_instruction" or since is None:
        return None
    return Occurrence("en_instruction", "en_instruction", since)


def _decision(facts: DossierSnapshot) -> Occurrence | None:
    if not facts.is_decided:
        return None
    decided = facts.last_entered(facts.state) or facts.date_traitement
    if decided is None:
        return None
    return Occurrence(facts.state, facts.state, decided)


def _apt_dates_invalid(facts: DossierSnapshot) -> Occurrence | None:
    decided = _decision(facts)
    if facts.state != "accepte" or decided is None:
        return None
    problems = apt_date_problems(facts.apt_start, facts.apt_end, facts.permit_expiry)
    if not problems:
        return None
    return Occurrence("apt_dates_invalid", "apt_dates_invalid", decided.occurred_at, apt_problems=problems)


EVENT_RULES = (_depot, _hors_perimetre, _incomplet, _complet, _en_instruction, _decision, _apt_dates_invalid)


def occurrences(facts: DossierSnapshot) -> list[Occurrence]:
    """Events that apply to the dossier now, whatever their age."""
    return [occurrence for rule in EVENT_RULES if (occurrence := rule(facts)) is not None]


def recipient_address(facts: DossierSnapshot, role: str) -> str | None:
    if role == "applicant":
        return facts.usager_email or None
    employer = facts.employer_email or None
    # A student who filed with their own address as the employer's gets one message, not two.
    if employer and facts.usager_email and employer.strip().lower() == facts.usager_email.strip().lower():
        return None
    return employer


def due_notifications(
    facts: DossierSnapshot, now: datetime, recent_days: int, enabled_messages: frozenset[str]
) -> list[DueNotification]:
    since = now - timedelta(days=recent_days)
    due = []
    for occurrence in occurrences(facts):
        if occurrence.occurred_at < since:
            continue
        for role in DOSSIER_MESSAGE_TYPES[occurrence.template].ROLES:
            address = recipient_address(facts, role)
            if address and f"{occurrence.template}:{role}" in enabled_messages:
                due.append(DueNotification(facts.number, occurrence, role, address))
    return due
