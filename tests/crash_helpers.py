"""Kill `wif` subprocesses at chosen points of their talk with the sandbox,
and compare what a killed-then-rerun history left with a clean run.

The sandbox runs in the test process (a thread): a kill leaves it alive with
its journal of mutations (`store.mutation_log`).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from core import models
from core.db import make_engine, session_factory

ROOT = Path(__file__).resolve().parent.parent
INSTRUCTEUR_ID = "SW5zdHJ1Y3RldXItMQ=="


def wif_env(server, database_url: str, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not (k.startswith(("DS_", "WIF_", "SMTP_")) or k == "DATABASE_URL")}
    env.update(
        {
            "DS_API_URL": server.url,
            "DS_API_TOKEN": server.token,
            "DS_DEMARCHE_NUMBER": "1",
            "DS_INSTRUCTEUR_ID": INSTRUCTEUR_ID,
            "DATABASE_URL": database_url,
            "DS_MAX_RETRIES": "1",
            "WIF_OUTBOX_DIR": str(Path(database_url.removeprefix("sqlite:///")).parent / "outbox")
            if database_url.startswith("sqlite:///")
            else "/tmp/wif-crash-outbox",
        }
    )
    env.update(overrides)
    return env


def start_wif(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "jobs.cli", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_wif(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jobs.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


class KillSwitch:
    """Kills a process when the sandbox receives its n-th request of an operation.

    `before`: DS never executes that request; otherwise DS executes it and
    the process dies before the answer leaves (the answer is lost).
    """

    def __init__(self, server) -> None:
        self.server = server
        self._original = server.run_graphql
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._count = 0
        self.fired = threading.Event()
        server.run_graphql = self._run_graphql

    def arm(self, process: subprocess.Popen, *, at: int, operation: str | None = None, before: bool = False) -> None:
        with self._lock:
            self._process, self._at, self._operation, self._before = process, at, operation, before
            self._count = 0
            self.fired.clear()

    def disarm(self) -> None:
        with self._lock:
            self._process = None

    def _should_fire(self, body: dict) -> bool:
        with self._lock:
            if self._process is None or (self._operation and body.get("operationName") != self._operation):
                return False
            self._count += 1
            return self._count == self._at

    def _kill(self) -> None:
        process, self._process = self._process, None
        os.kill(process.pid, signal.SIGKILL)
        self.fired.set()
        process.wait(timeout=30)  # dead before DS answers: the answer is lost

    def _run_graphql(self, body, authorization, force_timeout):
        fire = isinstance(body, dict) and self._should_fire(body)
        if fire and self._before:
            self._kill()
            return 500, {"errors": [{"message": "killed", "extensions": {"code": "internal_server_error"}}]}
        answer = self._original(body, authorization, force_timeout)
        if fire:
            self._kill()
        return answer

    def restore(self) -> None:
        self.server.run_graphql = self._original


def journal(store) -> Counter:
    """The mutations DS applied, without the ids the connector numbers them with."""
    entries = Counter()
    for name, variables in store.mutation_log:
        variables = {k: v for k, v in variables.items() if k != "clientMutationId"}
        entries[json.dumps([name, variables], sort_keys=True, ensure_ascii=False)] += 1
    return entries


def duplicates(store) -> list[str]:
    return sorted(entry for entry, count in journal(store).items() if count > 1)


def unsettled_rows(database_url: str) -> list[tuple]:
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as session:
            return session.execute(
                select(models.PushOutbox.dossier_number, models.PushOutbox.kind, models.PushOutbox.status).where(
                    models.PushOutbox.status.in_(("sending", "pending", "failed"))
                )
            ).all()
    finally:
        engine.dispose()


# Columns that say when or in which attempt something happened, not what the
# data is: they differ between any two runs, killed or not.
RUN_COLUMNS = frozenset(
    {
        "id",
        "synced_at",
        "checked_at",
        "created_at",
        "delivered_at",
        "next_attempt_at",
        "attempts",
        "client_mutation_id",
        "last_error",
        "last_success_at",
        "push_checkpoint",
        "last_rescan_at",
        "claimed_at",
        "sent_at",
        "updated_at",
        "handled_at",
        "received_at",
        "observed_at",
    }
)
SKIPPED_TABLES = frozenset({"job_runs", "job_locks"})
# A time after `since` (the sandbox's start) was stamped by DS's clock or ours
# during the run: two runs against two sandboxes differ there and nowhere else.
# A cursor encodes one of those times.
CLOCK_COLUMNS = frozenset({"end_cursor"})


def _without_clock(value, since: datetime):
    if isinstance(value, dict):
        return {k: _without_clock(v, since) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_clock(v, since) for v in value]
    moment = value
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in "T ":
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(moment, datetime):
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return "<during the run>" if moment >= since else value
    return value


# A file URL carries a signature of its expiry time (DS's expire after an hour): a clock value too.
SIGNED_URL = re.compile(r"(DS/files|DS/api/v2/dossiers/\w+)/[^/\"]+")


def database_contents(database_url: str, ds_base_url: str, since: datetime) -> dict[str, list]:
    """Every table but the job runs, as sorted rows without the run columns,
    the times after `since` as one placeholder, the sandbox's address (in file URLs) as `DS`
    and the signature of a file URL as a placeholder."""
    from core.models import Base

    engine = make_engine(database_url)
    contents = {}
    try:
        with engine.connect() as connection:
            for table in Base.metadata.sorted_tables:
                if table.name in SKIPPED_TABLES:
                    continue
                columns = [c for c in table.columns if c.name not in RUN_COLUMNS | CLOCK_COLUMNS]
                rows = connection.execute(select(*columns)).all()
                contents[table.name] = sorted(
                    SIGNED_URL.sub(
                        r"\1/<signed>",
                        json.dumps(
                            {c.name: _without_clock(v, since) for c, v in zip(columns, row, strict=False)},
                            default=str,
                            sort_keys=True,
                            ensure_ascii=False,
                        ).replace(ds_base_url, "DS"),
                    )
                    for row in rows
                )
    finally:
        engine.dispose()
    return contents


def _deep_diff(a, b, path: str = "") -> dict:
    """{path: (a's value, b's value)} where they differ, descending into dicts and same-length lists."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = {}
        for key in sorted(set(a) | set(b)):
            out.update(_deep_diff(a.get(key), b.get(key), f"{path}.{key}"))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = {}
        for index, (x, y) in enumerate(zip(a, b, strict=False)):
            out.update(_deep_diff(x, y, f"{path}[{index}]"))
        return out
    return {} if a == b else {path: (a, b)}


def differences(left: dict[str, list], right: dict[str, list], limit: int = 5) -> dict[str, list]:
    """Per table, the rows only one side has, paired by their first columns
    when they can be, with the columns that differ: a readable assertion message."""
    out = {}
    for name in sorted(set(left) | set(right)):
        a, b = Counter(left.get(name, [])), Counter(right.get(name, []))
        if a == b:
            continue
        only_left = [json.loads(row) for row in (a - b).elements()]
        only_right = [json.loads(row) for row in (b - a).elements()]
        shown = []
        for row in only_left[:limit]:
            key = next((k for k in ("number", "dossier_number", "demarche_number") if k in row), None)
            twin = next((other for other in only_right if key and other.get(key) == row.get(key)), None)
            if twin is None:
                shown.append(("only in the first", row))
            else:
                shown.append((key, row[key], _deep_diff(row, twin)))
        shown += [
            ("only in the second", row)
            for row in only_right[:limit]
            if not any(len(entry) == 3 and entry[1] == row.get(entry[0]) for entry in shown)
        ]
        out[name] = (len(only_left), len(only_right), shown)
    return out
