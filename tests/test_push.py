"""Push back to DS, against the sandbox over HTTP: what agents see, exactly once.

Judged on what DS received (the sandbox's journal of mutations) and what it shows (labels, annotations,
groupes, messages of each dossier), never on the push's own reading of DS or its own planner."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from connector.client import DSClient
from connector.push import Intent, PushStopped
from connector.ratelimit import RequestBudget
from core import models
from core.db import make_engine, session_factory
from core.settings import PushSettings
from jobs.runtime import sandbox_store
from sandbox.champs import StoredFile
from sandbox.server import SandboxServer, start_server
from tests.crash_helpers import duplicates
from tests.push_helpers import (
    COMPLETUDE,
    DECIDED,
    Crash,
    CrashAfter,
    differences_on_ds,
    make_pusher,
    on_ds,
)
from tests.sync_helpers import copy_database, copy_store, local_snapshot, make_syncer, sandbox_snapshot

MISSING_DOCUMENTS = "Pièces manquantes (Work in France)"
HOURS = "Heures annuelles estimées / plafond (Work in France)"


def mutations(server, since=0):
    return [name for name, _ in server.store.mutation_log[since:]]


@dataclass
class Seeded:
    server: SandboxServer
    client: DSClient
    engine: Engine
    sessions: sessionmaker


@pytest.fixture(scope="module")
def seeded(module_database_url):
    """One sandbox of 120 dossiers, seeded and synced once for the module. No test writes to it:
    the read-only ones use it through `shared`, the others get a copy of their own through `synced`."""
    engine = make_engine(module_database_url)
    models.Base.metadata.create_all(engine)
    sessions = session_factory(engine)
    # A seed with more than a fifth of its dossiers en_construction: the circuit breaker test needs them.
    with start_server(sandbox_store(120, 24), rate_limit=1_000_000) as server:
        client = DSClient(server.url, server.token, budget=RequestBudget(1_000_000, 60), backoff_base=0.01, timeout=10)
        make_syncer(client, sessions).sync(1)
        yield Seeded(server, client, engine, sessions)
        client.close()
    engine.dispose()


@pytest.fixture
def shared(seeded):
    """The module's sandbox and database, for a test that only reads; the test fails if it wrote to them."""
    before = (sandbox_snapshot(seeded.server.store), local_snapshot(seeded.sessions))
    yield seeded
    assert seeded.server.store.mutation_log == []
    assert (sandbox_snapshot(seeded.server.store), local_snapshot(seeded.sessions)) == before
    with seeded.sessions() as session:
        assert session.scalars(select(models.PushOutbox)).all() == []
        assert session.get(models.SyncState, 1).push_checkpoint is None


@pytest.fixture
def synced(seeded, engine, sessions, ds_client_for):
    """A sandbox and a database of the test's own, as the seed and sync of `seeded` left them (copied, not redone)."""
    copy_database(seeded.engine, engine)
    server = start_server(copy_store(seeded.server.store), rate_limit=1_000_000)
    client = ds_client_for(server)
    yield server, client, make_syncer(client, sessions)
    server.stop()


def test_sync_and_push_leave_ds_as_the_connector_wants_then_nothing_more(synced, sessions):
    server, client, syncer = synced
    assert differences_on_ds(server.store, sessions)  # the sandbox starts without the connector's results
    summary = make_pusher(client, sessions).push(1)
    assert summary.failed == 0 and summary.delivered == summary.planned > 0
    assert summary.skipped_not_member == {} and summary.skipped_missing_groupe == {}
    assert differences_on_ds(server.store, sessions) == {}
    assert duplicates(server.store) == []
    with sessions() as session:
        instructed = session.scalars(
            select(models.Dossier.number).where(
                models.Dossier.completeness_status == "incomplet", models.Dossier.state == "en_instruction"
            )
        ).all()
    # Once instruction has begun, asking the applicant is the agent's decision: no message is sent.
    assert instructed and not any(on_ds(server.store, n).connector_messages for n in instructed)

    before = len(server.store.mutation_log)
    syncer.sync(1)  # reads back what DS now shows, our own changes included
    again = make_pusher(client, sessions).push(1)
    assert again.planned == 0 and mutations(server, before) == []


def test_a_crash_after_k_mutations_then_a_rerun_duplicates_nothing(synced, sessions):
    server, client, syncer = synced
    with pytest.raises(Crash):
        make_pusher(client, sessions, policy=PushSettings(batch_size=10), progress=CrashAfter(40)).push(1)
    assert 40 <= len(server.store.mutation_log) < 50  # the crash came after four requests of ten
    make_pusher(client, sessions).push(1)
    assert differences_on_ds(server.store, sessions) == {}
    assert duplicates(server.store) == []


