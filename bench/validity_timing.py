"""Do a wrong birth date and an unknown number take the same time to answer?

The public validity check answers both « aucune autorisation trouvée »; if one took longer,
the time would tell an enumerating client which numbers exist. This runs N
lookups of each kind (and N hits), interleaved in a random order, through
the app's WSGI stack on a SQLite file of `--records` validity records, and
prints the medians and a Mann-Whitney z for each pair (|z| < 1.96: no
difference at the 5 % level). Figures, not a test: timings on a shared
machine are noisy.

    python bench/validity_timing.py [--n 450] [--records 2000] [--seed 15]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PEPPER = b"bench-pepper-" + b"b" * 40
TODAY = date(2026, 6, 1)
BIRTH = date(2001, 3, 21)
FIRST = 8_000_000


def mann_whitney_z(a: list[float], b: list[float]) -> float:
    """z of the Mann-Whitney U statistic (normal approximation, mid-ranks for ties)."""
    pooled = sorted([(value, 0) for value in a] + [(value, 1) for value in b])
    ranks = [0.0] * len(pooled)
    index = 0
    while index < len(pooled):
        end = index
        while end + 1 < len(pooled) and pooled[end + 1][0] == pooled[index][0]:
            end += 1
        for k in range(index, end + 1):
            ranks[k] = (index + end) / 2 + 1
        index = end + 1
    rank_a = sum(rank for rank, (_, group) in zip(ranks, pooled, strict=True) if group == 0)
    n1, n2 = len(a), len(b)
    u = rank_a - n1 * (n1 + 1) / 2
    mean, sd = n1 * n2 / 2, math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)
    return (u - mean) / sd


def build_client(folder: Path, records: int):
    from core.db import make_engine, session_factory, upgrade
    from core.models import ValidityRecord
    from core.settings import ValiditySettings
    from validity.app import API_PATH, create_app
    from validity.derive import birth_date_hash
    from validity.ratelimit import TokenBucketLimiter

    engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions() as session, session.begin():
        session.add_all(
            ValidityRecord(
                dossier_number=FIRST + i,
                birth_date_hash=birth_date_hash(PEPPER, FIRST + i, BIRTH),
                masked_name="Ka*** Be***",
                siret="73282932000074",
                apt_start=date(2026, 1, 5),
                apt_end=date(2026, 12, 31),
                state="valid",
                updated_at=datetime(2026, 5, 1, tzinfo=UTC),
            )
            for i in range(records)
        )
    try:  # the global budget must not refuse the bench's own lookups
        settings = ValiditySettings(pepper=PEPPER, global_lookups=10**9)
    except TypeError:  # a version without the global budget
        settings = ValiditySettings(pepper=PEPPER)
    app = create_app(sessions, settings, today=lambda: TODAY, limiter=TokenBucketLimiter(10**9, 10**9))
    return app.test_client(), API_PATH, engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=450, help="timings of each kind")
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    chooser = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        client, path, engine = build_client(Path(folder), args.records)
        kinds = {
            "hit": lambda: (FIRST + chooser.randrange(args.records), "2001-03-21"),
            "wrong birth date": lambda: (FIRST + chooser.randrange(args.records), "2001-03-22"),
            "unknown number": lambda: (FIRST + args.records + chooser.randrange(10**6), "2001-03-21"),
        }
        order = [kind for kind in kinds for _ in range(args.n)]
        chooser.shuffle(order)
        for _ in range(50):  # warm-up: caches, the first window's row
            client.post(path, data={"numero": str(FIRST), "date_naissance": "2001-03-21"})
        timings: dict[str, list[float]] = {kind: [] for kind in kinds}
        for kind in order:
            number, birth = kinds[kind]()
            started = time.perf_counter()
            response = client.post(path, data={"numero": str(number), "date_naissance": birth})
            timings[kind].append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
        engine.dispose()
    for kind, values in timings.items():
        print(
            f"{kind:<17} n={len(values)}  median {statistics.median(values) * 1e3:.3f} ms  "
            f"p90 {sorted(values)[int(len(values) * 0.9)] * 1e3:.3f} ms"
        )
    for first, second in (
        ("wrong birth date", "unknown number"),
        ("hit", "wrong birth date"),
        ("hit", "unknown number"),
    ):
        print(f"Mann-Whitney z, {first} vs {second}: {mann_whitney_z(timings[first], timings[second]):+.2f}")


if __name__ == "__main__":
    main()
