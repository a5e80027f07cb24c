"""Push figures: the first push of N sandbox dossiers with DS's real budget.

The sandbox throttles at 400 requests a minute per token like DS (docs/ds-rate-limit.md),
the client keeps its own budget of 400 (push may use 90 % of it, the rest is
the sync's reserve). First a sync (same token, same budget), then the first
push, timed. Targets (issue 13): at least 25 mutations per request, and the
first push of 5,000 dossiers in under 3 minutes. Before batching, the same
push sent one request per mutation: 15,221 mutations took 2,281 s.

    python bench/push_bench.py [--n 5000] [--seed 1] [--rate 400] [--batch 50]

The sandbox runs in its own process (spawned), so its work does not share
the client's interpreter.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def serve_sandbox(n: int, seed: int, rate: int, ready, stop, counts) -> None:
    from jobs.runtime import sandbox_store
    from sandbox.server import start_server

    store = sandbox_store(n, seed)
    with start_server(store, rate_limit=rate, window_seconds=60) as server:
        ready.put((server.url, server.token, len(store.visible_dossiers(1))))
        stop.wait()
        counts.put((len(store.mutation_log), sum(1 for e in server.request_log if e.status == 429)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=int, default=400, help="requests per minute, sandbox and client (default 400)")
    parser.add_argument("--batch", type=int, default=50, help="mutations per request at most (WIF_PUSH_BATCH_SIZE)")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the push into FILE")
    args = parser.parse_args()

    from connector.client import DSClient
    from connector.push import Pusher
    from connector.ratelimit import PUSH, RequestBudget
    from connector.sync import Syncer
    from core.db import make_engine, session_factory, upgrade
    from core.settings import PushSettings
    from jobs.binding import bind_demarche
    from mappings.pipeline import Evaluator
    from mappings.procedure import default_procedure
    from mappings.target import target_for
    from sandbox.demarche import CONNECTOR_INSTRUCTEUR_ID

    context = multiprocessing.get_context("spawn")
    ready, stop, counts = context.Queue(), context.Event(), context.Queue()
    sandbox = context.Process(
        target=serve_sandbox, args=(args.n, args.seed, args.rate, ready, stop, counts), daemon=True
    )
    sandbox.start()
    try:
        url, token, visible = ready.get(timeout=1800)
        budget = RequestBudget(args.rate, 60.0)
        with tempfile.TemporaryDirectory() as folder:
            engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
            upgrade(engine)
            sessions = session_factory(engine)
            with DSClient(url, token, timeout=120, budget=budget) as reader:
                binding = bind_demarche(reader, sessions, 1, store=True).binding()  # `wif procedure bind --yes`
                synced = Syncer(
                    client=reader, sessions=sessions, evaluate=Evaluator.default(binding).rows, page_size=100
                ).sync(1)
            with DSClient(url, token, timeout=120, budget=budget, priority=PUSH) as writer:
                pusher = Pusher(
                    client=writer,
                    sessions=sessions,
                    procedure=default_procedure(),
                    bindings={1: binding},
                    target_for=target_for,
                    instructeur_id=CONNECTOR_INSTRUCTEUR_ID,
                    policy=PushSettings(batch_size=args.batch),
                )
                started, cpu = time.perf_counter(), time.process_time()
                if args.profile:
                    import cProfile

                    profiler = cProfile.Profile()
                    summary = profiler.runcall(pusher.push, 1)
                    profiler.dump_stats(args.profile)
                else:
                    summary = pusher.push(1)
                seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
                batches = writer.stats.by_operation.get("wifMutations", 0)
            engine.dispose()
    finally:
        stop.set()
        applied, throttled = counts.get(timeout=60)
        sandbox.join(timeout=30)

    print(
        f"N = {args.n} ({visible} visible), sandbox and client at {args.rate} requests/min, batches of ≤ {args.batch}"
    )
    print(f"  sync   {synced.fetched} dossiers in {synced.requests} requests, {synced.seconds:.1f} s")
    print(
        f"  push   {summary.dossiers} dossiers, {summary.planned} mutations planned, {summary.delivered} delivered, "
        f"{summary.failed} failed; DS applied {applied}"
    )
    print(
        f"         {batches} mutation requests + {summary.requests - batches} reads = {summary.requests} requests; "
        f"{summary.mutations_per_request:.1f} mutations per request (target ≥ 25)"
    )
    print(
        f"         wall time {seconds:.1f} s (target < 180 s for 5,000 dossiers), client CPU {cpu:.1f} s; "
        f"429s from the sandbox: {throttled}"
    )
    print(
        f"         one request per mutation would need {summary.planned} requests: "
        f"≥ {summary.planned / (budget.push_limit):.1f} min at this budget"
    )


if __name__ == "__main__":
    main()