def test_a_crash_between_sending_a_message_and_recording_it_is_checked_on_ds(synced, sessions):
    server, client, syncer = synced
    with sessions() as session:
        # Simulate the crash window: the message left but the row stayed `sending`.
        make_pusher(client, sessions).push(1)
        row = session.scalars(select(models.PushOutbox).where(models.PushOutbox.kind == "message")).first()
        row.status = "sending"
        row.delivered_at = None
        session.commit()
    before = len(server.store.mutation_log)
    make_pusher(client, sessions).push(1)
    assert "dossierEnvoyerMessage" not in mutations(server, before)
    assert on_ds(server.store, row.dossier_number).connector_messages == 1
    with sessions() as session:
        assert session.get(models.PushOutbox, row.id).status == "delivered"


def _incomplete_with_missing_document(sessions):
    """(number, keys of the missing documents) of one dossier that lacks only documents."""
    with sessions() as session:
        for dossier in session.scalars(select(models.Dossier).where(models.Dossier.state == "en_construction")):
            codes = {f.code for f in dossier.findings if f.severity == "blocking"}
            if codes == {"missing_document"}:
                return dossier.number, [f.field for f in dossier.findings if f.code == "missing_document"]
    return None, []


def test_corrected_finding_updates_annotations_without_a_new_message_and_a_new_one_sends_one(synced, sessions):
    server, client, syncer = synced
    pusher = make_pusher(client, sessions)
    pusher.push(1)
    number, missing = _incomplete_with_missing_document(sessions)
    assert number is not None
    record = server.store.dossier(number)
    asked = on_ds(server.store, number).connector_messages  # none if deposited long ago (WIF_PUSH_MESSAGE_RECENT_DAYS)
    # The applicant uploads the missing document.
    server.store.modify(number, **{key: (StoredFile(f"{key}.pdf", "application/pdf", 120_000),) for key in missing})
    syncer.sync(1)
    before = len(server.store.mutation_log)
    pusher.push(1)
    sent = mutations(server, before)
    assert "dossierEnvoyerMessage" not in sent
    assert "dossierModifierAnnotations" in sent
    assert number not in differences_on_ds(server.store, sessions)
    assert on_ds(server.store, number).annotations[MISSING_DOCUMENTS] == "Aucune"

    # A new problem appears: the contract now ends before it starts.
    start = date.fromisoformat(str(record.values["contrat_date_debut"]))
    server.store.modify(number, contrat_date_fin=(start - timedelta(days=30)).isoformat())
    syncer.sync(1)
    before = len(server.store.mutation_log)
    pusher.push(1)
    assert mutations(server, before).count("dossierEnvoyerMessage") == 1
    assert on_ds(server.store, number).connector_messages == asked + 1


def test_a_partly_refused_annotation_write_is_recorded_and_only_it_is_retried(synced, sessions):
    server, client, syncer = synced
    demarche = server.store.demarches[1]
    demarche.change_champ_type("wif_heures_annuelles", "integer_number")
    pusher = make_pusher(client, sessions)
    first = pusher.push(1)
    assert first.deferred > 0
    with sessions() as session:
        pending = session.scalars(
            select(models.PushOutbox).where(
                models.PushOutbox.kind == "annotations", models.PushOutbox.status == "pending"
            )
        ).all()
        assert pending and all(set(row.payload["values"]) == {"wif_heures_annuelles"} for row in pending)
        assert all("type attendu" in row.last_error for row in pending)
    demarche.change_champ_type("wif_heures_annuelles", "text")
    before = len(server.store.mutation_log)
    later = datetime.now(UTC) + timedelta(hours=1)  # past the backoff
    make_pusher(client, sessions, clock=lambda: later).push(1)
    sent = [payload for name, payload in server.store.mutation_log[before:] if name == "dossierModifierAnnotations"]
    assert sent and all(len(p["annotations"]) == 1 for p in sent)
    assert all(on_ds(server.store, row.dossier_number).annotations[HOURS] for row in pending)


def test_a_read_only_token_stops_push_with_one_report(synced, sessions, ds_client_for):
    server, client, syncer = synced
    server.store.add_token("read-only-token", write=False)
    with pytest.raises(PushStopped, match="read-only"):
        make_pusher(ds_client_for(server, token="read-only-token"), sessions).push(1)
    assert server.store.mutation_log == []
    with sessions() as session:
        failed = session.scalars(select(models.PushOutbox).where(models.PushOutbox.status == "failed")).all()
    assert len(failed) == 1


