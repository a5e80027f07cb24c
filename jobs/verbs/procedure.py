"""`wif procedure check | bind | apply | prefill-link`: keep the DS démarche in
step with the definition in mappings/ (procedure.yaml, services.csv), and bind
the definition's keys to the champs DS created (bindings.yaml settles what
labels cannot)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from connector import revision as ds_revision
from connector.client import DSClient
from connector.drift import Drift, DriftReport, compare
from core.db import Database
from core.errors import ExitCode
from core.settings import Settings
from jobs.binding import BIND_COMMAND, NotBound, bind_demarche, load_binding
from jobs.result import Result
from jobs.runtime import ds_endpoint, make_client
from jobs.status import unknown_champ_lines, unknown_champs
from mappings.binding import BindResult, bind, load_overrides
from mappings.prefill import PrefillError, prefill_link
from mappings.procedure import Procedure, default_procedure
from mappings.routing import RoutingTable, expected_groupes, load_routing_table

HELP = "Check, bind or apply the DS démarche against the definition in mappings/."

Say = Callable[[str], None]

# DS's names of the champ types, as its form editor lists them.
DS_TYPE_NAMES = {
    "address": "Adresse",
    "checkbox": "Case à cocher seule",
    "civilite": "Civilité",
    "communes": "Communes",
    "date": "Date",
    "datetime": "Date et heure",
    "decimal_number": "Nombre décimal",
    "departements": "Départements",
    "drop_down_list": "Choix simple",
    "email": "Adresse électronique",
    "explication": "Explication",
    "header_section": "Titre de section",
    "integer_number": "Nombre entier",
    "pays": "Pays",
    "phone": "Téléphone",
    "piece_justificative": "Pièce justificative",
    "repetition": "Bloc répétable",
    "siret": "Numéro SIRET",
    "text": "Texte court",
    "textarea": "Texte long",
    "yes_no": "Oui/Non",
    "label": "label",
}
EDITORS = {
    "champ": "Dans l'éditeur de formulaire (« Champs du formulaire »)",
    "annotation": "Dans l'éditeur des « Annotations privées »",
}
WHAT = {"champ": "le champ", "annotation": "l'annotation"}


def ds_type(type_champ: str) -> str:
    return f"« {DS_TYPE_NAMES.get(type_champ, type_champ)} »"


def fix_of(drift: Drift, procedure: Procedure) -> str | None:
    """What to do about one drift, in the words of DS's administrateur interface (None: the API does it)."""
    kind, _, section = drift.kind.partition("_")
    if section in EDITORS:
        editor, what, number = EDITORS[section], WHAT[section], f" n° {drift.stable_id}" if drift.stable_id else ""
        if kind == "missing":
            definition = procedure.champ(drift.subject)
            required = ", obligatoire" if definition.required else ""
            return (
                f"{editor}, ajoutez {what} « {definition.label} » de type {ds_type(definition.type)}{required} ; "
                f"s'il existe sous un autre libellé, renommez-le, ou liez-le dans mappings/bindings.yaml"
            )
        if kind == "extra":
            return f"{editor}, supprimez {what}{number} s'il ne sert pas (ou ajoutez-le à mappings/procedure.yaml)"
        if kind == "renamed":
            return f"{editor}, renommez {what}{number} en « {drift.value} »"
        if kind == "retyped":
            return (
                f"{editor}, remplacez {what}{number} par un champ de type {ds_type(str(drift.value))}"
                " (DS ne change pas le type d'un champ rempli)"
            )
        if kind == "required":
            verb = "cochez" if drift.value == "oui" else "décochez"
            return f"{editor}, {verb} « Champ obligatoire » pour {what}{number}"
        if kind == "options":
            return f"{editor}, donnez à {what}{number} exactement ces options : {drift.value}"
    if drift.kind == "rebind_needed":
        return f"check the champ n° {drift.stable_id} in DS's form editor, then run `{BIND_COMMAND} --yes`"
    if drift.kind == "missing_label":
        return f"Dans la page « Labels » de la démarche, créez le label « {drift.value} »"
    if drift.kind == "renamed_label":
        return f"Dans la page « Labels » de la démarche, renommez le label n° {drift.stable_id} en « {drift.value} »"
    if drift.kind == "extra_label":
        return f"Dans la page « Labels » de la démarche, supprimez le label « {drift.subject} » s'il ne sert pas"
    if drift.kind == "extra_groupe":
        return (
            f"Dans « Groupes d'instructeurs », fermez le groupe « {drift.subject} » s'il ne sert plus "
            f"(ou ajoutez son service à mappings/services.csv)"
        )
    if drift.kind == "closed_groupe":
        return f"Dans « Groupes d'instructeurs », rouvrez le groupe « {drift.subject} »"
    return None  # groupes and instructeurs: `wif procedure apply --yes` creates them through the API


