"""`wif`: one verb per job. Each verb is a module of `jobs.verbs`; this file only lists them."""
from __future__ import annotations

import argparse
import contextlib
import io
import logging
import sys

from core.db import UnversionedDatabase
from core.jobruns import FAILED, recorded_run
from core.settings import ConfigError, Settings, load_settings
from jobs.runtime import check_settings, open_database, refuse_foreign_database
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
# Verbs that change data: each run is a job run, by hand or from the scheduler.
RECORDED = frozenset({"sync", "push", "notify", "digest", "stats", "report"})


def starts_embedded_sandbox(args: argparse.Namespace) -> bool:
    """Without DS_API_URL these start the embedded sandbox: its database is checked before anything is written."""
    return args.command in ("sync", "push", "schedule") or (
        args.command == "procedure" and args.action != "prefill-link")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wif", description="Work in France connector for demarches-simplifiees.fr")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details (never secrets)")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, verb in VERBS.items():
        sub = subparsers.add_parser(name, help=verb.HELP, description=verb.HELP)
        verb.configure(sub)
        sub.set_defaults(_verb=verb)
    return parser


class _Tee(io.TextIOBase):
    """Writes through to the terminal and keeps a copy: the job run's summary."""

    def __init__(self, stream):
        self.stream, self.kept = stream, io.StringIO()

    def write(self, text: str) -> int:
        self.kept.write(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()


def run_recorded(verb, args: argparse.Namespace, settings: Settings) -> int:
    """Run a verb that changes data inside a job run, so `wif status` shows manual runs too."""
    engine, sessions = open_database(settings)
    tee = _Tee(sys.stdout)
    try:
        with recorded_run(sessions, args.command) as note, contextlib.redirect_stdout(tee):
            code = verb.run(args, settings)
            note.summary = " | ".join(line for line in tee.kept.getvalue().splitlines() if line.strip())
            if code != 0:
                note.outcome = FAILED
                note.summary = f"exit {code}: {note.summary}"
    finally:
        engine.dispose()
    return code


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = load_settings()
        check_settings(settings)
        if starts_embedded_sandbox(args):
            refuse_foreign_database(settings)
    except ConfigError as error:
        print(f"wif: configuration error: {error}", file=sys.stderr)
        return 2
    from jobs.observability import init_sentry

    init_sentry(settings)
    try:
        if args.command in RECORDED and not getattr(args, "dry_run", False):
            return run_recorded(args._verb, args, settings)
        return args._verb.run(args, settings)
    except UnversionedDatabase as error:
        print(f"wif: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
