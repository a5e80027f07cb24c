"""`wif procedure check | apply | prefill-link`: keep the DS démarche in step
with the definition in mappings/ (procedure.yaml, services.csv)."""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from connector.client import DSClient
from core.settings import Settings
from connector.drift import DriftReport, compare
from connector.errors import DSError
from mappings.prefill import PrefillError, prefill_link
from jobs.runtime import ds_endpoint, make_client
from mappings.procedure import Procedure, default_procedure
from mappings.routing import RoutingTable, expected_groupes, load_routing_table

HELP = "Check or apply the DS démarche against the definition in mappings/."

# Drift that only an administrateur can fix in the DS interface.
MANUAL_STEPS = {
    "missing_champ": "Ajouter le champ",
    "extra_champ": "Retirer (ou ajouter à la définition) le champ",
    "renamed_champ": "Renommer le champ",
    "retyped_champ": "Changer le type du champ",
    "required_champ": "Corriger le caractère obligatoire du champ",
    "options_champ": "Corriger les options du champ",
    "champ_id_changed": "Vérifier le champ (identifiant différent)",
    "missing_annotation": "Ajouter l'annotation privée",
    "extra_annotation": "Retirer (ou ajouter à la définition) l'annotation privée",
    "renamed_annotation": "Renommer l'annotation privée",
    "retyped_annotation": "Changer le type de l'annotation privée",
    "required_annotation": "Corriger le caractère obligatoire de l'annotation",
    "options_annotation": "Corriger les options de l'annotation",
    "annotation_id_changed": "Vérifier l'annotation (identifiant différent)",
    "missing_label": "Créer le label",
    "extra_label": "Supprimer le label",
    "extra_groupe": "Fermer ou supprimer le groupe instructeur",
    "closed_groupe": "Rouvrir le groupe instructeur",
}


def fetch_report(client: DSClient, demarche_number: int, settings: Settings, procedure: Procedure, table: RoutingTable) -> DriftReport:
    live = client.execute("getDemarcheDescriptor", {"demarcheNumber": demarche_number})["demarche"]
    return compare(procedure, live, expected_groupes(table), settings.ds.instructeur_id or None)


@dataclass(frozen=True)
class ApiStep:
    operation: str
    variables: dict
    description: str


def plan(report: DriftReport, demarche_number: int, table: RoutingTable, connector_instructeur_id: str | None) -> list[ApiStep]:
    steps = []
    wanted = {g.label: g for g in expected_groupes(table)}
    connector = [{"id": connector_instructeur_id}] if connector_instructeur_id else []
    for drift in report.of_kind("missing_groupe"):
        groupe = wanted[drift.subject]
        instructeurs = [{"email": e} for e in groupe.instructeur_emails] + connector
        steps.append(ApiStep(
            "groupeInstructeurCreer",
            {"input": {"demarche": {"number": demarche_number}, "groupeInstructeur": {"label": groupe.label, "instructeurs": instructeurs}}},
            f"créer le groupe « {groupe.label} » avec {len(instructeurs)} instructeur(s)",
        ))
    additions: dict[str, list[dict]] = {}
    for drift in report.of_kind("missing_instructeur", "connector_not_member"):
        if drift.kind == "missing_instructeur":
            additions.setdefault(drift.subject, []).append({"email": drift.value})
        else:
            additions.setdefault(drift.subject, []).extend(connector)
    for label, instructeurs in additions.items():
        groupe_id = report.live_groupes[label]["id"]
        steps.append(ApiStep(
            "groupeInstructeurAjouterInstructeurs",
            {"input": {"groupeInstructeurId": groupe_id, "instructeurs": instructeurs}},
            f"ajouter {len(instructeurs)} instructeur(s) au groupe « {label} »",
        ))
    return steps


