"""What a first push writes to DS on a back catalogue (the README's figures, issue 19 items 5 and 6).

`wif sync` (sync, then push) on a fresh sandbox of N dossiers deposited over two years, against a fresh SQLite
database, judged on the sandbox's journal of mutations: how many DS messages reach applicants, by the age of the
dossier's deposit (< 1 month, 1–6 months, > 6 months), and how many mutations reach decided dossiers.

    python bench/first_push_messages.py [--n 2000] [--seed 1] [--recent-days 60]

`--recent-days 3650` counts every dossier as recent: the messages a push sent before WIF_PUSH_MESSAGE_RECENT_DAYS.
The circuit breaker is set aside (WIF_PUSH_MAX_MESSAGE_SHARE=1): the figures are about which dossiers are written to.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import tempfile
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DECIDED = ("accepte", "refuse", "sans_suite")
BUCKETS = (("< 1 month", timedelta(days=30)), ("1–6 months", timedelta(days=183)), ("> 6 months", None))


def bucket(age: timedelta) -> str:
    return next(name for name, limit in BUCKETS if limit is None or age < limit)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--recent-days", default="", help="WIF_PUSH_MESSAGE_RECENT_DAYS (empty: the default)")
    args = parser.parse_args()

    from jobs.cli import main as wif
    from jobs.runtime import sandbox_store
    from sandbox.demarche import CONNECTOR_INSTRUCTEUR_ID
    from sandbox.server import start_server

    with (
        tempfile.TemporaryDirectory() as folder,
        start_server(sandbox_store(args.n, args.seed), rate_limit=1_000_000) as server,
    ):
        os.environ.update(
            {
                "DS_API_URL": server.url,
                "DS_API_TOKEN": server.token,
                "DS_DEMARCHE_NUMBER": "1",
                "DS_INSTRUCTEUR_ID": CONNECTOR_INSTRUCTEUR_ID,
                "DATABASE_URL": f"sqlite:///{folder}/wif.db",
                "WIF_PUSH_MAX_MESSAGE_SHARE": "1",
                "WIF_PUSH_MESSAGE_RECENT_DAYS": args.recent_days,
            }
        )
        assert wif(["procedure", "bind", "--yes"]) == 0
        out = io.StringIO()
        with redirect_stdout(out):
            assert wif(["sync"]) == 0
        withheld = re.search(r"(\d+) message\(s\) withheld", out.getvalue())
        store, now = server.store, datetime.now(UTC)
        by_id = {record.id: record for record in store.dossiers.values()}
        messages = {name: 0 for name, _ in BUCKETS}
        recent_edit = 0  # messages about a dossier deposited more than 60 days ago, edited since
        decided_mutations, decided_dossiers = 0, set()
        for name, payload in store.mutation_log:
            record = by_id.get(payload.get("dossierId"))
            if record is None:
                continue
            if name == "dossierEnvoyerMessage":
                messages[bucket(now - record.depose_at)] += 1
                recent_edit += now - record.depose_at > timedelta(days=60)
            if record.state in DECIDED:
                decided_mutations += 1
                decided_dossiers.add(record.number)
        visible = store.visible_dossiers(1)
        deposited = {name: 0 for name, _ in BUCKETS}
        for record in visible:
            deposited[bucket(now - record.depose_at)] += 1
    total = sum(messages.values())
    print(
        f"{len(visible)} dossiers ({sum(1 for r in visible if r.state in DECIDED)} decided), "
        f"WIF_PUSH_MESSAGE_RECENT_DAYS={args.recent_days or 'default'}"
    )
    print(
        f"DS messages: {total}; by age of the deposit: "
        + ", ".join(f"{name} {count} (of {deposited[name]} dossiers)" for name, count in messages.items())
    )
    print(
        f"messages withheld (the push line): {withheld.group(1) if withheld else 0}; messages about a dossier "
        f"deposited more than 60 days ago: {recent_edit}"
    )
    print(f"mutations on decided dossiers: {decided_mutations} on {len(decided_dossiers)} dossiers")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
