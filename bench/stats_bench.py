"""Benchmark of `wif stats` over N synthetic dossiers in SQLite (default 1,000,000).

    python bench/stats_bench.py [--n 1000000] [--db PATH] [--reuse]

Target: ≤ 10 s for 1M dossiers on 2 cores. The insertion runs in a child
process so the peak RSS printed is the stats generation's own.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import Column, Date, MetaData, String, Table, func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.db import make_engine  # noqa: E402
from core.models import Base, Contract, Dossier, Student, UTCDateTime  # noqa: E402
from stats.site import generate  # noqa: E402

CHUNK = 100_000
START = np.datetime64("2024-01-01T00:00:00", "s")
SPAN_SECONDS = 3 * 365 * 86400
STATES = np.array(["accepte", "refuse", "sans_suite", "en_construction", "en_instruction"])
STATE_WEIGHTS = [0.6, 0.12, 0.05, 0.13, 0.10]
DEPARTEMENTS = np.array(["75", "93", "92", "94", "69", "13", "33", "59", "67", "2A", "974", "36"])
CONTRACTS = np.array(["cdd", "cdi", "apprentissage", "professionnalisation", "doctoral", "cifre", "ater", "interne"])
NATIONALITIES = np.array(["DZ", "MA", "TN", "CN", "SN", "IN", "VN", "CM", "CI", "LB"])

# Mirrors of the real tables where dates and datetimes are plain strings:
# Core executemany of driver-ready values skips the per-value UTCDateTime
# conversion. Built from the ORM tables so new columns keep their defaults.
raw_metadata = MetaData()


def raw_mirror(table: Table) -> Table:
    columns = []
    for column in table.columns:
        as_text = isinstance(column.type, (UTCDateTime, Date))
        default = column.default.arg if column.default is not None and column.default.is_scalar else None
        columns.append(Column(column.name, String if as_text else column.type, default=default))
    return Table(table.name, raw_metadata, *columns)


RAW_DOSSIERS = raw_mirror(Dossier.__table__)
RAW_CONTRACTS = raw_mirror(Contract.__table__)
RAW_STUDENTS = raw_mirror(Student.__table__)


def sqlite_text(moments: np.ndarray) -> list:
    """SQLAlchemy's SQLite DateTime storage format; None for NaT."""
    text = np.datetime_as_string(moments, unit="us")
    return [None if value == "NaT" else value.replace("T", " ") for value in text]


def chunk_rows(first: int, size: int, rng: np.random.Generator):
    numbers = np.arange(first, first + size)
    states = rng.choice(STATES, size, p=STATE_WEIGHTS)
    depot = START + rng.integers(0, SPAN_SECONDS, size).astype("timedelta64[s]")
    decided = np.isin(states, ["accepte", "refuse", "sans_suite"])
    traitement = np.where(
        decided, depot + rng.integers(3600, 40 * 86400, size).astype("timedelta64[s]"), np.datetime64("NaT")
    )
    completed = np.where(
        rng.random(size) < 0.8,
        depot + rng.integers(600, 10 * 86400, size).astype("timedelta64[s]"),
        np.datetime64("NaT"),
    )
    apt_start = np.where(states == "accepte", traitement.astype("datetime64[D]"), np.datetime64("NaT"))
    apt_end = apt_start + rng.integers(30, 365, size).astype("timedelta64[D]")
    departements = rng.choice(DEPARTEMENTS, size)
    columns = {
        "date_depot": sqlite_text(depot),
        "date_traitement": sqlite_text(traitement),
        "completed_at": sqlite_text(completed),
        "apt_start": [None if v == "NaT" else str(v) for v in np.datetime_as_string(apt_start)],
        "apt_end": [None if v == "NaT" else str(v) for v in np.datetime_as_string(apt_end)],
    }
    dossiers = [
        {
            "number": int(n),
            "ds_id": f"D{n}",
            "demarche_number": 1,
            "state": str(states[i]),
            "archived": False,
            "date_depot": columns["date_depot"][i],
            "date_traitement": columns["date_traitement"][i],
            "date_derniere_modification": columns["date_depot"][i],
            "completed_at": columns["completed_at"][i],
            "departement": str(departements[i]),
            "service": f"Service {departements[i]}",
            "apt_start": columns["apt_start"][i],
            "apt_end": columns["apt_end"][i],
            "raw": {},
            "synced_at": columns["date_depot"][i],
        }
        for i, n in enumerate(numbers)
    ]
    contracts = [
        {"dossier_number": int(n), "contract_type": str(t)}
        for n, t in zip(numbers, rng.choice(CONTRACTS, size), strict=True)
    ]
    students = [
        {"dossier_number": int(n), "nationality_code": str(c), "nationality_name": f"Pays {c}"}
        for n, c in zip(numbers, rng.choice(NATIONALITIES, size), strict=True)
    ]
    return dossiers, contracts, students


def fill(database_url: str, count: int) -> None:
    engine = make_engine(database_url)
    Base.metadata.create_all(engine)
    rng = np.random.default_rng(2026)
    for first in range(1, count + 1, CHUNK):
        dossiers, contracts, students = chunk_rows(first, min(CHUNK, count + 1 - first), rng)
        with engine.begin() as connection:
            connection.execute(insert(RAW_DOSSIERS), dossiers)
            connection.execute(insert(RAW_CONTRACTS), contracts)
            connection.execute(insert(RAW_STUDENTS), students)
    engine.dispose()


def existing_count(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(Dossier)).scalar_one()
    except Exception:
        return 0
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of synthetic dossiers")
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "wif-stats-bench.db")
    parser.add_argument("--reuse", action="store_true", help="keep the database when it already holds N dossiers")
    args = parser.parse_args()
    database_url = f"sqlite:///{args.db}"

    if not (args.reuse and existing_count(database_url) == args.n):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.db}{suffix}").unlink(missing_ok=True)
        started = time.perf_counter()
        child = multiprocessing.get_context("spawn").Process(target=fill, args=(database_url, args.n))
        child.start()
        child.join()
        if child.exitcode != 0:
            return 1
        print(f"inserted {args.n:,} dossiers in {time.perf_counter() - started:.1f} s")

    engine = make_engine(database_url)
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        generate(engine, Path(out), datetime.now(UTC))
        elapsed = time.perf_counter() - started
    engine.dispose()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"stats over {args.n:,} dossiers: {elapsed:.2f} s, peak RSS {peak_mib:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
