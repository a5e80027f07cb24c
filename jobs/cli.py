"""`wif`: one verb per job. Each verb is a module of `jobs.verbs`; this file only lists them."""
from __future__ import annotations

import argparse
import logging
import sys

from core.settings import ConfigError, load_settings
from jobs.verbs import digest, notify, procedure, push, report, sandbox, schedule, serve, stats, status, sync

# In the order `wif --help` shows them.
VERBS = {
    "sync": sync,
    "push": push,
    "procedure": procedure,
    "notify": notify,
    "digest": digest,
    "stats": stats,
    "report": report,
    "serve": serve,
    "schedule": schedule,
    "status": status,
    "sandbox": sandbox,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wif", description="Work in France connector for demarches-simplifiees.fr")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details (never secrets)")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, verb in VERBS.items():
        sub = subparsers.add_parser(name, help=verb.HELP, description=verb.HELP)
        verb.configure(sub)
        sub.set_defaults(_verb=verb)
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
    return args._verb.run(args, settings)


if __name__ == "__main__":
    sys.exit(main())