def test_an_instructeur_outside_the_groupe_is_detected_before_sending(synced, sessions):
    server, client, syncer = synced
    groupe = next(g for g in server.store.demarches[1].groupes if g.label.startswith("MOE 75"))
    server.store.remove_instructeur(groupe.number, 1)  # the connector's instructeur
    summary = make_pusher(client, sessions).push(1)
    assert summary.skipped_not_member.get(groupe.label, 0) > 0
    refused = [e for e in server.request_log if e.status != 200]
    assert refused == []
    # Moved there and labelled (neither needs an instructeur), but no annotation nor message (decided ones: nothing).
    there = [
        on_ds(server.store, d.number)
        for d in server.store.visible_dossiers(1)
        if d.groupe == groupe.number and d.state not in DECIDED
    ]
    assert there and all(shown.labels and shown.annotations[COMPLETUDE] is None for shown in there)
    assert not any(shown.connector_messages for shown in there)
    with sessions() as session:
        errors = session.scalars(
            select(models.PushOutbox.last_error).where(models.PushOutbox.last_error.is_not(None))
        ).all()
    assert not any("droits" in (e or "") for e in errors)


def test_dry_run_sends_nothing_and_returns_its_plan_without_printing_it(shared, capsys):
    pusher = make_pusher(shared.client, shared.sessions, dry_run=True)
    planned = pusher.plan(1)
    summary = pusher.send(planned)
    assert summary.planned > 0 and shared.server.store.mutation_log == []
    lines = planned.lines()
    assert len(lines) == summary.planned and all(line.startswith("  dossier ") for line in lines)
    assert not any("dossierModifierAnnotations" in line for line in lines)  # intents, not raw mutations
    assert capsys.readouterr().out == ""  # the CLI prints them


def test_complete_dossiers_can_be_passed_to_instruction(synced, sessions):
    server, client, syncer = synced
    with sessions() as session:
        complete = set(
            session.scalars(
                select(models.Dossier.number).where(
                    models.Dossier.state == "en_construction", models.Dossier.completeness_status == "complet"
                )
            )
        )
    assert complete
    make_pusher(client, sessions, policy=PushSettings(pass_to_instruction=True, disable_notification=True)).push(1)
    moved = [p for name, p in server.store.mutation_log if name == "dossierPasserEnInstruction"]
    assert len(moved) == len(complete) and all(p["disableNotification"] is True for p in moved)
    assert all(server.store.dossier(n).state == "en_instruction" for n in complete)


def test_push_reconsiders_only_what_changed_since_the_last_complete_push(synced, sessions):
    server, client, syncer = synced
    make_pusher(client, sessions).push(1)
    assert differences_on_ds(server.store, sessions) == {}
    syncer.sync(1)  # reads back the dossiers our mutations bumped
    make_pusher(client, sessions).push(1)
    idle = make_pusher(client, sessions).push(1)
    assert idle.dossiers == 0 and idle.planned == 0

    changed = server.store.visible_dossiers(1)[3].number
    server.store.modify(changed, emploi_intitule="Vendeur")
    syncer.sync(1)
    assert make_pusher(client, sessions).push(1).dossiers == 1
    everything = make_pusher(client, sessions).push(1, everything=True)
    assert everything.dossiers == len(server.store.visible_dossiers(1)) and everything.planned == 0
    assert differences_on_ds(server.store, sessions) == {} and duplicates(server.store) == []


def test_a_push_with_skipped_dossiers_does_not_move_the_checkpoint(synced, sessions):
    server, client, syncer = synced
    groupe = next(g for g in server.store.demarches[1].groupes if g.label.startswith("MOE 75"))
    connector = server.store.instructeurs[1]
    server.store.remove_instructeur(groupe.number, connector.number)
    make_pusher(client, sessions).push(1)
    again = make_pusher(client, sessions).push(1)
    assert again.skipped_not_member.get(groupe.label, 0) > 0  # still planned: not forgotten
    assert differences_on_ds(server.store, sessions)

    server.store.add_instructeur(groupe.number, connector.email)  # what `wif procedure apply` does
    make_pusher(client, sessions).push(1)  # nothing synced since: only the checkpoint brings them back
    assert differences_on_ds(server.store, sessions) == {}


def _sent_to(server, dossier_number, since=0):
    ds_id = server.store.dossier(dossier_number).id
    return [name for name, payload in server.store.mutation_log[since:] if payload.get("dossierId") == ds_id]


def test_an_en_instruction_dossier_lacking_documents_gets_its_annotations_but_no_correction_request(synced, sessions):
    server, client, syncer = synced
    record = next(d for d in server.store.visible_dossiers(1) if d.state == "en_instruction" and asks_passport(d))
    server.store.modify(record.number, pj_passeport=())  # the passport was never attached
    syncer.sync(1)
    with sessions() as session:
        assert "missing_document" in {f.code for f in session.get(models.Dossier, record.number).findings}

    messages = len(record.messages)
    summary = make_pusher(client, sessions).push(1)
    assert not summary.held
    sent = _sent_to(server, record.number)
    assert "dossierModifierAnnotations" in sent and "dossierEnvoyerMessage" not in sent
    assert server.store.dossier(record.number).state == "en_instruction"
    assert len(server.store.dossier(record.number).messages) == messages
    assert "passeport" in on_ds(server.store, record.number).annotations[MISSING_DOCUMENTS]


