"""What the connector wants an agent to see on DS for one dossier: its
groupe instructeur, private annotations, label and message to the applicant.
Pure functions of the stored dossier: no database, no network.

The values are functions of the dossier's content only (never of the time of
the run), so that re-evaluating a dossier after our own mutation bumped its
`dateDerniereModification` plans nothing new. `connector.push.intents` diffs
this target with what DS shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from core.clock import PARIS
from core.snapshot import DossierSnapshot, FindingFact
from mappings import checks, cursus, student_file
from mappings.applicant_wording import applicant_groups, correction_reason, ds_message_body
from mappings.dossier import OPERATOR_ISSUES
from mappings.expected_delay import ExpectedDelay, agent_text, delay_of
from mappings.finding_groups import (
    DOCUMENT_GROUPS,
    DOCUMENT_TO_REPLACE,
    MISSING_DOCUMENT,
    finding_groups,
    group_of,
    is_document_code,
)
from mappings.pipeline import DS_UNREADABLE
from mappings.routing import load_routing_table

# The document groups of mappings/finding_groups.csv: what the annotation « pièces manquantes » lists, a pièce to add
# apart from a file sent that cannot be accepted (to replace).
DOCUMENT_CODES = frozenset(code for code, group in finding_groups().items() if group in DOCUMENT_GROUPS)
NO_MISSING_PIECE = "Aucune pièce manquante"
TO_REPLACE_HEADING = "À remplacer (fichier envoyé qui ne peut pas être accepté) :"
UNVERIFIABLE_PIECES = (
    "Non vérifiable : Démarche Numérique n'a transmis le dossier que sans ses pièces "
    "(voir « Anomalies ») ; à vérifier dans le dossier"
)
BLOCKING_HEADING = "Bloque la demande :"
OTHERS_HEADING = "Autres points :"


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
    year = f"{annual:.0f} h sur l'année du titre la plus chargée" + (
        f" (à partir du {start:%d/%m/%Y})" if start else ""
    )
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
    if read_without_objects(view):
        return None  # what DS failed to send is not the applicant's to send again
    # Only while the dossier is en construction: once instruction has begun, asking the applicant
    # for a correction is the agent's decision (it would take the dossier back to en construction).
    if not findings or view.state != "en_construction":
        return None
    groups = applicant_groups(findings, checks.default_rules().document_names)
    return Message(
        tuple(sorted(finding_identity(f) for f in findings)),
        ds_message_body(view.number, groups),
        correction_reason(groups),
    )


def _pieces(view: DossierSnapshot) -> str:
    """The pièces to add, then, under their own heading, the files sent that cannot be accepted: a pièce to
    replace is not a missing one. A dossier read without its files claims nothing about them."""
    if read_without_objects(view):
        return UNVERIFIABLE_PIECES
    missing = [f.message for f in view.findings if group_of(f.code) == MISSING_DOCUMENT]
    to_replace = [f.message for f in view.findings if group_of(f.code) == DOCUMENT_TO_REPLACE]
    if not to_replace:
        return _lines(missing)
    return f"{_lines(missing) if missing else NO_MISSING_PIECE}\n{TO_REPLACE_HEADING}\n{_lines(to_replace)}"


def read_without_objects(view: DossierSnapshot) -> bool:
    """DS gave the dossier only without its champs' objects (the quarantine's reduced read): its files are unknown."""
    return any(issue.code == DS_UNREADABLE for issue in view.mapping_issues)


def _anomalies(view: DossierSnapshot) -> str:
    """What is not a pièce: what blocks the request first, under its own heading when other points follow, so that
    « Incomplet » always names its reason; an operators' alert (a champ unknown to the procedure) is not the
    agents' to act on."""
    others = [f for f in view.findings if not is_document_code(f.code)]
    blocking = [f.message for f in others if f.severity == checks.BLOCKING]
    rest = [f.message for f in others if f.severity != checks.BLOCKING]
    rest += [issue.message for issue in view.mapping_issues if issue.code not in OPERATOR_ISSUES]
    if view.routing_reason and view.routing_reason not in blocking + rest:
        rest.append(f"Orientation : {view.routing_reason}")
    if not (blocking and rest):
        return _lines(blocking + rest)
    return f"{BLOCKING_HEADING}\n{_lines(blocking)}\n{OTHERS_HEADING}\n{_lines(rest)}"


def target_for(view: DossierSnapshot, delays: Mapping[str, ExpectedDelay] | None = None) -> Target:
    """`delays`: the expected decision delay per service (mappings.expected_delay), gathered by the caller;
    without them the « délai attendu » annotation is left as it is."""
    name = _departement_names().get(view.departement or "")
    departement = f"{view.departement} – {name}" if view.departement and name else (view.departement or "Non déterminé")
    annotations = {
        "wif_service": view.service or "Aucun service : orientation manuelle",
        "wif_departement": departement,
        "wif_statut": status_display(view.completeness_status).option,
        "wif_pieces_manquantes": _pieces(view),
        "wif_anomalies": _anomalies(view),
        "wif_heures_annuelles": _hours_text(view),
        "wif_cursus": cursus.agent_text(view),
        "wif_derniere_verification": _version_text(view),
        # The other dossiers by number and their hours only: this annotation is the one place they are named.
        "wif_dossier_etudiant": view.student_file or student_file.NO_OTHER_REQUEST,
    }
    if delays is not None:
        annotations["wif_delai_attendu"] = agent_text(delay_of(dict(delays), view.service))
    return Target(
        annotations=annotations,
        label_keys=frozenset({status_display(view.completeness_status).label_key}),
        groupe_label=view.target_groupe_label,
        message=_message(view),
    )
