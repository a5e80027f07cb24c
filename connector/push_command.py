"""`wif push`: write routing, annotations, labels and messages back to DS."""
from __future__ import annotations

import argparse
import sys

from core.settings import Settings
from connector.errors import DSError
from core.jobruns import recorded_run
from connector.push import PushStopped, PushSummary, Pusher
from connector.runtime import ds_endpoint, make_client, open_database
from mappings.procedure import default_procedure
from mappings.routing import load_routing_table


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--demarche", type=int, action="append", help="démarche number (default: DS_DEMARCHE_NUMBER)")
    parser.add_argument("--dry-run", action="store_true", help="print the planned mutations, send nothing")
    parser.add_argument("--all", action="store_true", dest="everything",
                        help="reconsider every dossier, not only those synced since the last complete push")
    parser.add_argument("--pass-to-instruction", action="store_true",
                        help="also pass complete dossiers en_construction to en_instruction (default: WIF_PASS_TO_INSTRUCTION)")
    parser.add_argument("--disable-notification", action="store_true",
                        help="with --pass-to-instruction: DS sends no e-mail to the applicant (default: WIF_DISABLE_NOTIFICATION)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.push_enabled:
        print("wif push: disabled (WIF_PUSH_ENABLED=false): nothing is written to DS")
        return 0
    try:
        with ds_endpoint(settings) as settings:
            summaries = run_push(
                settings,
                demarches=tuple(args.demarche or settings.demarche_numbers),
                dry_run=args.dry_run,
                everything=args.everything,
                pass_to_instruction=args.pass_to_instruction or settings.pass_to_instruction,
                disable_notification=args.disable_notification or settings.disable_notification,
            )
    except PushStopped as error:
        print(f"wif push: {error}", file=sys.stderr)
        return 7
    except DSError as error:
        print(f"wif push: {error}", file=sys.stderr)
        return 6
    for summary in summaries:
        print(summary.line() + (" (dry run: nothing sent)" if args.dry_run else ""))
    return 0


def departement_names() -> dict[str, str]:
    return {code: info.name for code, info in load_routing_table().departements.items()}


def run_push(
    settings: Settings,
    *,
    demarches: tuple[int, ...] | None = None,
    dry_run: bool = False,
    everything: bool = False,
    pass_to_instruction: bool = False,
    disable_notification: bool = False,
    client=None,
) -> list[PushSummary]:
    if not settings.instructeur_id:
        raise DSError("DS_INSTRUCTEUR_ID is empty: push needs the connector's instructeur (Instructeur-<id>, base64)")
    engine, sessions = open_database(settings)
    own_client = client is None
    client = client or make_client(settings)
    try:
        with recorded_run(sessions, "push") as job:
            pusher = Pusher(
                client=client,
                sessions=sessions,
                procedure=default_procedure(),
                instructeur_id=settings.instructeur_id,
                departement_names=departement_names(),
                dry_run=dry_run,
                pass_complete_to_instruction=pass_to_instruction,
                disable_notification=disable_notification,
            )
            summaries = [pusher.push(number, everything) for number in demarches or settings.demarche_numbers]
            job.summary = "; ".join(s.line() for s in summaries)
    finally:
        if own_client:
            client.close()
        engine.dispose()
    return summaries