def fetch_report(
    client: DSClient, demarche_number: int, settings: Settings, procedure: Procedure, table: RoutingTable, sessions=None
) -> DriftReport:
    """The drift of one démarche, its champs paired through the binding: the stored one
    kept (ids first), what it lacks bound in memory like `wif procedure bind` would."""
    live = ds_revision.read_demarche(client, demarche_number)
    published = ds_revision.published_revision(live)
    previous = None
    if sessions is not None:
        with sessions() as session:
            previous = load_binding(session, demarche_number)
    overrides = load_overrides(procedure=procedure).get(demarche_number, {})
    result = bind(
        procedure,
        demarche_number,
        published.get("id"),
        ds_revision.descriptors(published, live.get("labels")),
        overrides,
        previous,
    )
    report = compare(procedure, live, expected_groupes(table), settings.ds.instructeur_id or None, result.pairing())
    report.drifts += _stale_binding(previous, result)
    report.stored_binding = previous is not None
    return report


def _stale_binding(previous, result: BindResult) -> list[Drift]:
    """Keys the stored binding does not read as `wif procedure bind` now would (sync reads the stored one)."""
    if previous is None:
        return []
    drifts = []
    for key, now in result.bound.items():
        old = previous.champs.get(key)
        if old is None:
            drifts.append(
                Drift(
                    "rebind_needed",
                    key,
                    f"DS's n° {now.stable_id} « {now.label} » is not in the stored binding",
                    stable_id=now.stable_id,
                )
            )
        elif old.stable_id != now.stable_id:
            drifts.append(
                Drift(
                    "rebind_needed",
                    key,
                    f"stored n° {old.stable_id} is gone; n° {now.stable_id} « {now.label} » has its label and type",
                    stable_id=now.stable_id,
                )
            )
    return drifts


@dataclass(frozen=True)
class ApiStep:
    operation: str
    variables: dict
    description: str


def plan(
    report: DriftReport, demarche_number: int, table: RoutingTable, connector_instructeur_id: str | None
) -> list[ApiStep]:
    steps = []
    wanted = {g.label: g for g in expected_groupes(table)}
    connector = [{"id": connector_instructeur_id}] if connector_instructeur_id else []
    for drift in report.of_kind("missing_groupe"):
        groupe = wanted[drift.subject]
        instructeurs = [{"email": e} for e in groupe.instructeur_emails] + connector
        steps.append(
            ApiStep(
                "groupeInstructeurCreer",
                {
                    "input": {
                        "demarche": {"number": demarche_number},
                        "groupeInstructeur": {"label": groupe.label, "instructeurs": instructeurs},
                    }
                },
                f"créer le groupe « {groupe.label} » avec {len(instructeurs)} instructeur(s)",
            )
        )
    additions: dict[str, list[dict]] = {}
    for drift in report.of_kind("missing_instructeur", "connector_not_member"):
        if drift.kind == "missing_instructeur":
            additions.setdefault(drift.subject, []).append({"email": drift.value})
        else:
            additions.setdefault(drift.subject, []).extend(connector)
    for label, instructeurs in additions.items():
        groupe_id = report.live_groupes[label]["id"]
        steps.append(
            ApiStep(
                "groupeInstructeurAjouterInstructeurs",
                {"input": {"groupeInstructeurId": groupe_id, "instructeurs": instructeurs}},
                f"ajouter {len(instructeurs)} instructeur(s) au groupe « {label} »",
            )
        )
    return steps


