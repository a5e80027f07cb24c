"""Malformed pages (issue #21, items 3 and 5): syncs of N sandbox dossiers while DS answers pages that break its
schema or do not add up, one kind at a time (sandbox/faults.py: empty_nodes, null_nodes, null_end_cursor,
absent_end_cursor, null_page_info, duplicate_node, short_page, null_number, null_id, null_state, null_date).

For each kind, a fresh sandbox and database; `--runs` syncs during which each dossiers page answer is
malformed with probability `--rate`, then one sync with DS sane again. After every sync that reports
success it counts the dossiers DS shows that are neither stored nor set aside (the promise: none), and
prints how each run ended (ok, or the error that ended it: PageInconsistent is exit 11).

    python bench/malformed_pages.py [--n 187] [--rate 0.3] [--runs 3] [--page-size 20]
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=187)
    parser.add_argument("--rate", type=float, default=0.3, help="share of dossiers pages answered malformed")
    parser.add_argument("--runs", type=int, default=3, help="syncs while DS misbehaves")
    parser.add_argument("--page-size", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)

    from sqlalchemy import select

    from connector.client import DSClient
    from connector.ratelimit import RequestBudget
    from connector.store import quarantined
    from core.db import make_engine, session_factory, upgrade
    from core.models import Dossier
    from jobs.runtime import sandbox_store
    from sandbox.faults import MALFORMED, Fault
    from sandbox.server import start_server
    from tests.sync_helpers import make_syncer

    print(
        f"malformed pages: {args.n} dossiers, pages of {args.page_size}, {args.rate:.0%} of page answers "
        f"malformed during {args.runs} syncs, then one sync with DS sane"
    )
    worst = 0
    for kind in MALFORMED:
        store = sandbox_store(args.n, args.seed)
        server = start_server(store, rate_limit=100_000_000, window_seconds=1)
        rng, injected, queued = random.Random(args.seed), Counter(), server.faults.take
        faulty = {"on": True}

        def take(operation_name, queued=queued, rng=rng, injected=injected, faulty=faulty, kind=kind):
            fault = queued(operation_name)
            if fault is None and faulty["on"] and operation_name == "getDemarcheDossiers" and rng.random() < args.rate:
                injected[kind] += 1
                fault = Fault(kind)
            return fault

        server.faults.take = take
        visible = {d.number for d in store.visible_dossiers(1)}
        outcomes, unread_after_ok = [], []
        with tempfile.TemporaryDirectory() as directory:
            engine = make_engine(f"sqlite:///{directory}/pages.db")
            upgrade(engine)
            sessions = session_factory(engine)
            client = DSClient(
                server.url,
                server.token,
                timeout=60,
                max_retries=2,
                backoff_base=0.01,
                budget=RequestBudget(100_000_000, 60),
            )
            syncer = make_syncer(client, sessions, page_size=args.page_size)
            for run in range(args.runs + 1):
                faulty["on"] = run < args.runs
                try:
                    syncer.sync(1)
                except Exception as error:  # noqa: BLE001 — the bench reports what ended a run
                    outcomes.append(type(error).__name__)
                    continue
                outcomes.append("ok")
                with sessions() as session:
                    stored = set(session.scalars(select(Dossier.number).where(Dossier.hidden_at.is_(None))))
                    aside = {row.dossier_number for row in quarantined(session, 1)}
                unread_after_ok.append(len(visible - stored - aside))
            with sessions() as session:
                stored = set(session.scalars(select(Dossier.number).where(Dossier.hidden_at.is_(None))))
            client.close()
            engine.dispose()
        server.stop()
        worst = max([worst, *unread_after_ok])
        print(
            f"  {kind:18s} {injected[kind]:3d} malformed answers; runs: {', '.join(outcomes)}; unread after a "
            f"successful run: {max(unread_after_ok, default=0)}; stored at the end {len(stored & visible)} "
            f"of {len(visible)}"
        )
    print(f"dossiers unread after a run that reported success, worst case: {worst}")


if __name__ == "__main__":
    main()
