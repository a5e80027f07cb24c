"""From one DS dossier to everything the connector knows about it:
mapped records, routing and completeness. Pure: no database, no network.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields, replace

from core.models import UNREADABLE_KEY, DossierRows
from mappings import checks, routing
from mappings.binding import Binding
from mappings.dossier import OPERATOR_ISSUES, map_dossier
from mappings.normalize import YearHours
from mappings.procedure import Procedure, default_procedure
from mappings.records import MappedDossier, MappingIssue

log = logging.getLogger(__name__)

# A dossier DS could give only without its champs' objects (the quarantine's reduced read).
DS_UNREADABLE = "ds_unreadable"


@dataclass(frozen=True)
class Evaluation:
    mapped: MappedDossier
    routing: routing.Routing
    findings: list[checks.Finding] = field(default_factory=list)
    status: str = checks.A_VERIFIER
    rules_revision: str = ""
    # The busiest titre year's hours and the figure of the student's case (threshold or ceiling).
    hours_year: YearHours | None = None
    hours_limit: checks.HoursLimit | None = None

    @classmethod
    def failed(cls, raw: dict, reason: str) -> Evaluation:
        """What is stored when evaluating a dossier raised: an agent looks at it."""
        mapped = MappedDossier(number=raw.get("number", 0))
        mapped.issues.append(
            MappingIssue(
                "dossier", "internal_error", f"Lecture automatique impossible ({reason}) : à vérifier par un agent."
            )
        )
        return cls(
            mapped=mapped, routing=routing.Routing.unrouted("Lecture automatique impossible."), status=checks.A_VERIFIER
        )

    def rows(self) -> DossierRows:
        """The evaluation as column values of the local tables."""
        mapped, route = self.mapped, self.routing
        contract = _columns(mapped.contract)
        contract["contract_type"] = mapped.contract.contract_type.value if mapped.contract.contract_type else None
        contract["hours_unit"] = mapped.contract.hours_unit.value if mapped.contract.hours_unit else None
        contract["annual_hours"] = self.hours_year.hours if self.hours_year else None
        contract["hours_year_start"] = self.hours_year.start if self.hours_year else None
        contract["hours_cap"] = self.hours_limit.hours if self.hours_limit else None
        contract["hours_limit_kind"] = self.hours_limit.kind if self.hours_limit else None
        return DossierRows(
            dossier={
                "apt_start": mapped.agent.apt_start,
                "apt_end": mapped.agent.apt_end,
                "departement": route.departement,
                "departement_source": route.departement_source,
                "employer_departement": route.employer_departement,
                "service": route.service,
                "target_groupe_label": route.groupe_label,
                "routing_reason": route.reason,
                "out_of_scope": route.out_of_scope,
                "completeness_status": self.status,
                "rules_revision": self.rules_revision,
            },
            complete=self.status == checks.COMPLET,
            student=_columns(mapped.student),
            employer=_columns(mapped.employer),
            contract=contract,
            documents=[
                {
                    "document_key": document.key,
                    "filename": file.filename,
                    "content_type": file.content_type,
                    "byte_size": file.byte_size,
                    "checksum": file.checksum,
                }
                for document in mapped.documents.values()
                for file in document.files
            ],
            issues=[{"field": issue.field, "code": issue.code, "message": issue.message} for issue in mapped.issues],
            findings=[
                {
                    "code": f.code,
                    "severity": f.severity,
                    "field": f.field,
                    "message": f.message,
                    "rules_revision": self.rules_revision,
                }
                for f in self.findings
            ],
        )


def _read_without_objects(
    mapped: MappedDossier, findings: list, unreadable: list, binding: Binding
) -> tuple[list, str]:
    """DS could give this dossier only without its champs' objects (files,
    communes, addresses, établissement): an agent looks at it. What the
    checks found is kept for the agent, but nothing asks the applicant to fix
    what DS failed to send."""
    keys = {bound.descriptor_id: key for key, bound in binding.champs.items()}
    for entry in unreadable:
        entry = entry if isinstance(entry, dict) else {}
        label = entry.get("label") or "inconnu"
        mapped.issues.append(
            MappingIssue(
                keys.get(entry.get("champDescriptorId") or "", "dossier"),
                DS_UNREADABLE,
                f"Champ « {label} » illisible sur Démarche Numérique ({entry.get('message') or 'erreur'}) : "
                "dossier lu sans le détail des champs (pièces, communes, adresses, établissement), à vérifier par un "
                "agent.",
            )
        )
    softened = [f if f.severity != checks.BLOCKING else replace(f, severity=checks.WARNING) for f in findings]
    return softened, checks.A_VERIFIER


def _columns(record) -> dict:
    """A flat record's fields as column values (dataclasses.asdict would deep-copy each value)."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


@dataclass
class Evaluator:
    procedure: Procedure
    routing_table: routing.RoutingTable
    rules: checks.Rules
    # The démarche's stored binding: which DS champ each key reads.
    binding: Binding
    routing_key: str = "permit"

    @classmethod
    def default(cls, binding: Binding, routing_key: str = "permit") -> Evaluator:
        return cls(default_procedure(), routing.load_routing_table(), checks.load_rules(), binding, routing_key)

    def evaluate(self, raw: dict) -> Evaluation:
        mapped = map_dossier(raw, self.procedure, self.binding, rules=self.rules)
        route = routing.route(mapped, self.routing_table, key=self.routing_key)
        findings = checks.check_dossier(mapped, self.rules) + list(checks.check_routing(route))
        status = checks.completeness_status(findings, [i for i in mapped.issues if i.code not in OPERATOR_ISSUES])
        unreadable = raw.get(UNREADABLE_KEY) if isinstance(raw, dict) else None
        if unreadable:
            findings, status = _read_without_objects(mapped, findings, unreadable, self.binding)
        return Evaluation(
            mapped=mapped,
            routing=route,
            findings=findings,
            status=status,
            rules_revision=self.rules.revision,
            hours_year=checks.titre_year_hours(mapped, self.rules),
            hours_limit=checks.hours_limit(mapped, self.rules),
        )

    def rows(self, raw: dict) -> DossierRows:
        """The rows to store for a dossier; never raises, so one bad dossier cannot stop a sync."""
        try:
            return self.evaluate(raw).rows()
        except Exception as error:  # noqa: BLE001 — stored with an issue, for an agent to look at
            # The type only: the message could quote personal data.
            log.error(
                "dossier %s: evaluation failed (%s); stored with an issue", raw.get("number"), type(error).__name__
            )
            return Evaluation.failed(raw, type(error).__name__).rows()