def manual_steps(report: DriftReport, procedure: Procedure) -> list[str]:
    lines = [fix for fix in (fix_of(d, procedure) for d in report.drifts) if fix]
    if report.of_kind("missing_groupe"):
        lines.append(
            "Dans « Routage », vérifier que chaque nouveau groupe reçoit les dossiers attendus : "
            "l'API ne crée aucune règle de routage (le connecteur déplace lui-même les dossiers)."
        )
    return lines


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = sub.add_parser(
        "check", help="print the drift between each live démarche and the definition (exit 1 on drift)"
    )
    check.add_argument(
        "--demarche", type=int, action="append", help="démarche number (default: every one of DS_DEMARCHE_NUMBER)"
    )
    bind_ = sub.add_parser(
        "bind", help="match the definition's keys to the champs of each published revision; --yes stores it"
    )
    bind_.add_argument(
        "--demarche", type=int, action="append", help="démarche number (default: every one of DS_DEMARCHE_NUMBER)"
    )
    bind_.add_argument("--yes", action="store_true", help="store the binding (default: show it)")
    apply_ = sub.add_parser(
        "apply", help="create missing groupes and instructeurs; list what an administrateur must do"
    )
    apply_.add_argument("--demarche", type=int)
    apply_.add_argument("--yes", action="store_true", help="really send the mutations (default: show the plan)")
    link = sub.add_parser("prefill-link", help="build a DS prefill link from KEY=VALUE pairs of the definition")
    link.add_argument("--base-url", default="https://demarche.numerique.gouv.fr", help="DS host of the démarche")
    link.add_argument(
        "--demarche", type=int, help="démarche number whose binding names the champs (default: the first)"
    )
    link.add_argument("values", nargs="*", metavar="KEY=VALUE")


def run(args: argparse.Namespace, settings: Settings, database: Database) -> Result:
    procedure = default_procedure()
    result = Result()
    if args.action == "prefill-link":
        return _prefill(args, procedure, settings, database, result)
    table = load_routing_table()
    numbers = (
        tuple(args.demarche or settings.ds.demarche_numbers)
        if args.action != "apply"
        else (args.demarche or settings.ds.demarche_numbers[0],)
    )
    sessions = database.sessions
    with ds_endpoint(settings) as settings, make_client(settings) as client:
        if args.action == "bind":
            codes = [_bind(client, sessions, number, procedure, args.yes, result.say) for number in numbers]
        elif args.action == "check":
            codes = [
                _check(
                    fetch_report(client, number, settings, procedure, table, sessions), number, procedure, result.say
                )
                for number in numbers
            ]
            _unknown_champs(sessions, numbers, result.say)
        else:
            report = fetch_report(client, numbers[0], settings, procedure, table, sessions)
            codes = [_apply(client, report, numbers[0], table, settings, args.yes, procedure, result.say)]
    result.exit_code = max(codes)
    return result


def _check(report: DriftReport, demarche_number: int, procedure: Procedure, say: Say) -> int:
    if not report.stored_binding:
        say(
            f"démarche {demarche_number}: no binding stored yet (champs paired by label and type for this check); "
            f"`{BIND_COMMAND}` shows it, `{BIND_COMMAND} --yes` stores it"
        )
    if not report.has_drift:
        say(f"démarche {demarche_number} (révision {report.revision_id}): conforme à la définition, aucun écart")
        return ExitCode.OK
    say(f"démarche {demarche_number} (révision {report.revision_id}): {len(report.drifts)} écart(s)")
    for drift in report.drifts:
        fix = fix_of(drift, procedure)
        say("  " + drift.line() + (f"\n      → {fix}" if fix else "\n      → `wif procedure apply --yes`"))
    return ExitCode.FAILED


def _unknown_champs(sessions, numbers: tuple[int, ...], say: Say) -> None:
    """What the dossiers already synced carry that the procedure does not know (a champ of an older or newer
    revision): the operators' alert, not a drift of the published form."""
    with sessions() as session:
        champs = [u for number in numbers for u in unknown_champs(session, number)]
    for line in unknown_champ_lines(champs):
        say(line)


