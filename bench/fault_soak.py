"""Fault soak (issue 15): syncs of N sandbox dossiers while DS misbehaves.

A share of the requests (20 % by default) fails at random, mixed: 429
(RateLimit-Reset at the next 1 s window), 502, 503, and `timeout` (HTTP 200,
no data, a `timeout` error); and some dossiers are broken the way DS's data
bugs break one dossier (#12696, #11942): one in `--broken-every` gets a node
error (File.byteSizeBigInt, Commune.code or an internal error, in turn). The
sync runs `--runs` times (a first sync, then each after modifying a tenth of
the dossiers). It prints the runs completed, the requests, the retries by
cause, the quarantined dossiers, and the wall time; at the end it checks that
every dossier DS shows is stored or quarantined.

    python bench/fault_soak.py [--n 5000] [--rate 0.2] [--runs 3] [--seed 1]

Not a test: the figures go to the README's benchmark table.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

KINDS = ("429", "502", "503", "timeout")
NODE_ERRORS = ("File.byteSizeBigInt", "Commune.code", "internal")


def random_faults(server, rate: float, seed: int) -> Counter:
    """Every request, with probability `rate`, suffers one of KINDS (in place of
    the sandbox's queue of faults); returns the counter of injected faults."""
    from sandbox.faults import Fault

    rng = random.Random(seed)
    injected: Counter = Counter()
    queued = server.faults.take

    def take(operation_name):
        fault = queued(operation_name)
        if fault is None and rng.random() < rate:
            kind = rng.choice(KINDS)
            injected[kind] += 1
            fault = Fault(kind)
        return fault

    server.faults.take = take
    return injected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=0.2, help="share of requests that fail")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--broken-every", type=int, default=250, help="one dossier in this many has a node error")
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # each retry logs a warning: thousands here

    from sqlalchemy import func, select

    from connector.client import DSClient
    from connector.ratelimit import RequestBudget
    from connector.store import quarantined
    from connector.sync import Syncer
    from core.db import make_engine, session_factory, upgrade
    from core.models import Dossier
    from jobs.runtime import sandbox_store
    from mappings.pipeline import Evaluator
    from sandbox.server import start_server

    store = sandbox_store(args.n, args.seed)
    server = start_server(store, rate_limit=100_000_000, window_seconds=1)
    visible = [d.number for d in store.visible_dossiers(1)]
    broken = visible[:: args.broken_every]
    for index, number in enumerate(broken):
        server.faults.set_node_error(number, NODE_ERRORS[index % len(NODE_ERRORS)])
    injected = random_faults(server, args.rate, args.seed)
    rng = random.Random(args.seed)
    print(
        f"fault soak: {len(visible)} dossiers, {args.rate:.0%} of requests failing ({', '.join(KINDS)}), "
        f"{len(broken)} dossiers with a node error, {args.runs} runs, pages of {args.page_size}"
    )

    with tempfile.TemporaryDirectory() as directory:
        engine = make_engine(f"sqlite:///{directory}/soak.db")
        upgrade(engine)
        sessions = session_factory(engine)
        client = DSClient(server.url, server.token, timeout=60, budget=RequestBudget(100_000_000, 60))
        syncer = Syncer(client=client, sessions=sessions, evaluate=Evaluator.default().rows, page_size=args.page_size)
        completed = 0
        started = time.monotonic()
        for run in range(args.runs):
            if run:
                for number in rng.sample(visible, len(visible) // 10):
                    store.modify(number, telephone_etudiant=f"06 {rng.randrange(10**8):08d}")
            run_started = time.monotonic()
            try:
                summary = syncer.sync(1)
            except Exception as error:  # noqa: BLE001 — a soak reports what stopped a run
                print(
                    f"  run {run + 1}: FAILED after {time.monotonic() - run_started:.1f} s: "
                    f"{type(error).__name__}: {error}"
                )
                continue
            completed += 1
            print(f"  run {run + 1}: {summary.line()}")
        wall = time.monotonic() - started
        stats = client.stats
        with sessions() as session:
            set_aside = quarantined(session, 1)
            stored = set(
                session.scalars(select(Dossier.number).where(Dossier.hidden_at.is_(None), Dossier.deleted_at.is_(None)))
            )
            count = session.scalar(select(func.count()).select_from(Dossier))
        client.close()
        engine.dispose()
    server.stop()

    by_status = Counter(row.status for row in set_aside)
    missing = set(visible) - stored - {row.dossier_number for row in set_aside}
    print(f"runs completed {completed}/{args.runs}")
    print(f"requests {stats.requests} ({', '.join(f'{k} {v}' for k, v in sorted(stats.by_operation.items()))})")
    print(f"faults injected {sum(injected.values())} ({', '.join(f'{k} {v}' for k, v in sorted(injected.items()))})")
    print(
        f"retries {sum(stats.retries_by_cause.values())} by cause: "
        + ", ".join(f"{k} {v}" for k, v in sorted(stats.retries_by_cause.items()))
    )
    print(
        f"quarantined {len(set_aside)} of {len(broken)} broken ("
        + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items()))
        + ")"
    )
    print(f"stored {count} dossiers; DS's dossiers neither stored nor quarantined: {len(missing)}")
    print(f"wall time {wall:.1f} s, waited in backoff {stats.waited_seconds:.1f} s")


if __name__ == "__main__":
    main()
