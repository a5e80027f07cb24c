"""What DS does to a long sync and must not stop it (issue #15): timeouts in a
row at every page size, and a page whose end cursor is its start."""

from __future__ import annotations

import pytest

from connector.errors import DSUnavailable
from connector.pagination import CursorLoopError
from jobs.cli import main
from tests.sync_helpers import local_snapshot, make_syncer, sandbox_snapshot


def page_sizes(server) -> list[int]:
    return [e.variables["first"] for e in server.request_log if e.operation_name == "getDemarcheDossiers"]


def test_timeouts_in_a_row_down_to_the_smallest_page_are_retried_and_the_page_grows_back(
    make_sandbox, ds_client_for, sessions
):
    server = make_sandbox(dossiers=60, seed=3)
    # 8 → 4 → 2 → 1, then three more at one dossier: each size times out.
    server.faults.add("timeout", count=6, operation="getDemarcheDossiers")
    client = ds_client_for(server, max_retries=4)

    summary = make_syncer(client, sessions, page_size=8).sync(1)

    assert local_snapshot(sessions) == sandbox_snapshot(server.store)
    assert summary.created == len(server.store.visible_dossiers(1))
    sizes = page_sizes(server)
    assert sizes[:7] == [8, 4, 2, 1, 1, 1, 1]
    # Three clean pages at each size, then double, up to the size asked for.
    assert sizes[7:16] == [1, 1, 2, 2, 2, 4, 4, 4, 8]
    assert set(sizes[16:]) == {8}
    assert client.stats.retries_by_cause["timeout"] == 6


def test_timeouts_beyond_the_bound_end_the_run(make_sandbox, ds_client_for, sessions):
    server = make_sandbox(dossiers=20, seed=3)
    server.faults.add("timeout", count=1000, operation="getDemarcheDossiers")
    with pytest.raises(
        DSUnavailable, match="kept timing out on getDemarcheDossiers: 5 timeouts in a row, down to a page of 1"
    ):
        make_syncer(ds_client_for(server, max_retries=2), sessions, page_size=4).sync(1)
    assert page_sizes(server) == [4, 2, 1, 1, 1]


def test_timeouts_beyond_the_bound_end_wif_sync_with_a_message_not_a_traceback(make_sandbox, env_for, capsys):
    server = make_sandbox(dossiers=20, seed=3)
    server.faults.add("timeout", count=1000, operation="getDemarcheDossiers")
    env_for(server, DS_MAX_RETRIES="0", DS_PAGE_SIZE="2")
    assert main(["procedure", "bind", "--yes"]) == 0
    capsys.readouterr()
    assert main(["sync", "--no-push"]) == 5
    captured = capsys.readouterr()
    assert captured.err.startswith("wif sync: DS kept timing out on getDemarcheDossiers: 2 timeouts in a row")
    assert "Traceback" not in captured.err + captured.out


def test_a_page_ending_where_it_started_ends_wif_sync_with_its_exit_code(make_sandbox, env_for, capsys):
    server = make_sandbox(dossiers=30, seed=4)
    env_for(server, DS_MAX_RETRIES="1", DS_PAGE_SIZE="10")
    assert main(["procedure", "bind", "--yes"]) == 0
    capsys.readouterr()
    server.faults.add("stuck_cursor", operation="getDemarcheDossiers")  # the first page has no `after`
    server.faults.add("stuck_cursor", operation="getDemarcheDossiers")  # the second gives its start back

    assert main(["sync", "--no-push"]) == 9
    captured = capsys.readouterr()
    assert captured.err.startswith("wif sync: getDemarcheDossiers: DS gave back the page cursor")
    assert "run the sync again" in captured.err and "Traceback" not in captured.err
    # The pages read before are saved; the next run, with DS sane again, converges.
    assert main(["sync", "--no-push"]) == 0


def test_a_resumed_page_ending_on_the_stored_cursor_is_a_loop(make_sandbox, ds_client_for, sessions):
    server = make_sandbox(dossiers=30, seed=4)
    syncer = make_syncer(ds_client_for(server), sessions, page_size=5)
    syncer.sync(1)
    for dossier in server.store.visible_dossiers(1)[:12]:  # two full pages after the stored cursor
        server.store.bump(dossier)
    server.faults.add("stuck_cursor", count=50, operation="getDemarcheDossiers")
    before = len(server.request_log)
    with pytest.raises(CursorLoopError):
        syncer.sync(1)
    assert len(server.request_log) - before == 1
