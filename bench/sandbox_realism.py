"""Does the sandbox look like a real service? What the statistics of a synced sandbox show.

    python bench/sandbox_realism.py [--dossiers 2000] [--seed 1]

Runs what the README's screenshot runs: `wif sync --no-push` against the embedded sandbox (the same dossiers
for a given --dossiers, --seed and day) into a throw-away SQLite file; then reads what the statistics read,
and prints: the deposit → decision days (median, 90th percentile, share decided within 2–8 weeks) of every
decision, and of acceptances and refusals alone; the dossiers still open a year after their deposit; the
dossiers and départements out of the procedure's scope (mappings/departements.csv, kind hors_perimetre), and
those of them the public page's « par département » table shows.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def sync_into(database: Path, dossiers: int, seed: int) -> None:
    from jobs.runtime import routing_groupes
    from sandbox.embedded import EMBEDDED_RATE_LIMIT, embedded_sandbox

    with embedded_sandbox(dossiers=dossiers, seed=seed, groupes=routing_groupes()) as sandbox:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{database}",
            "DS_API_URL": sandbox.url,
            "DS_API_TOKEN": sandbox.token,
            "DS_DEMARCHE_NUMBER": "1",
            "DS_PAGE_SIZE": "100",
            "DS_REQUESTS_PER_MINUTE": str(EMBEDDED_RATE_LIMIT),
        }
        wif = [sys.executable, "-m", "jobs.cli"]
        for verb in (["procedure", "bind", "--yes"], ["sync", "--no-push"]):
            subprocess.run([*wif, *verb], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def delays(days) -> str:
    if days.empty:
        return "none"
    within = ((days >= 14) & (days <= 56)).mean()
    return (
        f"median {days.median():.1f} d, p90 {days.quantile(0.9):.1f} d, max {days.max():.0f} d, "
        f"{within:.0%} within 2–8 weeks, {(days > 56).mean():.0%} longer ({len(days)} decisions)"
    )


def report(database: Path, now: datetime) -> None:
    from sqlalchemy import create_engine

    from mappings.routing import load_routing_table
    from stats.figures import BACKLOG_STATES, build_figures, prepare
    from stats.load import load_dossiers

    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        frame = load_dossiers(connection)
    engine.dispose()
    prepared = prepare(frame)
    decided = prepared[prepared["decision_days"].notna()]
    print(f"dossiers visible: {len(frame)}, decided: {len(decided)}")
    print(f"deposit → decision, every decision: {delays(decided['decision_days'])}")
    answered = decided[decided["outcome"].isin(("accepted", "refused"))]
    print(f"deposit → decision, accepted or refused: {delays(answered['decision_days'])}")
    open_ = frame[frame["state"].isin(BACKLOG_STATES)]
    old = open_[open_["date_depot"] < now - timedelta(days=365)]
    print(f"undecided: {len(open_)}, of which deposited more than 12 months ago: {len(old)}")
    table = load_routing_table()
    out = {code for code, info in table.departements.items() if not info.in_scope}
    outside = frame[frame["departement"].isin(out)]
    codes = sorted(outside["departement"].astype(str).unique())
    print(f"dossiers out of scope (hors périmètre): {len(outside)}, départements {', '.join(codes) or 'none'}")
    shown = [code for code in build_figures(frame, now).by_departement.values.index if code in out]
    print(f"out-of-scope départements on the public page's table by département: {len(shown)} {shown}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="wif-realism-") as work:
        database = Path(work) / "wif.db"
        sync_into(database, args.dossiers, args.seed)
        print(f"sandbox of {args.dossiers} dossiers, seed {args.seed}, synced {now:%Y-%m-%d}")
        report(database, now)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
