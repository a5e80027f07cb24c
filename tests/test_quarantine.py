"""One broken dossier stops no one (issue #15): DS nulls it in its page, the
page keeps the others and moves on, the dossier is set aside, retried alone,
stored « À vérifier » with the champ named when DS gives it only in part."""

from __future__ import annotations

import pytest

from core import models
from tests.sync_helpers import local_snapshot, make_syncer, quarantine_rows, requests_by_operation, sandbox_snapshot


def ordered_numbers(server) -> list[int]:
    return [number for _, number in server.store.ordered(1, True)]


def dossier(sessions, number):
    with sessions() as session:
        found = session.get(models.Dossier, number)
        issues = [(i.field, i.code, i.message) for i in found.mapping_issues] if found else []
        findings = [(f.code, f.severity) for f in found.findings] if found else []
        session.expunge_all()
    return found, issues, findings


@pytest.fixture
def sandbox(make_sandbox):
    return make_sandbox(dossiers=40, seed=11)


def test_a_dossier_ds_cannot_give_is_set_aside_and_its_page_moves_on(sandbox, ds_client_for, sessions):
    broken = ordered_numbers(sandbox)[13]  # page 2 of 10, fourth dossier
    sandbox.faults.set_node_error(broken, "File.byteSizeBigInt")
    syncer = make_syncer(ds_client_for(sandbox), sessions, page_size=10)

    summary = syncer.sync(1)

    # Every other dossier is stored, the pages after the broken one included.
    local = local_snapshot(sessions)
    expected = sandbox_snapshot(sandbox.store)
    assert {n: v for n, v in local.items() if n != broken} == {n: v for n, v in expected.items() if n != broken}
    # Named by the light query of its page, then fetched alone (whole, then without the champs' objects).
    calls = requests_by_operation(sandbox)
    assert calls["getDemarcheDossierNumbers"] == 1
    assert calls["getDossier"] == 1 and calls["getDossierReduced"] == 1
    row = quarantine_rows(sessions)[broken]
    assert row.status == models.Q_PARTIAL
    assert row.error == "Cannot return null for non-nullable field File.byteSizeBigInt."
    assert row.error_path.startswith("champs.") and row.error_path.endswith(".files.0.byteSizeBigInt")
    assert row.champ  # the pièce justificative's label
    assert summary.quarantined == 1 and "quarantined 1" in summary.line()
    # Stored from the reduced read: « À vérifier », the champ named, nothing asked of the applicant.
    stored, issues, findings = dossier(sessions, broken)
    assert stored.completeness_status == "a_verifier"
    assert [m for f, c, m in issues if c == "ds_unreadable"][0].startswith(f"Champ « {row.champ} » illisible")
    assert all(severity == "warning" for _, severity in findings)
    assert stored.raw[models.UNREADABLE_KEY][0]["label"] == row.champ

    # DS fixed its data: the next sync stores it whole and releases it.
    sandbox.faults.set_node_error(broken, None)
    syncer.sync(1)
    assert quarantine_rows(sessions) == {}
    stored, issues, _ = dossier(sessions, broken)
    assert models.UNREADABLE_KEY not in stored.raw
    assert not [i for i in issues if i[1] == "ds_unreadable"]
    assert local_snapshot(sessions) == sandbox_snapshot(sandbox.store)


def test_a_field_nulled_inside_a_dossier_sets_that_dossier_aside(sandbox, ds_client_for, sessions):
    """DS's #12696: Commune.code null nulls the champ's commune; the node comes back, with the error."""
    numbers = ordered_numbers(sandbox)
    with_commune = next(
        n
        for n in numbers
        if any(getattr(v, "commune", None) is not None for v in sandbox.store.dossiers[n].values.values())
    )
    sandbox.faults.set_node_error(with_commune, "Commune.code")
    syncer = make_syncer(ds_client_for(sandbox), sessions, page_size=10)

    syncer.sync(1)

    row = quarantine_rows(sessions)[with_commune]
    assert row.status == models.Q_PARTIAL and row.error.endswith("Commune.code.")
    assert row.error_path.endswith(".commune.code") and row.champ
    assert "getDemarcheDossierNumbers" not in requests_by_operation(sandbox)  # the node named itself
    assert set(local_snapshot(sessions)) == set(sandbox_snapshot(sandbox.store))


