"""`wif stats --out DIR [--dry-run]`: write the public statistics site."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path

from core.settings import Settings
from core.db import make_engine
from stats.figures import Figures, build_figures
from stats.load import PAGE_COLUMNS, load_dossiers
from stats.site import write_site

log = logging.getLogger(__name__)


def configure(parser) -> None:
    parser.add_argument("--out", type=Path, default=Path("site"), help="directory of the static site (default: site/)")
    parser.add_argument("--dry-run", action="store_true", help="compute the figures and print the totals, write nothing")


def compute(engine, as_of: datetime | None = None) -> Figures:
    with engine.connect() as connection:
        frame = load_dossiers(connection, PAGE_COLUMNS)
    return build_figures(frame, as_of or datetime.now(timezone.utc))


def generate(engine, out_dir: Path, as_of: datetime | None = None) -> list[Path]:
    """Compute the figures from the database and write the site; returns the files written."""
    return write_site(compute(engine, as_of), out_dir)


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
