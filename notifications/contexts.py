"""One typed context per template, and the pure functions that build them.

A template only sees the fields of its dataclass (the renderer uses
StrictUndefined), so a typo in a template fails in the tests, not in a
mailbox.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, ClassVar

from core.clock import PARIS
from core.snapshot import DossierSnapshot, FindingFact
from mappings.applicant_wording import GroupText, actions, applicant_groups, subject_words
from mappings.checks import default_rules
from mappings.expected_delay import ExpectedDelay, applicant_sentence, delay_of
from mappings.routing import RoutingTable, load_routing_table
from notifications.apt_dates import problem_labels
from notifications.french import de, plural

if TYPE_CHECKING:  # events imports this module for the templates' roles
    from notifications.events import Occurrence

STATE_LABELS = {
    "en_construction": "en construction",
    "en_instruction": "en instruction",
    "accepte": "accepté",
    "refuse": "refusé",
    "sans_suite": "classé sans suite",
}


def french_date(value: date | datetime | None) -> str:
    if value is None:
        return "non renseignée"
    if isinstance(value, datetime):
        value = value.astimezone(PARIS).date()
    return value.strftime("%d/%m/%Y")


@dataclass(frozen=True)
class DossierMessage:
    """A message about one dossier. Each subclass is one template: its name in
    DOSSIER_MESSAGE_TYPES, its `SUBJECT`, its fields (what the template may use), and
    `ROLES`, who may receive it."""

    ROLES: ClassVar[tuple[str, ...]] = ("applicant", "employer")
    SUBJECT: ClassVar[str]  # each template's own

    role: str  # applicant | employer
    dossier_number: int
    student_name: str
    company_name: str
    occurred_on: str
    dossier_url: str  # the applicant's page on DS; the employer has no DS access
    signed_by: str  # the service that handles the dossier (signature_for)
    contact: str  # its address for applicants and employers, or "" (then the dossier's messagerie on DS)
    footer: tuple[str, ...]  # how to reach the service, why this address gets the message (footer_lines)

    def subject(self) -> str:
        return self.SUBJECT.format(number=self.dossier_number)


@dataclass(frozen=True)
class DepotContext(DossierMessage):
    SUBJECT: ClassVar[str] = "Demande d'autorisation provisoire de travail n° {number} : bien reçue"


@dataclass(frozen=True)
class HorsPerimetreContext(DossierMessage):
    SUBJECT: ClassVar[str] = "Demande d'autorisation provisoire de travail n° {number} : hors du champ de la démarche"

    reasons: tuple[str, ...]  # the rules' own sentences (the out-of-scope findings of mappings/checks.py)


@dataclass(frozen=True)
class IncompletContext(DossierMessage):
    SUBJECT: ClassVar[str] = "Demande d'autorisation provisoire de travail n° {number} : {what}"

    # The blocking findings as mappings/finding_groups.csv groups them, worded by mappings/applicant_wording.py
    # like the DS message: each group its heading, items (with what to do) and note.
    groups: tuple[GroupText, ...]
    actions: str  # « ajouter les pièces manquantes … et corriger les réponses indiquées »; "" for conditions only

    def subject(self) -> str:
        """Led by the first group the applicant must act on: a wrong SIRET is not « pièces manquantes »."""
        return self.SUBJECT.format(number=self.dossier_number, what=subject_words(self.groups))


@dataclass(frozen=True)
class CompletContext(DossierMessage):
    SUBJECT: ClassVar[str] = "Demande d'autorisation provisoire de travail n° {number} : dossier complet"

    # « Quand vais-je recevoir mon autorisation ? »: the service's expected delay (mappings.expected_delay).
    expected_delay: str


@dataclass(frozen=True)
class EnInstructionContext(DossierMessage):
    SUBJECT: ClassVar[str] = "Demande d'autorisation provisoire de travail n° {number} : en cours d'instruction"


@dataclass(frozen=True)
class AccepteContext(DossierMessage):
    SUBJECT: ClassVar[str] = "Demande d'autorisation provisoire de travail n° {number} : acceptée"

    validity_url: str  # where the employer checks the authorisation (WIF_VALIDITY_URL), "" when not published


@dataclass(frozen=True)
class RefuseContext(DossierMessage):
    SUBJECT: ClassVar[str] = "Demande d'autorisation provisoire de travail n° {number} : refusée"


@dataclass(frozen=True)
class SansSuiteContext(DossierMessage):
    SUBJECT: ClassVar[str] = "Demande d'autorisation provisoire de travail n° {number} : classée sans suite"


@dataclass(frozen=True)
class AptDatesInvalidContext(DossierMessage):
    ROLES: ClassVar[tuple[str, ...]] = ("applicant",)
    SUBJECT: ClassVar[str] = "Autorisation provisoire de travail n° {number} : une nouvelle demande est nécessaire"

    problems: tuple[str, ...]
    apt_start: str
    apt_end: str
    new_request_url: str


@dataclass(frozen=True)
class WaitingRow:
    dossier_number: int
    state_label: str
    since: str
    days: int
    groupe_label: str
    url: str
    routing_reason: str = ""  # why the dossier waits in the fallback groupe, for the agents who orient it
    groupe_note: str = ""  # where DS still has it when that is not this digest's groupe (groupe_note)


@dataclass(frozen=True)
class AlertRow:
    dossier_number: int
    reason: str
    url: str


@dataclass(frozen=True)
class DigestContext:
    service: str
    generated_on: str
    thresholds: tuple[str, ...]
    waiting: tuple[WaitingRow, ...]
    alerts: tuple[AlertRow, ...]
    summary: str  # the body's first line: how many dossiers, why (notifications.digest.digest_summary)
    signed_by: str = "Le connecteur Work in France"
    contact: str = ""  # the team running the connector (WIF_TEAM_EMAIL), or ""
    to_orient: bool = False  # the fallback groupe's digest: dossiers no service instructs yet

    def subject(self) -> str:
        """Its count first: an agent sees at a glance how much waits, whatever the mail client cuts."""
        count = len({row.dossier_number for row in self.waiting} | {row.dossier_number for row in self.alerts})
        what = "à orienter" if self.to_orient else "à traiter"
        return f"{plural(count, 'dossier')} {what} – {self.service}"


DOSSIER_MESSAGE_TYPES: dict[str, type[DossierMessage]] = {
    "depot": DepotContext,
    "hors_perimetre": HorsPerimetreContext,
    "incomplet": IncompletContext,
    "complet": CompletContext,
    "en_instruction": EnInstructionContext,
    "accepte": AccepteContext,
    "refuse": RefuseContext,
    "sans_suite": SansSuiteContext,
    "apt_dates_invalid": AptDatesInvalidContext,
}
CONTEXT_TYPES: dict[str, type[DossierMessage] | type[DigestContext]] = {
    **DOSSIER_MESSAGE_TYPES,
    "digest": DigestContext,
}


@dataclass(frozen=True)
class Signature:
    signed_by: str
    contact: str


# Dossiers no service handles yet wait in the fallback groupe: no one service signs for them.
FALLBACK_SIGNATURE = "Work in France, pour les services de la main-d'œuvre étrangère"


def signature_for(service: str | None, table: RoutingTable | None = None) -> Signature:
    """Who signs an e-mail about a dossier: the service that handles it (RoutingTable.in_charge), with its contact
    from mappings/services.csv."""
    table = table or load_routing_table()
    in_charge = table.in_charge(service)
    found = table.service_by_name(in_charge)
    if found is None:  # the fallback groupe, or a service the table no longer knows
        return Signature(FALLBACK_SIGNATURE if in_charge == table.fallback_groupe else in_charge, "")
    return Signature(found.name, found.contact)


def footer_lines(role: str, contact: str, dossier_number: int, student_name: str, company_name: str) -> tuple[str, ...]:
    """How to reach the service, for every dossier e-mail: its contact, else the dossier's messagerie on DS.
    « Merci de ne pas répondre » only ever comes with the way to write instead."""
    if contact:
        lines = [
            f"Pour toute question, écrivez à {contact} (ou répondez à ce message) en rappelant le numéro de la "
            f"demande, n° {dossier_number}."
            + (
                ""
                if role == "employer"
                else " Vous pouvez aussi écrire au service depuis la messagerie de votre dossier."
            )
        ]
    elif role == "employer":
        lines = [
            f"Ce message est envoyé automatiquement, merci de ne pas y répondre : pour toute question, "
            f"{student_name} peut écrire au service depuis la messagerie du dossier."
        ]
    else:
        lines = [
            "Ce message est envoyé automatiquement, merci de ne pas y répondre : pour toute question, écrivez au "
            "service depuis la messagerie de votre dossier."
        ]
    if role == "employer":
        lines.append(
            f"Vous recevez ce message parce que votre adresse est indiquée comme contact {de(company_name)} "
            f"dans la demande n° {dossier_number}."
        )
    return tuple(lines)


def student_display_name(facts: DossierSnapshot) -> str:
    name = " ".join(
        part.strip() for part in (facts.student_first_name, facts.student_last_name) if part and part.strip()
    )
    return name or "l'étudiant"


def applicant_dossier_url(base_url: str, number: int) -> str:
    return f"{base_url}/dossiers/{number}"


def agent_dossier_url(base_url: str, demarche_number: int, number: int) -> str:
    return f"{base_url}/procedures/{demarche_number}/dossiers/{number}"


def new_request_url(base_url: str) -> str:
    from mappings.procedure import default_procedure

    return f"{base_url}/commencer/{default_procedure().path}"


def incomplet_groups(findings: tuple[FindingFact, ...]) -> dict:
    groups = applicant_groups(findings, default_rules().document_names)
    return {"groups": groups, "actions": actions(groups)}


def dossier_context(
    facts: DossierSnapshot,
    occurrence: Occurrence,
    role: str,
    base_url: str,
    delays: dict[str, ExpectedDelay] | None = None,
    validity_url: str = "",
) -> DossierMessage:
    """`delays`: the expected decision delay per service, for the « dossier complet » message;
    `validity_url`: the public validity check, for the « acceptée » message (WIF_VALIDITY_URL)."""
    signature = signature_for(facts.service)
    student_name, company_name = student_display_name(facts), (facts.company_name or "").strip() or "l'employeur"
    common = dict(
        role=role,
        dossier_number=facts.number,
        student_name=student_name,
        company_name=company_name,
        occurred_on=french_date(occurrence.occurred_at),
        dossier_url=applicant_dossier_url(base_url, facts.number),
        **asdict(signature),
        footer=footer_lines(role, signature.contact, facts.number, student_name, company_name),
    )
    context_type = DOSSIER_MESSAGE_TYPES[occurrence.template]
    if context_type is HorsPerimetreContext:
        return HorsPerimetreContext(**common, reasons=tuple(f.message for f in occurrence.findings))
    if context_type is IncompletContext:
        return IncompletContext(**common, **incomplet_groups(occurrence.findings))
    if context_type is CompletContext:
        return CompletContext(**common, expected_delay=applicant_sentence(delay_of(delays or {}, facts.service)))
    if context_type is AccepteContext:
        return AccepteContext(**common, validity_url=f"{validity_url}/" if validity_url else "")
    if context_type is AptDatesInvalidContext:
        return AptDatesInvalidContext(
            **common,
            problems=tuple(problem_labels()[code] for code in occurrence.apt_problems),
            apt_start=french_date(facts.apt_start),
            apt_end=french_date(facts.apt_end),
            new_request_url=new_request_url(base_url),
        )
    return context_type(**common)
