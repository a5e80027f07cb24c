"""Answers that break DS's schema or do not add up (issue #21, items 3 and 5), one test per shape, through
the sandbox's faults: a dossier without a field the schema says is never null is set aside like a node DS
nulled; the same dossier twice in a page is read once; a page that leaves dossiers out is re-scanned; a page
whose count or cursor does not add up is asked again, and if DS keeps answering so, `wif sync` ends with one
line and exit 11, its cursor where it was."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import models
from jobs.cli import main
from sandbox.faults import MALFORMED_NULL_FIELDS
from tests.sync_helpers import local_snapshot, make_syncer, quarantine_rows, requests_by_operation, sandbox_snapshot

PAGE_SHAPES = ("empty_nodes", "null_nodes", "null_end_cursor", "absent_end_cursor", "null_page_info")


def ordered_numbers(server) -> list[int]:
    return [number for _, number in server.store.ordered(1, True)]


def stored_cursor(sessions) -> str | None:
    with sessions() as session:
        return session.scalar(select(models.SyncState.end_cursor).where(models.SyncState.demarche_number == 1))


@pytest.fixture
def sandbox(make_sandbox):
    return make_sandbox(dossiers=30, seed=5)


@pytest.mark.parametrize("kind", sorted(MALFORMED_NULL_FIELDS))
def test_a_dossier_without_a_non_null_field_is_set_aside_then_stored_whole(sandbox, ds_client_for, sessions, kind):
    first = ordered_numbers(sandbox)[0]
    sandbox.faults.add(kind, operation="getDemarcheDossiers")  # the first page's first dossier
    sandbox.faults.add(kind, operation="getDossier")  # and once more when it is fetched alone
    syncer = make_syncer(ds_client_for(sandbox), sessions, page_size=10)

    summary = syncer.sync(1)

    field = MALFORMED_NULL_FIELDS[kind]
    row = quarantine_rows(sessions)[first]
    assert (row.status, row.error) == (
        models.Q_FAILING,
        f"DS answered {field} null, which its schema says is never null",
    )
    assert summary.quarantined == 1
    expected = sandbox_snapshot(sandbox.store)
    assert local_snapshot(sessions) == {n: v for n, v in expected.items() if n != first}

    syncer.sync(1)  # DS answers it whole again: stored, out of quarantine
    assert quarantine_rows(sessions) == {}
    assert local_snapshot(sessions) == expected


def test_a_dossier_twice_in_a_page_is_read_once_and_the_one_it_hid_comes_back(sandbox, ds_client_for, sessions):
    hidden = ordered_numbers(sandbox)[1]  # the page's second dossier, replaced by a copy of its first
    sandbox.faults.add("duplicate_node", operation="getDemarcheDossiers")

    summary = make_syncer(ds_client_for(sandbox), sessions, page_size=10).sync(1)

    assert local_snapshot(sessions) == sandbox_snapshot(sandbox.store)
    assert hidden in local_snapshot(sessions) and summary.rescanned


def test_a_page_that_leaves_dossiers_out_is_re_scanned_in_the_same_run(sandbox, ds_client_for, sessions):
    syncer = make_syncer(ds_client_for(sandbox), sessions, page_size=10)
    syncer.sync(1)
    for dossier in sandbox.store.visible_dossiers(1)[:20]:  # two pages after the stored cursor
        sandbox.store.bump(dossier)
    sandbox.faults.add("short_page", operation="getDemarcheDossiers")  # half of the first one left out
    before = len(sandbox.request_log)

    summary = syncer.sync(1)

    assert summary.rescanned and summary.updated == 20
    assert local_snapshot(sessions) == sandbox_snapshot(sandbox.store)
    # The re-scan starts from the dossiers before that page, not from the beginning.
    assert requests_by_operation(sandbox, before)["getDemarcheDossiers"] <= 6


def test_short_pages_in_the_re_scan_too_end_the_run_with_exit_11_and_the_next_run_reads_what_they_left_out(
    sandbox, env_for, sessions, capsys
):
    env_for(sandbox, DS_MAX_RETRIES="1", DS_PAGE_SIZE="10")
    assert main(["procedure", "bind", "--yes"]) == 0
    assert main(["sync", "--no-push"]) == 0
    for dossier in sandbox.store.visible_dossiers(1)[:20]:
        sandbox.store.bump(dossier)
    capsys.readouterr()
    sandbox.faults.add("short_page", count=50, operation="getDemarcheDossiers")

    assert main(["sync", "--no-push"]) == 11
    captured = capsys.readouterr()
    assert captured.err.startswith(
        "wif sync: getDemarcheDossiers: DS answered pages holding fewer dossiers than asked for in 2 re-scans in a row"
    )
    assert local_snapshot(sessions) != sandbox_snapshot(sandbox.store)  # what the pages left out is not read yet

    sandbox.faults.clear()  # DS sane again: the next run re-scans from before the first short page
    assert main(["sync", "--no-push"]) == 0
    assert local_snapshot(sessions) == sandbox_snapshot(sandbox.store)
    with sessions() as session:
        assert session.get(models.SyncState, 1).rescan_from is None


@pytest.mark.parametrize("kind", PAGE_SHAPES)
def test_a_page_that_does_not_add_up_once_is_asked_again(sandbox, ds_client_for, sessions, kind):
    sandbox.faults.add(kind, operation="getDemarcheDossiers")

    summary = make_syncer(ds_client_for(sandbox, max_retries=1), sessions, page_size=10).sync(1)

    assert local_snapshot(sessions) == sandbox_snapshot(sandbox.store)
    assert summary.created == len(sandbox.store.visible_dossiers(1))
    first_pages = [e.variables.get("after") for e in sandbox.request_log if e.operation_name == "getDemarcheDossiers"]
    assert first_pages[:2] == [None, None]  # the same page, asked twice


@pytest.mark.parametrize("kind", PAGE_SHAPES)
def test_a_page_that_keeps_not_adding_up_ends_wif_sync_with_exit_11_and_its_cursor_unmoved(
    sandbox, env_for, sessions, capsys, kind
):
    env_for(sandbox, DS_MAX_RETRIES="1", DS_PAGE_SIZE="10")
    assert main(["procedure", "bind", "--yes"]) == 0
    assert main(["sync", "--no-push"]) == 0
    cursor = stored_cursor(sessions)
    for dossier in sandbox.store.visible_dossiers(1)[:15]:
        sandbox.store.bump(dossier)
    synced = local_snapshot(sessions)
    capsys.readouterr()
    sandbox.faults.add(kind, count=50, operation="getDemarcheDossiers")

    assert main(["sync", "--no-push"]) == 11
    captured = capsys.readouterr()
    assert captured.err.startswith(
        "wif sync: getDemarcheDossiers: DS answered 2 times in a row a page that does not add up ("
    )
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err and captured.out == ""
    assert stored_cursor(sessions) == cursor and local_snapshot(sessions) == synced

    sandbox.faults.clear()  # DS sane again: the next run reads what was left
    assert main(["sync", "--no-push"]) == 0
    assert local_snapshot(sessions) == sandbox_snapshot(sandbox.store)
