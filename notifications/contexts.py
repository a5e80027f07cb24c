"""One typed context per template, and the pure functions that build them.

A template only sees the fields of its dataclass (the renderer uses
StrictUndefined), so a typo in a template fails in the tests, not in a
mailbox.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, ClassVar

from core.clock import PARIS

from mappings.checks import default_rules
from mappings.finding_groups import ANSWER_TO_CORRECT, DOCUMENT_TO_REPLACE, MISSING_DOCUMENT, by_group
from mappings.expected_delay import ExpectedDelay, applicant_sentence, delay_of
from notifications.apt_dates import problem_labels
from core.snapshot import DossierSnapshot, FindingFact

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
    CONTEXT_TYPES, its `SUBJECT`, its fields (what the template may use), and
    `ROLES`, who may receive it."""

    ROLES: ClassVar[tuple[str, ...]] = ("applicant", "employer")

    role: str  # applicant | employer
    dossier_number: int
    student_name: str
    company_name: str
    occurred_on: str
    dossier_url: str  # the applicant's page on DS; the employer has no DS access

    def subject(self) -> str:
        return self.SUBJECT.format(number=self.dossier_number)


@dataclass(frozen=True)
class DepotContext(DossierMessage):
    SUBJECT: ClassVar[str] = "Demande d'autorisation provisoire de travail n° {number} : bien reçue"


@dataclass(frozen=True)
class IncompletContext(DossierMessage):
    SUBJECT: ClassVar[str] = "Demande d'autorisation provisoire de travail n° {number} : {what}"

    # The blocking findings as mappings/finding_groups.csv groups them; each group has its own wording.
    missing_documents: tuple[str, ...]  # names of the pièces to add
    documents_to_replace: tuple[str, ...]  # what is wrong with a file that was sent
    answers_to_correct: tuple[str, ...]  # what is wrong with an answer in the form

    def subject(self) -> str:
        """Led by the first group the applicant must act on: a wrong SIRET is not « pièces manquantes »."""
        what = ("pièces manquantes" if self.missing_documents else "pièces à remplacer" if self.documents_to_replace
                else "réponses à corriger" if self.answers_to_correct else "dossier incomplet")
        return self.SUBJECT.format(number=self.dossier_number, what=what)


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
    to_orient: bool = False  # the fallback groupe's digest: dossiers no service instructs yet


CONTEXT_TYPES: dict[str, type] = {
    "depot": DepotContext,
    "incomplet": IncompletContext,
    "complet": CompletContext,
    "en_instruction": EnInstructionContext,
    "accepte": AccepteContext,
    "refuse": RefuseContext,
    "sans_suite": SansSuiteContext,
    "apt_dates_invalid": AptDatesInvalidContext,
    "digest": DigestContext,
}


def student_display_name(facts: DossierSnapshot) -> str:
    name = " ".join(part.strip() for part in (facts.student_first_name, facts.student_last_name) if part and part.strip())
    return name or "l'étudiant"


def applicant_dossier_url(base_url: str, number: int) -> str:
    return f"{base_url}/dossiers/{number}"


def agent_dossier_url(base_url: str, demarche_number: int, number: int) -> str:
    return f"{base_url}/procedures/{demarche_number}/dossiers/{number}"


def new_request_url(base_url: str) -> str:
    from mappings.procedure import default_procedure

    return f"{base_url}/commencer/{default_procedure().path}"


def _document_name(finding: FindingFact) -> str:
    # The pièce's own name reads better under « Pièces à ajouter » than the agents' « Pièce manquante : … ».
    name = default_rules().document_names.get(finding.field or "")
    return name[:1].upper() + name[1:] if name else finding.message


def incomplet_groups(findings: tuple[FindingFact, ...]) -> dict[str, tuple[str, ...]]:
    grouped = by_group(findings)
    return {
        "missing_documents": tuple(_document_name(f) for f in grouped[MISSING_DOCUMENT]),
        "documents_to_replace": tuple(f.message for f in grouped[DOCUMENT_TO_REPLACE]),
        "answers_to_correct": tuple(f.message for f in grouped[ANSWER_TO_CORRECT]),
    }


def dossier_context(facts: DossierSnapshot, occurrence: Occurrence, role: str, base_url: str,
                    delays: dict[str, ExpectedDelay] | None = None) -> DossierMessage:
    """`delays`: the expected decision delay per service, for the « dossier complet » message."""
    common = dict(
        role=role,
        dossier_number=facts.number,
        student_name=student_display_name(facts),
        company_name=(facts.company_name or "").strip() or "l'employeur",
        occurred_on=french_date(occurrence.occurred_at),
        dossier_url=applicant_dossier_url(base_url, facts.number),
    )
    context_type = CONTEXT_TYPES[occurrence.template]
    if context_type is IncompletContext:
        return IncompletContext(**common, **incomplet_groups(occurrence.findings))
    if context_type is CompletContext:
        return CompletContext(**common, expected_delay=applicant_sentence(delay_of(delays or {}, facts.service)))
    if context_type is AptDatesInvalidContext:
        return AptDatesInvalidContext(
            **common,
            problems=tuple(problem_labels()[code] for code in occurrence.apt_problems),
            apt_start=french_date(facts.apt_start),
            apt_end=french_date(facts.apt_end),
            new_request_url=new_request_url(base_url),
        )
    return context_type(**common)
