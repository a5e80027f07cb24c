"""`wif stats --out DIR [--dry-run]`: write the public statistics site."""
from __future__ import annotations

import logging
from pathlib import Path

from core.db import make_engine
from core.settings import Settings
from stats.site import compute, generate

HELP = "Write the public statistics site (index.html, stats.json, CSV)."

log = logging.getLogger(__name__)


def configure(parser) -> None:
    parser.add_argument("--out", type=Path, default=Path("site"), help="directory of the static site (default: site/)")
    parser.add_argument("--dry-run", action="store_true", help="compute the figures and print the totals, write nothing")


def run(args, settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    try:
        if args.dry_run:
            totals = compute(engine).totals.values.iloc[0]
            print(totals.to_string())
            return 0
        written = generate(engine, args.out)
    finally:
        engine.dispose()
    log.info("stats site written: %d files in %s", len(written), args.out)
    return 0
