"""Sync figures: a first sync of N sandbox dossiers into a fresh SQLite file,
against the floor of fetching the same pages raw (same client, same page
size, no processing). Targets (issue 2): sync ≤ 1.3 × raw, peak RSS ≤ 250 MB
and flat in N, so it also runs at N/10. Issue 13: the client's CPU per dossier
(every thread of the sync process: JSON decoding, mapping, checks, SQL) and
sync/raw ≤ 1.2 at 10,000 dossiers.

    python bench/sync_bench.py [--n 100000] [--seed 1] [--page-size 100]

The sandbox, the raw fetch and the sync each run in their own process
(spawned, not forked), so each peak RSS is that of one job alone.
"""

from __future__ import annotations

import argparse
import multiprocessing
import queue
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# Runnable as `python bench/sync_bench.py` from a clone; spawned children re-run this too.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SANDBOX_RATE_LIMIT = 100_000_000


@dataclass(frozen=True)
class Figures:
    label: str
    dossiers: int
    pages: int
    requests: int
    seconds: float
    peak_rss_mb: float
    cpu_seconds: float = 0.0  # process CPU time (user + system), all threads

    @property
    def cpu_ms_per_dossier(self) -> float:
        return 1000 * self.cpu_seconds / self.dossiers if self.dossiers else 0.0

    @property
    def per_second(self) -> float:
        return self.dossiers / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        return (
            f"  {self.label:<4} dossiers {self.dossiers:>7}  pages {self.pages:>5}  requests {self.requests:>5}  "
            f"{self.seconds:7.1f} s  {self.per_second:7.0f} dossiers/s  CPU {self.cpu_ms_per_dossier:5.2f} ms/dossier  "
            f"peak RSS {self.peak_rss_mb:6.0f} MB"
        )


def peak_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- child processes -----------------------------------------------------------


def serve_sandbox(n: int, seed: int, ready, stop) -> None:
    """The embedded sandbox (routing-table groupes), until `stop` is set."""
    from jobs.runtime import sandbox_store
    from sandbox.server import start_server

    store = sandbox_store(n, seed)
    with start_server(store, rate_limit=SANDBOX_RATE_LIMIT) as server:
        ready.put((server.url, server.token, len(store.visible_dossiers(1))))
        stop.wait()


def _client(url: str, token: str):
    from connector.client import DSClient
    from connector.ratelimit import RequestBudget

    return DSClient(url, token, timeout=120, budget=RequestBudget(SANDBOX_RATE_LIMIT, 60))


def fetch_raw(url: str, token: str, page_size: int, results) -> None:
    """The floor: the sync's own page query and iterator, nothing done with the pages."""
    from connector.datetimes import format_ds_datetime
    from connector.pagination import iter_pages
    from connector.sync import FIXED_SINCE

    with _client(url, token) as client:
        started, cpu = time.perf_counter(), time.process_time()
        dossiers = pages = 0
        variables = {"demarcheNumber": 1, "updatedSince": format_ds_datetime(FIXED_SINCE)}
        for page in iter_pages(client, "getDemarcheDossiers", variables, ("demarche", "dossiers"), first=page_size):
            dossiers += len(page.nodes)
            pages += 1
        seconds = time.perf_counter() - started
        results.put(
            Figures("raw", dossiers, pages, client.stats.requests, seconds, peak_rss_mb(), time.process_time() - cpu)
        )


def run_sync(url: str, token: str, page_size: int, database: str, profile: str | None, results) -> None:
    from connector.sync import Syncer
    from core.db import make_engine, session_factory, upgrade
    from jobs.binding import bind_demarche
    from mappings.pipeline import Evaluator

    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    sessions = session_factory(engine)
    with _client(url, token) as client:
        # `wif procedure bind --yes` first, as a deployment does (one request, not counted in the sync's figures).
        evaluator = Evaluator.default(bind_demarche(client, sessions, 1, store=True).binding())
        syncer = Syncer(client=client, sessions=sessions, evaluate=evaluator.rows, page_size=page_size)
        cpu = time.process_time()
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            summary = profiler.runcall(syncer.sync, 1)
            profiler.dump_stats(profile)
        else:
            summary = syncer.sync(1)
    engine.dispose()
    cpu = time.process_time() - cpu
    results.put(Figures("sync", summary.fetched, summary.pages, summary.requests, summary.seconds, peak_rss_mb(), cpu))


# -- orchestration -------------------------------------------------------------


def _in_child(context, target, *args):
    results = context.Queue()
    process = context.Process(target=target, args=(*args, results))
    process.start()
    while True:
        try:
            figures = results.get(timeout=5)
            break
        except queue.Empty:
            if not process.is_alive():
                raise RuntimeError(f"{target.__name__} died (exit code {process.exitcode})") from None
    process.join()
    return figures


def measure(n: int, seed: int, page_size: int, profile: str | None = None) -> tuple[Figures, Figures, int]:
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    sandbox = context.Process(target=serve_sandbox, args=(n, seed, ready, stop), daemon=True)
    sandbox.start()
    try:
        url, token, visible = ready.get(timeout=1800)
        raw = _in_child(context, fetch_raw, url, token, page_size)
        with tempfile.TemporaryDirectory() as folder:
            database = str(Path(folder) / "bench.db")
            synced = _in_child(context, run_sync, url, token, page_size, database, profile)
    finally:
        stop.set()
        sandbox.join(timeout=30)
    return raw, synced, visible


def report(n: int, raw: Figures, synced: Figures, visible: int) -> None:
    ratio = synced.seconds / raw.seconds if raw.seconds else float("inf")
    print(f"N = {n} ({visible} visible in the sandbox)")
    print(raw.line())
    print(synced.line())
    print(f"  sync/raw = {ratio:.2f} (target ≤ 1.2 at 10k)  sync peak RSS {synced.peak_rss_mb:.0f} MB (target ≤ 250)")
    print(
        f"  client CPU {synced.cpu_ms_per_dossier:.2f} ms/dossier for the sync, "
        f"{raw.cpu_ms_per_dossier:.2f} ms/dossier for the raw fetch"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="sandbox dossiers (default 100000); also runs N/10")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--profile", metavar="FILE", help="cProfile the sync of the largest run into FILE")
    args = parser.parse_args()
    peaks = []
    for n in (args.n // 10, args.n):
        raw, synced, visible = measure(n, args.seed, args.page_size, args.profile if n == args.n else None)
        report(n, raw, synced, visible)
        peaks.append(synced.peak_rss_mb)
    print(f"sync peak RSS at N/10 and N: {peaks[0]:.0f} MB → {peaks[1]:.0f} MB")


if __name__ == "__main__":
    main()
