"""Kill `wif` subprocesses at chosen points of their talk with the sandbox,
and compare what a killed-then-rerun history left with a clean run.

The sandbox runs in the test process (a thread): a kill leaves it alive with
its journal of mutations (`store.mutation_log`).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from core import models
from core.db import make_engine, session_factory

ROOT = Path(__file__).resolve().parent.parent
INSTRUCTEUR_ID = "SW5zdHJ1Y3RldXItMQ=="


def wif_env(server, database_url: str, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not (k.startswith(("DS_", "WIF_", "SMTP_")) or k == "DATABASE_URL")}
    env.update({
        "DS_API_URL": server.url,
        "DS_API_TOKEN": server.token,
        "DS_DEMARCHE_NUMBER": "1",
        "DS_INSTRUCTEUR_ID": INSTRUCTEUR_ID,
        "DATABASE_URL": database_url,
        "DS_MAX_RETRIES": "1",
        "WIF_OUTBOX_DIR": str(Path(database_url.removeprefix("sqlite:///")).parent / "outbox")
        if database_url.startswith("sqlite:///") else "/tmp/wif-crash-outbox",
    })
    env.update(overrides)
    return env


def start_wif(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "jobs.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_wif(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jobs.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


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
                select(models.PushOutbox.dossier_number, models.PushOutbox.kind, models.PushOutbox.status)
                .where(models.PushOutbox.status.in_(("sending", "pending", "failed")))).all()
    finally:
        engine.dispose()
