"""Crash consistency: `wif sync` (which pushes) killed (-9) at seeded random
points of its talk with DS, then rerun to completion, ends where a run nobody
killed ends: the same database (run timestamps and job runs aside) and the
same mutations on DS, none twice.

The sandbox is a thread of the test process, so each kill leaves it running
with its journal; the killed `wif sync` is a real subprocess. Runs on SQLite
and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from jobs.cli import main
from jobs.runtime import sandbox_store
from sandbox.server import start_server
from tests.conftest import fresh_database
from tests.crash_helpers import (
    KillSwitch,
    database_contents,
    differences,
    duplicates,
    journal,
    start_wif,
    unsettled_rows,
    wif_env,
)

DOSSIERS, SEED = 40, 15
# Small batches and pages: a run makes enough requests to be killed between many of them.
SETTINGS = {"WIF_PUSH_BATCH_SIZE": "20", "DS_PAGE_SIZE": "10", "WIF_VALIDITY_PEPPER": "p" * 40}
KILLS = 10


def run_here(monkeypatch, env: dict[str, str], *args: str) -> int:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return main(list(args))


def complete_history(monkeypatch, env) -> None:
    """Runs until nothing is left: the run that completes, then one more that finds nothing to do."""
    assert run_here(monkeypatch, env, "sync") == 0
    assert run_here(monkeypatch, env, "sync") == 0


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """A history nobody killed: its database, its journal on DS, and how many requests its first run made."""
    since = datetime.now(UTC)
    with (
        start_server(sandbox_store(DOSSIERS, SEED), rate_limit=1_000_000) as server,
        fresh_database(tmp_path_factory.mktemp("clean")) as url,
        pytest.MonkeyPatch.context() as monkeypatch,
    ):
        env = wif_env(server, url, **SETTINGS)
        assert run_here(monkeypatch, env, "procedure", "bind", "--yes") == 0  # as a deployment does first
        before = len(server.request_log)
        assert run_here(monkeypatch, env, "sync") == 0
        requests = len(server.request_log) - before
        assert run_here(monkeypatch, env, "sync") == 0
        assert unsettled_rows(url) == [] and duplicates(server.store) == []
        return database_contents(url, server.base_url, since), journal(server.store), requests


def kill_points(requests: int) -> list[tuple[int, bool]]:
    chooser = random.Random(SEED)
    return [(chooser.randint(1, requests), chooser.random() < 0.5) for _ in range(KILLS)]


@pytest.mark.parametrize("point", range(KILLS))
def test_a_sync_killed_anywhere_then_rerun_ends_like_a_clean_run(make_sandbox, database_url, monkeypatch, clean, point):
    clean_database, clean_journal, requests = clean
    at, before = kill_points(requests)[point]
    since = datetime.now(UTC)
    server = make_sandbox(dossiers=DOSSIERS, seed=SEED)
    env = wif_env(server, database_url, **SETTINGS)
    assert run_here(monkeypatch, env, "procedure", "bind", "--yes") == 0
    switch = KillSwitch(server)
    process = start_wif(["sync"], env)
    switch.arm(process, at=at, before=before)
    out, err = process.communicate(timeout=120)
    switch.restore()
    assert switch.fired.is_set() and process.returncode == -9, (at, before, process.returncode, out, err)

    complete_history(monkeypatch, env)
    assert unsettled_rows(database_url) == []
    assert duplicates(server.store) == []  # no message, label, groupe change or annotation write twice
    assert journal(server.store) == clean_journal
    found = differences(database_contents(database_url, server.base_url, since), clean_database)
    assert found == {}, f"kill at request {at} ({'before' if before else 'after'} DS ran it): {found}"
