"""What the connector wants an agent to see on DS for one dossier: its
groupe instructeur, private annotations, label and message to the applicant.
Pure functions of the stored dossier: no database, no network.

The values are functions of the dossier's content only (never of the time of
the run), so that re-evaluating a dossier after our own mutation bumped its
`dateDerniereModification` plans nothing new. `connector.push.intents` diffs
this target with what DS shows.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Mapping

from core.clock import PARIS
from core.snapshot import DossierSnapshot, FindingFact
from mappings import checks
from mappings.expected_delay import ExpectedDelay, agent_text, delay_of
from mappings.finding_groups import DOCUMENT_GROUPS, finding_groups, is_document_code
from mappings.routing import load_routing_table

# The document groups of mappings/finding_groups.csv: what the annotation « pièces manquantes » lists.
DOCUMENT_CODES = frozenset(code for code, group in finding_groups().items() if group in DOCUMENT_GROUPS)
OUTDATED_CODES = frozenset({"permit_expired_at_start"})



@dataclass(frozen=True)
class StatusDisplay:
    label_key: str  # the procedure's label (procedure.yaml `labels`)
    option: str  # the option of the « Complétude » annotation (wif_statut)


# The one mapping from a completeness status to what agents see on DS: its label and its Complétude
# option, so an « incomplet » dossier never carries « À vérifier » and an out-of-scope one never reads
# Complétude « à vérifier ». tests/test_target.py checks it against procedure.yaml.
STATUS_DISPLAY = {
    checks.COMPLET: StatusDisplay("complet", "complet"),
    checks.INCOMPLET: StatusDisplay("incomplet", "incomplet"),
    checks.A_VERIFIER: StatusDisplay("a_verifier", "à vérifier"),
    checks.HORS_PERIMETRE: StatusDisplay("hors_perimetre", "hors périmètre"),
}
# A dossier with no status yet (never evaluated) is for an agent to look at.
UNKNOWN_STATUS = checks.A_VERIFIER


def status_display(status: str | None) -> StatusDisplay:
    return STATUS_DISPLAY.get(status or "", STATUS_DISPLAY[UNKNOWN_STATUS])
NONE_TEXT = "Aucune"


@dataclass(frozen=True)
class Message:
    codes: tuple[str, ...]  # finding identities the message covers
    body: str
    correction: str | None  # incomplete | incorrect | outdated, or None


@dataclass(frozen=True)
class Target:
    annotations: dict[str, str]
    label_keys: frozenset[str]
    groupe_label: str | None
    message: Message | None


@cache
def _departement_names() -> dict[str, str]:
    return {code: info.name for code, info in load_routing_table().departements.items()}


def _hours_text(view: DossierSnapshot) -> str:
    annual, start = view.annual_hours, view.hours_year_start
    if annual is None:
        return "Non calculable (heures ou dates manquantes)"
    year = f"{annual:.0f} h sur l'année du titre la plus chargée" + (f" (à partir du {start:%d/%m/%Y})" if start else "")
    if view.hours_cap is None:
        return f"{year} (aucun seuil ni plafond retenu : contrat exempté ou nationalité inconnue)"
    if view.hours_limit_kind == "threshold":
        return f"{year} / seuil {view.hours_cap:.0f} h (APT nécessaire au-delà)"
    return f"{year} / plafond {view.hours_cap:.0f} h"


def _lines(messages) -> str:
    lines = [f"- {m}" for m in messages]
    return "\n".join(lines) if lines else NONE_TEXT


def _version_text(view: DossierSnapshot) -> str:
    changed = view.champs_modified_at or view.date_depot
    version = changed.astimezone(PARIS).strftime("%d/%m/%Y %H:%M") if changed else "inconnue"
    return f"Règles {view.rules_revision or '?'} appliquées au dossier dans sa version du {version}"


def finding_identity(finding: FindingFact) -> str:
    return f"{finding.code}:{finding.field or ''}"


def applicant_findings(view: DossierSnapshot) -> list[FindingFact]:
    """What the applicant can fix: blocking findings, except scope questions left to agents."""
    return [f for f in view.findings if f.severity == "blocking" and not f.code.startswith("out_of_scope")]


def _message(view: DossierSnapshot) -> Message | None:
    findings = applicant_findings(view)
    # Only while the dossier is en construction: once instruction has begun, asking the applicant
    # for a correction is the agent's decision (it would take the dossier back to en construction).
    if not findings or view.state != "en_construction":
        return None
    codes = {f.code for f in findings}
    if any(is_document_code(code) for code in codes):
        correction = "incomplete"
    elif codes & OUTDATED_CODES:
        correction = "outdated"
    else:
        correction = "incorrect"
    body = (
        "Bonjour,\n\n"
        f"Votre demande d'autorisation provisoire de travail (dossier n° {view.number}) ne peut pas encore être instruite :\n"
        f"{_lines(f.message for f in findings)}\n\n"
        "Merci de compléter ou de corriger votre dossier. Dès qu'il sera complet, le service l'instruira.\n\n"
        "Ce message est envoyé automatiquement par Work in France."
    )
    return Message(tuple(sorted(finding_identity(f) for f in findings)), body, correction)


def target_for(view: DossierSnapshot, delays: Mapping[str, ExpectedDelay] | None = None) -> Target:
    """`delays`: the expected decision delay per service (mappings.expected_delay), gathered by the caller;
    without them the « délai attendu » annotation is left as it is."""
    documents = [f.message for f in view.findings if is_document_code(f.code)]
    anomalies = [f.message for f in view.findings if not is_document_code(f.code)]
    anomalies += list(view.mapping_issues)
    if view.routing_reason and view.routing_reason not in anomalies:
        anomalies.append(f"Orientation : {view.routing_reason}")
    name = _departement_names().get(view.departement or "")
    departement = f"{view.departement} – {name}" if view.departement and name else (view.departement or "Non déterminé")
    annotations = {
        "wif_service": view.service or "Aucun service : orientation manuelle",
        "wif_departement": departement,
        "wif_statut": status_display(view.completeness_status).option,
        "wif_pieces_manquantes": _lines(documents),
        "wif_anomalies": _lines(anomalies),
        "wif_heures_annuelles": _hours_text(view),
        "wif_derniere_verification": _version_text(view),
    }
    if delays is not None:
        annotations["wif_delai_attendu"] = agent_text(delay_of(dict(delays), view.service))
    return Target(
        annotations=annotations,
        label_keys=frozenset({status_display(view.completeness_status).label_key}),
        groupe_label=view.target_groupe_label,
        message=_message(view),
    )
