"""`wif sandbox`: seed a local DS sandbox and serve it until Ctrl-C / SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys

from core.errors import ExitCode, HostRefused
from jobs.result import Result
from jobs.runtime import sandbox_store
from sandbox.demarche import CONNECTOR_INSTRUCTEUR_ID
from sandbox.faults import parse_fault_spec
from sandbox.generator import seeded_store
from sandbox.server import SandboxServer

HELP = "Start the local DS sandbox (DS's GraphQL API v2, whole public schema)."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dossiers", type=int, default=500, help="number of generated dossiers (default 500)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed; same seed, same data")
    parser.add_argument(
        "--ids-seed",
        help="seed of the stable ids DS would give the form's champs (default: --seed): "
        "the same dossiers on a démarche of other ids",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--rate-limit", type=int, default=400, help="requests per window and token (default 400)")
    parser.add_argument("--window-seconds", type=float, default=60, help="rate-limit window (default 60 s)")
    parser.add_argument(
        "--groupe",
        action="append",
        dest="groupes",
        metavar="LABEL",
        help="groupe instructeur label (repeatable; default: the groupes of mappings/services.csv, "
        "as the embedded sandbox of `wif sync`)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="inject faults: 500, 500:3, slow:2:5 (twice, 5 s), reset, drop (answer lost after "
        "executing), timeout, stuck_cursor (a page answers its start cursor as its end), "
        "timeout_when_first_above=20, timeout_when_fields_above=10, "
        "node_error=12:Commune.code (DS's data bug on dossier 12: that field null)",
    )
    parser.add_argument(
        "--webhook-url", help="call this signed webhook (JSON batches, X-Webhook-Signature-256) on every change"
    )
    parser.add_argument("--webhook-secret", help="secret (whsec_…) of --webhook-url")
    parser.add_argument(
        "--legacy-webhook-url", help="call this legacy webhook (form-encoded, unsigned) on every state change"
    )
    parser.add_argument("--webhook-lag", type=float, default=5.0, help="seconds before each delivery (DS: 5)")
    parser.add_argument(
        "--every-champ",
        type=int,
        default=0,
        metavar="N",
        help="also serve a démarche with a champ of every DS type and N dossiers (default: none)",
    )
    parser.add_argument(
        "--rebase-delay",
        type=float,
        default=None,
        metavar="SECONDS",
        help="delay before the dossiers not yet decided move onto a newly published revision (DS: 30)",
    )


def run(args: argparse.Namespace, settings, database) -> Result:
    """A server: it prints where it listens as it starts (its result comes only when it stops)."""
    ids_seed = args.seed if args.ids_seed is None else args.ids_seed
    store = (
        seeded_store(args.dossiers, args.seed, groupe_labels=args.groupes, ids_seed=ids_seed)
        if args.groupes
        else sandbox_store(args.dossiers, args.seed, ids_seed=ids_seed)
    )
    if args.every_champ:
        from sandbox.every_champ import add_every_champ_demarche

        add_every_champ_demarche(store, args.every_champ, args.seed)
    if args.rebase_delay is not None:
        store.rebase_delay = args.rebase_delay
    if args.webhook_url and not args.webhook_secret:
        return Result().fail("wif sandbox: --webhook-url needs --webhook-secret", ExitCode.CONFIG)
    try:
        faults = [parse_fault_spec(spec) for spec in args.fault]
    except ValueError as error:
        return Result().fail(f"wif sandbox: bad --fault: {error}", ExitCode.CONFIG)
    try:
        server = SandboxServer(store, args.host, args.port, args.rate_limit, args.window_seconds)
    except OSError as error:
        raise HostRefused(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}") from None
    for fault in faults:
        server.faults.configure(fault)
    sender = None
    if args.webhook_url or args.legacy_webhook_url:
        from sandbox.webhooks import WebhookSender

        sender = WebhookSender(
            store,
            url=args.webhook_url,
            secret=args.webhook_secret,
            legacy_url=args.legacy_webhook_url,
            lag=args.webhook_lag,
        ).start()
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"DS sandbox: {len(store.visible_dossiers(1))} dossiers on démarche 1 at {server.url}")
    for number in sorted(store.demarches)[1:]:
        print(f"  and {len(store.visible_dossiers(number))} on démarche {number} ({store.demarches[number].title})")
    print(f"token: {server.token}")
    print("point the connector at it with:")
    print(
        f"export DS_API_URL={server.url} DS_API_TOKEN={server.token} DS_DEMARCHE_NUMBER=1"
        f" DS_INSTRUCTEUR_ID={CONNECTOR_INSTRUCTEUR_ID}"
    )
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if sender:
            sender.stop()
        server.close()
    return Result()


def _interrupt(signum, frame):
    # SIGTERM stops the server like Ctrl-C does.
    raise KeyboardInterrupt