def test_a_dossier_ds_cannot_give_at_all_waits_in_quarantine(sandbox, ds_client_for, sessions):
    """#11942: an internal error on one dossier, with the reduced selection too."""
    broken = ordered_numbers(sandbox)[-1]  # the last dossier of the last page
    sandbox.faults.set_node_error(broken, "internal")
    syncer = make_syncer(ds_client_for(sandbox), sessions, page_size=10)

    syncer.sync(1)
    syncer.sync(1)

    assert broken not in local_snapshot(sessions)
    assert len(local_snapshot(sessions)) == len(sandbox_snapshot(sandbox.store)) - 1
    row = quarantine_rows(sessions)[broken]
    assert row.status == models.Q_FAILING and row.error == "Internal Server Error" and row.error_path == "champs"
    assert row.attempts == 3  # its page, then alone at each sync
    with sessions() as session:
        assert session.get(models.SyncState, 1).end_cursor is not None


def test_wif_sync_goes_past_a_broken_dossier_and_wif_status_and_the_digest_list_it(
    make_sandbox, env_for, database_url, capsys
):
    from core.clock import utcnow
    from core.db import make_engine, session_factory
    from core.settings import DSSettings, Settings
    from jobs.cli import main
    from notifications.digest import plan_digests

    server = make_sandbox(dossiers=30, seed=12)
    broken = ordered_numbers(server)[5]
    server.faults.set_node_error(broken, "File.byteSizeBigInt")
    env_for(server, DS_MAX_RETRIES="1", DS_PAGE_SIZE="10")

    assert main(["procedure", "bind", "--yes"]) == 0
    capsys.readouterr()
    assert main(["sync", "--no-push"]) == 0
    # Every dossier DS shows: all but the broken one from the pages, which is then created alone.
    visible = len(server.store.visible_dossiers(1))
    assert f"fetched {visible - 1}, created {visible}," in capsys.readouterr().out
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert f"Quarantined dossiers (1):\n  démarche 1 dossier {broken}: partial" in out
    assert "Cannot return null for non-nullable field File.byteSizeBigInt." in out and "champ « " in out

    engine = make_engine(database_url)
    with session_factory(engine)() as session:
        contexts = plan_digests(session, utcnow(), Settings(ds=DSSettings(web_url="https://ds.example")))
    engine.dispose()
    alerts = [a for context in contexts.values() for a in context.alerts if a.dossier_number == broken]
    assert len(alerts) == 1 and alerts[0].reason.startswith("dossier lu en partie : Démarche Numérique n'a pas pu")
    assert alerts[0].url == f"https://ds.example/procedures/1/dossiers/{broken}"


def test_the_sandbox_node_error_fault_from_the_command_line():
    from sandbox.faults import Faults, parse_fault_spec

    faults = Faults()
    faults.configure(parse_fault_spec("node_error=12:Commune.code"))
    assert faults.request_faults(None).node_error(12) == "Commune.code"
    faults.configure({"node_error": {"dossier": 12, "field": None}})
    assert faults.request_faults(None).node_error(12) is None


def test_a_partial_dossier_costs_one_request_a_sync_and_is_not_updated_until_ds_gives_it_whole(
    sandbox, ds_client_for, sessions
):
    """Issue #21 item 10: stored from the reduced read, it was read twice more and counted « updated » each sync."""
    broken = ordered_numbers(sandbox)[7]
    sandbox.faults.set_node_error(broken, "File.byteSizeBigInt")
    syncer = make_syncer(ds_client_for(sandbox), sessions, page_size=10)
    syncer.sync(1)
    assert quarantine_rows(sessions)[broken].status == models.Q_PARTIAL
    stored, _, _ = dossier(sessions, broken)

    before = len(sandbox.request_log)
    again = syncer.sync(1)

    calls = requests_by_operation(sandbox, before)
    assert calls.get("getDossier") == 1 and "getDossierReduced" not in calls
    assert (again.created, again.updated, again.quarantined) == (0, 0, 1)
    row = quarantine_rows(sessions)[broken]
    assert (row.status, row.attempts) == (models.Q_PARTIAL, 3) and row.champ  # its page, then alone twice
    assert dossier(sessions, broken)[0].synced_at == stored.synced_at  # its reduced copy stands

    sandbox.faults.set_node_error(broken, None)  # DS fixed its data: stored whole, released
    fixed = syncer.sync(1)
    assert fixed.updated == 1 and quarantine_rows(sessions) == {}
    assert models.UNREADABLE_KEY not in dossier(sessions, broken)[0].raw
