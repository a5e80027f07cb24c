"""`wif stats --out DIR [--dry-run]`: write the public statistics site."""

from __future__ import annotations

import logging
from pathlib import Path

from core.db import Database
from core.settings import Settings
from core.web.layout import site_context
from jobs.result import Result
from jobs.runtime import writable_directory, writing_into
from mappings.procedure import default_procedure
from stats.site import compute, generate

HELP = "Write the public statistics site (index.html, stats.json, CSV)."

log = logging.getLogger(__name__)


def configure(parser) -> None:
    parser.add_argument("--out", type=Path, default=Path("site"), help="directory of the static site (default: site/)")
    parser.add_argument(
        "--dry-run", action="store_true", help="compute the figures and print the totals, write nothing"
    )


def check(args) -> None:
    """Before the database is opened: an --out that cannot be written is refused, nothing created."""
    if not args.dry_run:
        writable_directory(args.out)


def run(args, settings: Settings, database: Database) -> Result:
    if args.dry_run:
        return Result(lines=[compute(database.engine).totals.values.iloc[0].to_string()])
    engine = database.engine
    # The DSFR first: without it, one line and nothing written.
    site = site_context(settings, static=True, demarche_path=default_procedure().path)
    with writing_into(args.out) as out:
        written = generate(engine, out, site=site)
    result = Result(lines=[f"stats site: {len(written)} files written to {args.out}"])
    result.count(files=len(written))
    return result
