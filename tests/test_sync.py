"""Incremental sync against the DS sandbox over real HTTP."""

import logging

import pytest
from sqlalchemy import func, select

from connector.errors import DSAuthenticationError, DSTokenExpired
from connector.ratelimit import RequestBudget
from core import models
from tests.sync_helpers import local_snapshot, make_syncer, requests_by_operation, sandbox_snapshot


def test_first_sync_then_changes_then_nothing(make_sandbox, ds_client_for, sessions):
    server = make_sandbox(dossiers=1000, seed=11)
    store = server.store
    syncer = make_syncer(ds_client_for(server), sessions)

    first = syncer.sync(1)
    assert local_snapshot(sessions) == sandbox_snapshot(store)
    assert first.created == len(store.visible_dossiers(1)) > 900

    visible = [d.number for d in store.visible_dossiers(1)]
    for number in visible[:10]:
        store.modify(number, emploi_intitule="Serveur en restauration")
    for number in visible[10:12]:
        store.trash(number)
    for number in visible[12:15]:
        store.delete(number)
    mark = len(server.request_log)

    second = syncer.sync(1)
    assert local_snapshot(sessions) == sandbox_snapshot(store)
    assert (second.updated, second.trashed, second.deleted, second.created) == (10, 2, 3, 0)
    # One page of each connection: the 10 changes fit in the first page.
    assert requests_by_operation(server, mark) == {
        "getDemarcheDossiers": 1,
        "getPendingDeletedDossiers": 1,
        "getDeletedDossiers": 1,
    }
    with sessions() as session:
        tombstone = session.get(models.Dossier, visible[12])
        assert tombstone.deleted_reason == "user_request" and tombstone.student is None and tombstone.raw == {}
        assert session.get(models.Dossier, visible[10]).hidden_at is not None

    mark = len(server.request_log)
    third = syncer.sync(1)
    assert third.fetched == 0
    calls = server.request_log[mark:]
    assert len(calls) == 3
    # each call is the first page after the stored cursor, never a re-read
    assert all(call.variables.get("after") for call in calls if call.operation_name == "getDemarcheDossiers")


def test_restored_dossier_becomes_visible_again(make_sandbox, ds_client_for, sessions):
    server = make_sandbox(dossiers=60)
    syncer = make_syncer(ds_client_for(server), sessions)
    syncer.sync(1)
    number = server.store.visible_dossiers(1)[0].number
    server.store.trash(number)
    syncer.sync(1)
    assert number not in local_snapshot(sessions)
    server.store.restore(number)
    syncer.sync(1)
    assert local_snapshot(sessions) == sandbox_snapshot(server.store)


class Crash(Exception):
    pass


def _table_dump(sessions):
    with sessions() as session:
        dossiers = session.execute(
            select(
                models.Dossier.number,
                models.Dossier.state,
                models.Dossier.date_derniere_modification,
                models.Dossier.completeness_status,
                models.Dossier.departement,
                models.Dossier.service,
            ).order_by(models.Dossier.number)
        ).all()
        counts = {
            table.__tablename__: session.scalar(select(func.count()).select_from(table))
            for table in (
                models.Student,
                models.Employer,
                models.Contract,
                models.DocumentFile,
                models.Finding,
                models.MappingIssue,
                models.StateChange,
            )
        }
    return dossiers, counts


def test_interrupted_sync_converges_to_the_uninterrupted_result(make_sandbox, ds_client_for, database_url, tmp_path):
    from core.db import make_engine, session_factory
    from core.models import Base

    server = make_sandbox(dossiers=300, seed=5)

    def fresh_sessions(name):
        engine = (
            make_engine(f"sqlite:///{tmp_path / name}.db")
            if database_url.startswith("sqlite")
            else make_engine(database_url)
        )
        if not database_url.startswith("sqlite"):
            Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
        return session_factory(engine)

    reference_sessions = fresh_sessions("reference")
    make_syncer(ds_client_for(server), reference_sessions, page_size=40).sync(1)
    reference = _table_dump(reference_sessions)

    sessions = fresh_sessions("crashed")
    pages = []

    def crash_after_third_page(session, numbers):
        pages.append(numbers)
        if len(pages) == 3:
            raise Crash()

    with pytest.raises(Crash):
        make_syncer(ds_client_for(server), sessions, page_size=40, after_page=crash_after_third_page).sync(1)
    with sessions() as session:
        stored = session.scalar(select(func.count()).select_from(models.Dossier))
        assert stored == 80  # two pages committed, the third rolled back with its cursor
    make_syncer(ds_client_for(server), sessions, page_size=40).sync(1)
    assert _table_dump(sessions) == reference


