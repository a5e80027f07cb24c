"""A `wif push` killed (-9) in the middle of its delivery: the next run settles
every row left `sending` from what DS shows, and DS receives each mutation once."""

from __future__ import annotations

import pytest

from connector.batch import MUTATION_BATCH
from jobs.cli import main
from jobs.runtime import sandbox_store
from sandbox.server import start_server
from tests.conftest import fresh_database
from tests.crash_helpers import KillSwitch, duplicates, journal, start_wif, unsettled_rows, wif_env

DOSSIERS, SEED = 40, 21
SETTINGS = {"WIF_PUSH_BATCH_SIZE": "10"}


def run_here(monkeypatch, env: dict[str, str], *args: str) -> int:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return main(list(args))


@pytest.fixture(scope="module")
def clean_journal(tmp_path_factory):
    """What DS receives from one sync and one push that nobody kills."""
    with (
        start_server(sandbox_store(DOSSIERS, SEED), rate_limit=1_000_000) as server,
        fresh_database(tmp_path_factory.mktemp("clean")) as url,
        pytest.MonkeyPatch.context() as monkeypatch,
    ):
        env = wif_env(server, url, **SETTINGS)
        assert run_here(monkeypatch, env, "procedure", "bind", "--yes") == 0
        assert run_here(monkeypatch, env, "sync", "--no-push") == 0
        assert run_here(monkeypatch, env, "push") == 0
        assert unsettled_rows(url) == []
        return journal(server.store)


@pytest.mark.parametrize(
    "at, before",
    [(1, False), (3, False), (2, True)],
    ids=["answer-of-batch-1-lost", "answer-of-batch-3-lost", "killed-before-batch-2-ran"],
)
def test_a_push_killed_mid_delivery_is_settled_by_the_next_run(
    make_sandbox, database_url, monkeypatch, capsys, clean_journal, at, before
):
    server = make_sandbox(dossiers=DOSSIERS, seed=SEED)
    env = wif_env(server, database_url, **SETTINGS)
    assert run_here(monkeypatch, env, "procedure", "bind", "--yes") == 0
    assert run_here(monkeypatch, env, "sync", "--no-push") == 0
    switch = KillSwitch(server)
    process = start_wif(["push"], env)
    switch.arm(process, at=at, operation=MUTATION_BATCH, before=before)
    out, err = process.communicate(timeout=120)
    switch.restore()
    assert switch.fired.is_set() and process.returncode == -9, (process.returncode, out, err)
    left = [row for row in unsettled_rows(database_url) if row[2] == "sending"]
    assert left  # the killed request's rows: sent, outcome never recorded

    capsys.readouterr()
    assert run_here(monkeypatch, env, "status") == 0
    status = capsys.readouterr().out
    assert f"uncertain {len(left)}" in status
    assert f"Uncertain push mutations ({len(left)};" in status  # each named: dossier and mutation
    for number, kind, _ in left[:20]:
        assert f"  dossier {number}: {kind}, 1 attempt(s)" in status
    assert "push     interrupted" in status and "ended without closing the run" in status  # not `running` for ever

    assert run_here(monkeypatch, env, "push") == 0
    out = capsys.readouterr().out
    assert f"{len(left)} mutation(s) left uncertain by an earlier run settled from DS" in out
    if not before:  # the killed batch ran on DS: found there, not sent again, and said so
        assert f"({len(left)} already on DS), 0 failed" in out
    assert unsettled_rows(database_url) == []
    assert duplicates(server.store) == []
    assert journal(server.store) == clean_journal
    # The local copy agrees with DS: nothing left to send, no label believed missing or present wrongly.
    assert run_here(monkeypatch, env, "push", "--dry-run", "--all") == 0
    assert "0 mutations planned" in capsys.readouterr().out
    assert run_here(monkeypatch, env, "status") == 0
    assert "outcome not recorded" not in capsys.readouterr().out
