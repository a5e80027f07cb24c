"""From one DS dossier to everything the connector knows about it:
mapped records, routing and completeness. Pure: no database, no network.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from mappings import checks, routing
from mappings.dossier import map_dossier
from mappings.normalize import annual_hours
from mappings.procedure import Procedure, default_procedure
from mappings.records import MappedDossier, MappingIssue


@dataclass(frozen=True)
class Evaluation:
    mapped: MappedDossier
    routing: routing.Routing
    findings: list[checks.Finding] = field(default_factory=list)
    status: str = "a_verifier"
    rules_revision: str = ""
    annual_hours: Decimal | None = None
    hours_cap: Decimal | None = None

    @classmethod
    def failed(cls, raw: dict, reason: str) -> "Evaluation":
        """What is stored when evaluating a dossier raised: an agent looks at it."""
        mapped = MappedDossier(number=raw.get("number", 0))
        mapped.issues.append(MappingIssue("dossier", "internal_error", f"Lecture automatique impossible ({reason}) : à vérifier par un agent."))
        return cls(mapped=mapped, routing=routing.Routing.unrouted("Lecture automatique impossible."), status="a_verifier")


@dataclass
class Evaluator:
    procedure: Procedure
    routing_table: routing.RoutingTable
    rules: checks.Rules
    routing_key: str = "permit"

    @classmethod
    def default(cls, routing_key: str = "permit") -> "Evaluator":
        return cls(default_procedure(), routing.load_routing_table(), checks.load_rules(), routing_key)

    def __call__(self, raw: dict) -> Evaluation:
        mapped = map_dossier(raw, self.procedure)
        route = routing.route(mapped, self.routing_table, key=self.routing_key)
        findings = checks.check_dossier(mapped, self.rules)
        return Evaluation(
            mapped=mapped,
            routing=route,
            findings=findings,
            status=checks.completeness_status(findings, mapped.issues),
            rules_revision=self.rules.revision,
            annual_hours=annual_hours(mapped.contract),
            hours_cap=checks.hours_cap(mapped, self.rules),
        )
