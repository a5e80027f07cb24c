"""`wif`: one verb per job. Each verb is a module of `jobs.verbs`; this file lists them, runs one and prints its
result: its lines on stdout, its errors on stderr, one line each, and exits with the code of `core.errors`."""

from __future__ import annotations

import argparse
import os
import sys
from importlib.metadata import PackageNotFoundError, version

from core.db import Database
from core.errors import MEANINGS, ExitCode, WifError
from core.jobruns import FAILED, recorded_run
from core.settings import ConfigError, Settings, load_settings
from jobs.progress import configure_logging
from jobs.result import Result, execute
from jobs.runtime import check_settings, refuse_foreign_database
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
        args.command == "procedure" and args.action != "prefill-link"
    )


def package_version() -> str:
    try:
        return version("work-in-france-connector")
    except PackageNotFoundError:  # run from a source tree that was not installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wif",
        description="Work in France connector for demarches-simplifiees.fr",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit codes:\n" + "\n".join(f"  {int(code):>3}  {MEANINGS[code].split(':')[0]}" for code in ExitCode),
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details (never secrets)")
    parser.add_argument("--version", action="version", version=f"wif {package_version()}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, verb in VERBS.items():
        sub = subparsers.add_parser(name, help=verb.HELP, description=verb.HELP)
        verb.configure(sub)
        sub.set_defaults(_verb=verb)
    return parser


def run_recorded(verb, args: argparse.Namespace, settings: Settings, database: Database) -> Result:
    """Run a verb that changes data inside a job run, so `wif status` shows manual runs too."""
    with recorded_run(database.sessions, args.command) as note:
        result = execute(f"wif {args.command}", verb, args, settings, database)
        note.summary = result.summary
        if result.exit_code != 0:
            note.outcome = FAILED
            note.summary = f"exit {result.exit_code}: {note.summary}"
    return result


def run(args: argparse.Namespace) -> Result:
    try:
        settings = load_settings()
        check_settings(settings)
        if starts_embedded_sandbox(args):
            refuse_foreign_database(settings)
    except ConfigError as error:
        return Result().fail(f"wif: configuration error: {error}", error.exit_code)
    from jobs.observability import init_sentry

    init_sentry(settings)
    verb, prefix = args._verb, f"wif {args.command}"
    # One engine for the whole command, migrated once, in this (main) thread; disposed at the end.
    with Database(settings.database_url) as database:
        try:
            if hasattr(verb, "check"):
                verb.check(args)  # what can be refused before the database is opened or created
            if args.command in RECORDED and not getattr(args, "dry_run", False):
                return run_recorded(verb, args, settings, database)
            return execute(prefix, verb, args, settings, database)
        except WifError as error:
            return Result.of_error(prefix, error)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    try:
        result = run(args)
        for line in result.lines:
            print(line)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`wif … | head -1`): stop quietly, as any Unix program does, and keep Python
        # from failing again when it flushes stdout on exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.BROKEN_PIPE
    for line in result.errors:
        print(line, file=sys.stderr)
    return int(result.exit_code)


if __name__ == "__main__":
    sys.exit(main())