def manual_steps(report: DriftReport) -> list[str]:
    lines = [f"{MANUAL_STEPS[d.kind]} : {d.subject} — {d.detail}" for d in report.drifts if d.kind in MANUAL_STEPS]
    if report.of_kind("missing_groupe"):
        lines.append(
            "Dans « Routage », vérifier que chaque nouveau groupe reçoit les dossiers attendus : "
            "l'API ne crée aucune règle de routage (le connecteur déplace lui-même les dossiers)."
        )
    return lines


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = sub.add_parser("check", help="print the drift between the live démarche and the definition (exit 1 on drift)")
    check.add_argument("--demarche", type=int, help="démarche number (default: the first of DS_DEMARCHE_NUMBER)")
    apply_ = sub.add_parser("apply", help="create missing groupes and instructeurs; list what an administrateur must do")
    apply_.add_argument("--demarche", type=int)
    apply_.add_argument("--yes", action="store_true", help="really send the mutations (default: show the plan)")
    link = sub.add_parser("prefill-link", help="build a DS prefill link from KEY=VALUE pairs of the definition")
    link.add_argument("--base-url", default="https://demarche.numerique.gouv.fr", help="DS host of the démarche")
    link.add_argument("values", nargs="*", metavar="KEY=VALUE")


def run(args: argparse.Namespace, settings: Settings) -> int:
    procedure = default_procedure()
    if args.action == "prefill-link":
        return _prefill(args, procedure)
    table = load_routing_table()
    demarche_number = args.demarche or settings.ds.demarche_numbers[0]
    try:
        with ds_endpoint(settings) as settings, make_client(settings) as client:
            report = fetch_report(client, demarche_number, settings, procedure, table)
            if args.action == "check":
                return _print_check(report, demarche_number)
            return _apply(client, report, demarche_number, table, settings, args.yes)
    except DSError as error:
        print(f"wif procedure: {error}", file=sys.stderr)
        return 3


def _print_check(report: DriftReport, demarche_number: int) -> int:
    if not report.has_drift:
        print(f"démarche {demarche_number} (révision {report.revision_id}): conforme à la définition, aucun écart")
        return 0
    print(f"démarche {demarche_number} (révision {report.revision_id}): {len(report.drifts)} écart(s)")
    for drift in report.drifts:
        print("  " + drift.line())
    return 1


def _apply(client: DSClient, report: DriftReport, demarche_number: int, table: RoutingTable, settings: Settings, confirmed: bool) -> int:
    steps = plan(report, demarche_number, table, settings.ds.instructeur_id or None)
    print(f"{len(steps)} modification(s) par l'API" + ("" if confirmed else " (plan seulement ; --yes pour appliquer)"))
    failures = 0
    for step in steps:
        if not confirmed:
            print(f"  - {step.description}")
            continue
        payload = client.execute(step.operation, step.variables)[step.operation]
        errors = [e["message"] for e in payload.get("errors") or []]
        warnings = [w["message"] for w in payload.get("warnings") or []]
        failures += bool(errors)
        print(f"  - {step.description}: " + ("ÉCHEC " + "; ".join(errors) if errors else "fait") + (f" (avertissements : {'; '.join(warnings)})" if warnings else ""))
    manual = manual_steps(report)
    if manual:
        print(f"\nÀ faire par un administrateur dans l'interface de DS ({len(manual)} étape(s)) :")
        for number, line in enumerate(manual, 1):
            print(f"  {number}. {line}")
    return 1 if failures else 0


def _prefill(args: argparse.Namespace, procedure: Procedure) -> int:
    values = {}
    for pair in args.values:
        key, separator, value = pair.partition("=")
        if not separator:
            print(f"wif procedure prefill-link: expected KEY=VALUE, got {pair!r}", file=sys.stderr)
            return 2
        values[key] = value
    try:
        print(prefill_link(args.base_url, procedure, values))
    except PrefillError as error:
        print(f"wif procedure prefill-link: {error}", file=sys.stderr)
        return 2
    return 0