def _bind(client: DSClient, sessions, demarche_number: int, procedure: Procedure, confirmed: bool, say: Say) -> int:
    result = bind_demarche(client, sessions, demarche_number, procedure=procedure, store=confirmed)
    for line in binding_lines(result):
        say(line)
    if result.blocking:
        say(
            f"démarche {demarche_number}: NOT bound: {len(result.blocking)} problem(s) above to settle in DS or in "
            f"mappings/bindings.yaml (`{demarche_number}: {{key: <stable id>}}`), then run `{BIND_COMMAND}` again"
        )
        return ExitCode.FAILED
    if confirmed:
        say(f"démarche {demarche_number}: binding stored ({len(result.bound)} keys, revision {result.revision_id})")
    else:
        say(f"démarche {demarche_number}: nothing stored; `{BIND_COMMAND} --yes` stores this binding")
    return ExitCode.OK


def binding_lines(result: BindResult) -> list[str]:
    lines = [f"démarche {result.demarche_number}, published revision {result.revision_id}"]
    if result.changes is not None:
        # A rebind: the stored ids are kept; only what DS changed since is worth reading.
        lines.append(f"  changes since the stored binding: {len(result.changes) or 'none'}")
        lines += ["    " + change.line() for change in result.changes]
    else:
        width = max((len(key) for key in result.bound), default=10)
        lines.append(f"  {'key':<{width}}  stable id  label on DS")
        lines += [f"  {key:<{width}}  {bound.stable_id:>9}  « {bound.label} »" for key, bound in result.bound.items()]
    for problem in result.problems:
        blocking = " (blocks the binding)" if problem in result.blocking else ""
        lines.append("  " + problem.line() + blocking)
    # On a rebind the champs no key claims were listed before; the new ones are among the changes.
    for descriptor in result.unclaimed if result.changes is None else ():
        lines.append(
            f"  unclaimed        {descriptor.section} n° {descriptor.stable_id} « {descriptor.label} » "
            f"({descriptor.type}): no key reads it"
        )
    return lines


def _apply(
    client: DSClient,
    report: DriftReport,
    demarche_number: int,
    table: RoutingTable,
    settings: Settings,
    confirmed: bool,
    procedure: Procedure,
    say: Say,
) -> int:
    steps = plan(report, demarche_number, table, settings.ds.instructeur_id or None)
    say(f"{len(steps)} modification(s) par l'API" + ("" if confirmed else " (plan seulement ; --yes pour appliquer)"))
    failures = 0
    for step in steps:
        if not confirmed:
            say(f"  - {step.description}")
            continue
        payload = client.execute(step.operation, step.variables)[step.operation]
        errors = [e["message"] for e in payload.get("errors") or []]
        warnings = [w["message"] for w in payload.get("warnings") or []]
        failures += bool(errors)
        say(
            f"  - {step.description}: "
            + ("ÉCHEC " + "; ".join(errors) if errors else "fait")
            + (f" (avertissements : {'; '.join(warnings)})" if warnings else "")
        )
    manual = manual_steps(report, procedure)
    if manual:
        say(f"\nÀ faire par un administrateur dans l'interface de DS ({len(manual)} étape(s)) :")
        for number, line in enumerate(manual, 1):
            say(f"  {number}. {line}")
    return ExitCode.FAILED if failures else ExitCode.OK


def _prefill(
    args: argparse.Namespace, procedure: Procedure, settings: Settings, database: Database, result: Result
) -> Result:
    values = {}
    for pair in args.values:
        key, separator, value = pair.partition("=")
        if not separator:
            raise PrefillError(f"expected KEY=VALUE, got {pair!r}")
        values[key] = value
    number = args.demarche or settings.ds.demarche_numbers[0]
    with database.sessions() as session:
        binding = load_binding(session, number)
    if binding is None:
        raise NotBound(number, ["no binding"], "no link can name its champs")
    result.say(prefill_link(args.base_url, procedure, values, binding))
    return result
