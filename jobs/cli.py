"""`wif`: one verb per job. Commands only wire the packages together.

Each command lives in its own module exposing `configure(parser)` and
`run(args, settings) -> int`; this file only lists them.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from core.settings import ConfigError, load_settings

COMMANDS = {
    "sandbox": ("sandbox.command", "Start the local DS sandbox (GraphQL API v2 subset)."),
    "sync": ("connector.sync_command", "Poll DS and update the local copy of every dossier."),
    "stats": ("stats.command", "Write the public statistics site (index.html, stats.json, CSV)."),
    "report": ("stats.report_command", "Write the monthly xlsx report of each service."),
    "notify": ("notifications.command", "E-mail applicants and employers the steps of their request."),
    "digest": ("notifications.digest_command", "E-mail each service its daily digest of dossiers to handle."),
    "schedule": ("jobs.scheduler", "Run every job on its schedule until stopped (SIGTERM)."),
    "status": ("jobs.status", "Show the last run of each job, sync watermarks and outbox backlogs."),
    "push": ("connector.push_command", "Push routing, annotations, labels and messages back to DS."),
    "procedure": ("connector.procedure_command", "Check or apply the DS démarche against the definition in mappings/."),
    "serve": ("validity.command", "Serve the public APT validity check for employers (HTML page and JSON API)."),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wif", description="Work in France connector for demarches-simplifiees.fr")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details (never secrets)")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        module.configure(sub)
        sub.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"wif: configuration error: {error}", file=sys.stderr)
        return 2
    from jobs.observability import init_sentry

    init_sentry(settings)
    return args._module.run(args, settings)


if __name__ == "__main__":
    sys.exit(main())
