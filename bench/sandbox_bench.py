"""Sandbox figures: seeding time and memory for N dossiers, and page latency.

python bench/sandbox_bench.py [N]      (default 100000)
"""

from __future__ import annotations

import resource
import sys
import time
from datetime import date

import requests

from connector import documents
from sandbox.generator import seeded_store
from sandbox.server import start_server


def main(n: int) -> None:
    started = time.perf_counter()
    store = seeded_store(n, seed=1, today=date(2026, 1, 1))
    seeded = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"seeded {len(store.dossiers)} dossiers in {seeded:.1f} s, peak RSS {peak_mb:.0f} MB")
    with start_server(store, rate_limit=10**9) as server:
        for first in (10, 50, 100):
            started = time.perf_counter()
            response = requests.post(
                server.url,
                headers={"Authorization": f"Bearer {server.token}"},
                json={
                    "query": documents.load("getDemarcheDossiers"),
                    "operationName": "getDemarcheDossiers",
                    "variables": {"demarcheNumber": 1, "first": first, "updatedSince": "2020-01-01T00:00:00Z"},
                },
            )
            elapsed = time.perf_counter() - started
            print(f"getDemarcheDossiers first={first}: {elapsed * 1000:.0f} ms, {len(response.content) / 1024:.0f} KiB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
