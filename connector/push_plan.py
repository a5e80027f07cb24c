"""What the connector wants an agent to see on DS for one dossier, and the
difference with what DS shows. Pure functions: no database, no network.

The values are functions of the dossier's content only (never of the time of
the run), so that re-evaluating a dossier after our own mutation bumped its
`dateDerniereModification` plans nothing new.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

from core.models import DECIDED_STATES
from core.clock import PARIS, parse_ds_datetime

DOCUMENT_CODES = frozenset({"missing_document", "too_many_files", "file_type_not_allowed", "file_too_large", "empty_file"})
OUTDATED_CODES = frozenset({"permit_expired_at_start"})
STATUS_OPTION = {"complet": "complet", "incomplet": "incomplet", "a_verifier": "à vérifier", "hors_perimetre": "à vérifier"}
NONE_TEXT = "Aucune"


@dataclass(frozen=True)
class FindingView:
    code: str
    severity: str
    message: str
    field: str | None = None


@dataclass(frozen=True)
class DossierView:
    """The stored facts push needs about one dossier."""

    number: int
    ds_id: str
    state: str
    status: str | None
    service: str | None
    departement: str | None
    departement_name: str | None
    target_groupe_label: str | None
    routing_reason: str | None
    out_of_scope: bool
    annual_hours: Decimal | None
    hours_cap: Decimal | None
    rules_revision: str | None
    findings: tuple[FindingView, ...]
    mapping_issue_messages: tuple[str, ...]
    raw: dict


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


@dataclass(frozen=True)
class Intent:
    kind: str  # groupe | annotations | label_add | label_remove | message
    payload: dict

    @property
    def payload_hash(self) -> str:
        return hashlib.sha256(json.dumps([self.kind, self.payload], sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class Current:
    """What DS shows: the last fetched dossier, plus our deliveries since."""

    annotations: dict[str, str | None]
    label_keys: frozenset[str]
    groupe_label: str | None
    messaged_codes: frozenset[str]


def _hours_text(annual: Decimal | None, cap: Decimal | None) -> str:
    if annual is None:
        return "Non calculable (heures ou dates manquantes)"
    if cap is None:
        return f"{annual:.0f} h sur 12 mois (pas de plafond pour ce contrat)"
    return f"{annual:.0f} h sur 12 mois / plafond {cap:.0f} h"


def _lines(messages) -> str:
    lines = [f"- {m}" for m in messages]
    return "\n".join(lines) if lines else NONE_TEXT


def _version_text(view: DossierView) -> str:
    changed = parse_ds_datetime(view.raw.get("dateDerniereModificationChamps") or view.raw.get("dateDepot"))
    version = changed.astimezone(PARIS).strftime("%d/%m/%Y %H:%M") if changed else "inconnue"
    return f"Règles {view.rules_revision or '?'} appliquées au dossier dans sa version du {version}"


def finding_identity(finding: FindingView) -> str:
    return f"{finding.code}:{finding.field or ''}"


def applicant_findings(view: DossierView) -> list[FindingView]:
    """What the applicant can fix: blocking findings, except scope questions left to agents."""
    return [f for f in view.findings if f.severity == "blocking" and not f.code.startswith("out_of_scope")]


def _message(view: DossierView) -> Message | None:
    findings = applicant_findings(view)
    if not findings or view.state in DECIDED_STATES:
        return None
    codes = {f.code for f in findings}
    if codes & DOCUMENT_CODES:
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


def _label_key(view: DossierView) -> str | None:
    if view.status == "hors_perimetre" or view.out_of_scope:
        return "hors_perimetre"
    if view.status == "complet":
        return "complet"
    if view.status == "incomplet" and any(f.code in DOCUMENT_CODES for f in view.findings):
        return "pieces_manquantes"
    if view.status in ("incomplet", "a_verifier"):
        return "a_verifier"
    return None


def target_for(view: DossierView) -> Target:
    documents = [f.message for f in view.findings if f.code in DOCUMENT_CODES]
    anomalies = [f.message for f in view.findings if f.code not in DOCUMENT_CODES]
    anomalies += list(view.mapping_issue_messages)
    if view.routing_reason:
        anomalies.append(f"Orientation : {view.routing_reason}")
    departement = f"{view.departement} – {view.departement_name}" if view.departement and view.departement_name else (view.departement or "Non déterminé")
    annotations = {
        "wif_service": view.service or "Aucun service : orientation manuelle",
        "wif_departement": departement,
        "wif_statut": STATUS_OPTION.get(view.status or "", "à vérifier"),
        "wif_pieces_manquantes": _lines(documents),
        "wif_anomalies": _lines(anomalies),
        "wif_heures_annuelles": _hours_text(view.annual_hours, view.hours_cap),
        "wif_derniere_verification": _version_text(view),
    }
    label = _label_key(view)
    return Target(
        annotations=annotations,
        label_keys=frozenset({label} if label else ()),
        groupe_label=view.target_groupe_label,
        message=_message(view),
    )


def plan(target: Target, current: Current, managed_label_keys: frozenset[str]) -> list[Intent]:
    """Intents in the order they must be sent: the groupe first, because the
    other mutations need an instructeur of the dossier's *current* groupe."""
    intents = []
    if target.groupe_label and target.groupe_label != current.groupe_label:
        intents.append(Intent("groupe", {"groupe_label": target.groupe_label}))
    changed = {k: v for k, v in target.annotations.items() if (current.annotations.get(k) or "") != v}
    if changed:
        intents.append(Intent("annotations", {"values": dict(sorted(changed.items()))}))
    for key in sorted(target.label_keys - current.label_keys):
        intents.append(Intent("label_add", {"label_key": key}))
    for key in sorted((current.label_keys & managed_label_keys) - target.label_keys):
        intents.append(Intent("label_remove", {"label_key": key}))
    message = target.message
    if message and not set(message.codes) <= current.messaged_codes:
        intents.append(Intent("message", {"codes": list(message.codes), "body": message.body, "correction": message.correction}))
    return intents