def test_rescan_catches_a_change_committed_behind_the_cursor(make_sandbox, ds_client_for, sessions):
    import bisect
    from datetime import timedelta

    server = make_sandbox(dossiers=80)
    store = server.store
    syncer = make_syncer(ds_client_for(server), sessions)
    first, late = store.visible_dossiers(1)[:2]
    store.modify(first.number, emploi_intitule="Plongeur")
    syncer.sync(1)  # the cursor is now at `first`'s change
    # A transaction that commits late: its updated_at is just behind the cursor.
    with store.lock:
        store.modify(late.number, emploi_intitule="Commis de cuisine")
        store._remove(store._by_updated[1], (late.updated_at, late.number))
        late.updated_at = first.updated_at - timedelta(seconds=1)
        bisect.insort(store._by_updated[1], (late.updated_at, late.number))
    assert syncer.sync(1).updated == 0  # invisible to the cursor
    rescan = syncer.sync(1, force_rescan=True)
    assert rescan.rescanned and rescan.updated == 1
    assert local_snapshot(sessions) == sandbox_snapshot(store)


def test_malformed_dossiers_are_stored_with_issues(make_sandbox, ds_client_for, sessions):
    server = make_sandbox(dossiers=400, seed=3)
    make_syncer(ds_client_for(server), sessions).sync(1)
    malformed = [n for n, intent in server.store.intents(1).items() if intent == "malformed"]
    assert malformed
    with sessions() as session:
        for number in malformed:
            dossier = session.get(models.Dossier, number)
            assert dossier is not None and dossier.mapping_issues, number


def test_faults_are_retried_and_the_timeout_shrinks_the_page(make_sandbox, ds_client_for, sessions):
    # 2-second windows: the injected 429's RateLimit-Reset is at most 2 s away.
    server = make_sandbox(dossiers=120, window_seconds=2)
    server.faults.add("503")
    server.faults.add("429")
    server.faults.add("reset")
    server.faults.add("timeout", operation="getDemarcheDossiers")
    server.faults.timeout_when_first_above = 30
    client = ds_client_for(server)
    summary = make_syncer(client, sessions, page_size=100).sync(1)
    assert local_snapshot(sessions) == sandbox_snapshot(server.store)
    assert summary.created == len(server.store.visible_dossiers(1))
    statuses = [entry.status for entry in server.request_log]
    assert 503 in statuses and 429 in statuses
    sizes = {
        entry.variables.get("first") for entry in server.request_log if entry.operation_name == "getDemarcheDossiers"
    }
    assert max(s for s in sizes if s) == 100 and min(s for s in sizes if s) <= 30
    assert client.stats.retries >= 3


def test_slow_answers_beyond_the_client_timeout_are_retried(make_sandbox, ds_client_for, sessions):
    # Few dossiers, so that an ordinary answer stays far under the client's timeout on a loaded machine.
    server = make_sandbox(dossiers=5)
    server.faults.add("slow", seconds=4)
    client = ds_client_for(server, timeout=1.0)
    make_syncer(client, sessions).sync(1)
    assert local_snapshot(sessions) == sandbox_snapshot(server.store)
    assert client.stats.retries >= 1


def test_the_request_budget_keeps_under_the_server_throttle(make_sandbox, ds_client_for, sessions):
    # The server throttles at 8 requests per 2-second window, like DS's 400/min.
    # The budget counts sends, the server arrivals: one request of margin
    # absorbs the network jitter between the two clocks on a loaded machine.
    server = make_sandbox(dossiers=150, rate_limit=8, window_seconds=2)
    client = ds_client_for(server, budget=RequestBudget(7, 2))
    make_syncer(client, sessions, page_size=10).sync(1)
    assert local_snapshot(sessions) == sandbox_snapshot(server.store)
    assert [e for e in server.request_log if e.status == 429] == []
    assert len(server.request_log) > 16  # enough to hit the limit twice over
    # Every request went through the budget. Whether it had to wait depends on
    # how fast the machine answers; the waiting itself is proven on a fake
    # clock (tests/test_client_unit.py), not here.
    assert sum(client.budget.granted.values()) == len(server.request_log)