def asks_passport(record) -> bool:
    """An interne sends a passport or a titre instead (docs/apt-documents.md#internes)."""
    return record.values.get("contrat_type") != "Interne en médecine, pharmacie ou odontologie"


def _lose_passports(server, share_of_en_construction=1.0):
    """Many applicants 'forgot' their passport: what a misread form looks like to the checks."""
    numbers = [d.number for d in server.store.visible_dossiers(1) if d.state == "en_construction" and asks_passport(d)]
    numbers = numbers[: max(1, int(len(numbers) * share_of_en_construction))]
    for number in numbers:
        server.store.modify(number, pj_passeport=())
    return numbers


def test_a_run_that_would_message_too_many_dossiers_is_held_whole_until_forced(synced, sessions):
    server, client, syncer = synced
    lost = _lose_passports(server)
    syncer.sync(1)
    total = len(server.store.visible_dossiers(1))
    assert len(lost) > 0.2 * total and len(lost) > 10

    preview = make_pusher(client, sessions, dry_run=True).push(1)
    assert preview.held and "would HOLD" in preview.line() and server.store.mutation_log == []
    assert len(preview.plan_lines()) == preview.planned  # the plan is told, no announcement of a send

    held = make_pusher(client, sessions).push(1)
    assert held.held and held.messages_due >= len(lost)
    assert server.store.mutation_log == []  # nothing at all: no message, no annotation, no label, no groupe
    line = held.line()
    assert "HELD" in line and "delivered" not in line and "--force" in line and f"of {held.dossiers} dossiers" in line
    with sessions() as session:
        assert session.get(models.SyncState, 1).push_checkpoint is None
        assert session.scalars(select(models.PushOutbox.status).distinct()).all() == ["pending"]
    assert make_pusher(client, sessions).push(1).held and server.store.mutation_log == []  # still held

    # Meanwhile agents start instructing two of them: forcing must not send either back to en_construction,
    # whether the sync saw it (lost[0]) or it happened after the last sync (lost[1]: DS is read just before).
    instructed = lost[:2]
    server.store.set_state(instructed[0], "en_instruction", email="agent@example.gouv.fr")
    syncer.sync(1)
    server.store.set_state(instructed[1], "en_instruction", email="agent@example.gouv.fr")
    forced = make_pusher(client, sessions, force=True).push(1)
    assert not forced.held and forced.forced and "overridden (--force)" in forced.line()
    assert forced.withdrawn == 1 and "1 message(s) not sent" in forced.line()
    messaged = {payload["dossierId"] for name, payload in server.store.mutation_log if name == "dossierEnvoyerMessage"}
    assert server.store.dossier(lost[2]).id in messaged
    assert not messaged & {server.store.dossier(n).id for n in instructed}
    assert all(server.store.dossier(n).state == "en_instruction" for n in instructed)
    assert all(server.store.dossier(n).state == "en_construction" for n in lost[2:])
    assert differences_on_ds(server.store, sessions) == {} and duplicates(server.store) == []


def test_a_small_run_is_never_held_by_its_share(synced, sessions):
    server, client, syncer = synced
    make_pusher(client, sessions).push(1)
    three = _lose_passports(server)[:3]
    syncer.sync(1)
    strict = make_pusher(client, sessions, policy=PushSettings(hold_min_messages=0), dry_run=True).push(
        1, only=frozenset(three)
    )
    assert strict.held  # 3 of 3 dossiers: above 20 %, held without the minimum
    before = len(server.store.mutation_log)
    asked = [on_ds(server.store, n).connector_messages for n in three]
    hint = make_pusher(client, sessions).push(1, only=frozenset(three))
    assert not hint.held and hint.messages_due == 3
    assert mutations(server, before).count("dossierEnvoyerMessage") == 3
    assert [on_ds(server.store, n).connector_messages for n in three] == [count + 1 for count in asked]


def test_a_payload_with_a_lone_surrogate_hashes_and_valid_text_hashes_as_before():
    import hashlib
    import json

    valid = Intent("annotations", {"wif_anomalies": "Numéro illisible « 12 »"})
    before = hashlib.sha256(
        json.dumps([valid.kind, valid.payload], sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    assert valid.payload_hash == before  # delivered rows keep their hash: no replan after an upgrade
    broken = Intent("annotations", {"wif_anomalies": "Nom \ud800"})
    assert broken.payload_hash != Intent("annotations", {"wif_anomalies": "Nom \ufffd"}).payload_hash