def test_throttled_client_waits_for_ratelimit_reset(make_sandbox, ds_client_for, sessions):
    # Two requests per 4-second window: throttled even when a loaded machine takes a second per request.
    server = make_sandbox(dossiers=60, rate_limit=2, window_seconds=4)
    client = ds_client_for(server)  # no client budget: the server throttles
    make_syncer(client, sessions, page_size=10).sync(1)
    assert local_snapshot(sessions) == sandbox_snapshot(server.store)
    assert client.stats.throttled >= 1


@pytest.mark.parametrize("expired, exception", [(False, DSAuthenticationError), (True, DSTokenExpired)])
def test_bad_token_fails_fast_without_leaking_it(make_sandbox, ds_client_for, sessions, caplog, expired, exception):
    server = make_sandbox(dossiers=5)
    token = "dG9rZW4tdGhhdC1tdXN0LW5ldmVyLWFwcGVhcg"
    if expired:
        server.store.add_token(token, expired=True)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(exception) as raised:
        make_syncer(ds_client_for(server, token=token), sessions).sync(1)
    assert len(server.request_log) == 1
    assert token not in str(raised.value) and token not in caplog.text


def test_every_synced_dossier_is_routed_and_checked_as_the_generator_intended(make_sandbox, ds_client_for, sessions):
    from tests.sync_helpers import evaluator
    from tests.test_sandbox_intents import EXPECTED

    server = make_sandbox(dossiers=500, seed=17)
    make_syncer(ds_client_for(server), sessions).sync(1)
    expected_status = {intent: status for intent, (status, _) in EXPECTED.items()}
    intents = server.store.intents(1)
    assert set(intents.values()) <= set(expected_status)
    with sessions() as session:
        dossiers = {
            d.number: d for d in session.scalars(select(models.Dossier).where(models.Dossier.hidden_at.is_(None)))
        }
        assert set(dossiers) == set(intents)
        for number, dossier in dossiers.items():
            status = expected_status[intents[number]]
            unknown_champ = server.store.dossiers[number].anomaly == ("extra_champ",)
            if unknown_champ:
                status = "complet"  # a champ unknown to the procedure is the operators' alert, not the dossier's status
            assert dossier.completeness_status == status, (number, intents[number])
            assert dossier.rules_revision == evaluator().rules.revision
            assert dossier.target_groupe_label, number  # a service's groupe or the fallback, never nothing
            assert dossier.departement or dossier.routing_reason, number
            if dossier.completeness_status in ("incomplet", "hors_perimetre"):
                assert any(f.severity == "blocking" for f in dossier.findings), number
            if dossier.completeness_status == "complet":
                assert dossier.findings == [] and (dossier.mapping_issues == []) != unknown_champ, number


def test_full_rebuild_re_evaluates_everything_and_drops_what_ds_no_longer_lists(make_sandbox, ds_client_for, sessions):
    server = make_sandbox(dossiers=90)
    syncer = make_syncer(ds_client_for(server), sessions)
    syncer.sync(1)
    gone = server.store.visible_dossiers(1)[0].number
    server.store.delete(gone)
    server.store.deleted[1].clear()  # a deletion DS never reported to us
    assert gone in local_snapshot(sessions)
    full = syncer.sync(1, full=True)
    assert full.removed == 1 and full.updated == len(server.store.visible_dossiers(1))
    assert local_snapshot(sessions) == sandbox_snapshot(server.store)


def test_dry_run_writes_nothing(make_sandbox, ds_client_for, sessions):
    server = make_sandbox(dossiers=40)
    summary = make_syncer(ds_client_for(server), sessions, dry_run=True).sync(1)
    assert summary.created == len(server.store.visible_dossiers(1))
    assert local_snapshot(sessions) == {}
    with sessions() as session:
        assert session.get(models.SyncState, 1) is None
