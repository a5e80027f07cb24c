"""Batched push: many mutations per request, each settling its own outbox row;
lost answers and kills settled by reading DS, never by sending blind."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from graphql import build_schema, validate
from sqlalchemy import func, select

from connector import batch
from connector.batch import BatchItem, BatchLimits, assemble
from connector.errors import DSUnavailable
from core import models
from core.settings import PushSettings
from jobs.status import push_backlog
from tests import push_helpers
from tests.crash_helpers import duplicates
from tests.push_helpers import DECIDED, Crash, DiesOnAnswer, differences_on_ds
from tests.sync_helpers import make_syncer

REAL_SCHEMA = Path(__file__).resolve().parents[1].parent / "shared" / "ds-api" / "schema.graphql"
MUTATIONS = (
    "dossierChangerGroupeInstructeur",
    "dossierModifierAnnotations",
    "dossierAjouterLabel",
    "dossierSupprimerLabel",
    "dossierEnvoyerMessage",
    "dossierPasserEnInstruction",
)


@pytest.fixture(scope="module")
def real_schema():
    if not REAL_SCHEMA.exists():
        pytest.skip(f"real DS schema not found at {REAL_SCHEMA}")
    return build_schema(REAL_SCHEMA.read_text())


def test_a_batch_aliases_each_item_and_renames_its_variables(real_schema):
    items = [BatchItem(name, {"input": {"n": index}}) for index, name in enumerate(MUTATIONS + MUTATIONS)]
    assembled = assemble(items)
    assert assembled.operation_name == batch.MUTATION_BATCH
    assert assembled.aliases == tuple(f"a{i}" for i in range(len(items)))
    assert assembled.variables == {f"a{i}_input": {"n": i} for i in range(len(items))}
    text = assembled.text
    assert "a7: dossierModifierAnnotations(input: $a7_input)" in text
    assert "$a11_input: DossierPasserEnInstructionInput!" in text
    assert validate(real_schema, assembled.document) == []


def test_a_batch_of_reads_sends_the_shared_fragments_once(real_schema):
    assembled = assemble([BatchItem("getDossier", {"dossierNumber": n}) for n in (4, 8, 15)])
    assert assembled.operation_name == batch.QUERY_BATCH
    assert assembled.text.count("fragment DossierFragment on Dossier") == 1
    assert validate(real_schema, assembled.document) == []
    with pytest.raises(ValueError, match="mixes"):
        assemble([BatchItem("getDossier", {"dossierNumber": 1}), BatchItem("dossierAjouterLabel", {"input": {}})])
    with pytest.raises(ValueError, match="no variable"):
        assemble([BatchItem("getDossier", {"number": 1})])


def test_batches_stay_inside_the_limits():
    items = [BatchItem("dossierEnvoyerMessage", {"input": {}}) for _ in range(120)]
    assert [len(c) for c in batch.split(items, BatchLimits(max_items=50))] == [50, 50, 20]
    tight = BatchLimits(max_items=1000, max_tokens=batch.token_count(assemble(items[:10]).text))
    chunks = batch.split(items, tight)
    assert all(batch.token_count(assemble(c).text) <= tight.max_tokens for c in chunks) and len(chunks) > 10
    heavy = batch.split(
        [BatchItem("getDossier", {"dossierNumber": n}) for n in range(200)], BatchLimits(max_items=1000)
    )
    assert all(batch.complexity(c) <= BatchLimits().max_complexity for c in heavy) and len(heavy) > 1


def make_pusher(client, sessions, **kwargs):
    """These tests are about batches: every dossier counts as recent, so old ones are messaged too."""
    return push_helpers.make_pusher(client, sessions, policy=PushSettings(message_recent_days=3650), **kwargs)


@pytest.fixture
def synced(make_sandbox, ds_client_for, sessions):
    server = make_sandbox(dossiers=100, seed=21)  # enough dossiers waiting for batches of 50
    client = ds_client_for(server, max_retries=0)
    syncer = make_syncer(client, sessions)
    syncer.sync(1)
    return server, client, syncer


def sent_messages(server):
    return [(p["dossierId"], p["body"]) for name, p in server.store.mutation_log if name == "dossierEnvoyerMessage"]


def batch_requests(server):
    return [e for e in server.request_log if e.operation_name == batch.MUTATION_BATCH]


def test_a_first_push_sends_many_mutations_per_request_and_ds_logs_each(synced, sessions):
    server, client, syncer = synced
    summary = make_pusher(client, sessions).push(1)
    assert summary.failed == 0 and summary.delivered == summary.planned > 50
    requests = batch_requests(server)
    assert len(server.store.mutation_log) == summary.delivered  # each alias ran as its own mutation
    state_reads = [e for e in server.request_log if e.operation_name == batch.QUERY_BATCH]
    assert len(state_reads) == 1  # the states of the dossiers to message, read just before, in one request
    assert summary.requests == len(requests) + 1 + 1  # + the démarche read
    assert summary.delivered / len(requests) >= 25  # per batch request
    assert differences_on_ds(server.store, sessions) == {}


def test_a_refused_item_settles_only_its_own_row(synced, sessions):
    server, client, syncer = synced
    gone = next(d.number for d in server.store.visible_dossiers(1)[5:] if d.state not in DECIDED)
    server.store.delete(gone)  # DS answers not_found for its mutations, inside the batch
    summary = make_pusher(client, sessions).push(1)
    with sessions() as session:
        statuses = dict(
            session.execute(
                select(models.PushOutbox.status, func.count())
                .where(models.PushOutbox.dossier_number == gone)
                .group_by(models.PushOutbox.status)
            ).all()
        )
        others = session.scalar(
            select(func.count()).where(
                models.PushOutbox.dossier_number != gone, models.PushOutbox.status != "delivered"
            )
        )
    assert statuses and set(statuses) == {"failed"}
    assert others == 0 and summary.failed == sum(statuses.values())
    assert differences_on_ds(server.store, sessions) == {}
    assert len(batch_requests(server)) < summary.planned / 10


def test_a_timeout_halves_the_batch_and_what_did_not_run_is_read_back_then_sent(synced, sessions):
    server, client, syncer = synced
    server.faults.timeout_when_fields_above = 8  # DS gets through 8 mutations in its 30 s
    summary = make_pusher(client, sessions).push(1)
    sizes = [len(e.variables) for e in batch_requests(server)]  # one variable per aliased mutation
    shrunk = next(i for i, size in enumerate(sizes) if size <= 8)
    assert sizes[0] == 50 and shrunk > 0 and max(sizes[shrunk:]) <= 8  # halved until DS got through
    assert summary.failed == 0 and summary.delivered == summary.planned
    assert len(sent_messages(server)) == len(set(sent_messages(server)))
    assert differences_on_ds(server.store, sessions) == {}


def test_a_lost_answer_then_ds_unreachable_then_a_rerun_sends_no_message_twice(synced, sessions):
    server, client, syncer = synced
    server.faults.add("drop", operation=batch.MUTATION_BATCH)  # DS applied the batch, the answer is lost
    server.faults.add("slow", seconds=0, operation=batch.QUERY_BATCH)  # the states read before messaging: answered
    server.faults.add("503", count=3, operation=batch.QUERY_BATCH)  # and DS cannot be read back yet
    with pytest.raises(DSUnavailable):
        make_pusher(client, sessions).push(1)
    applied = len(server.store.mutation_log)
    assert applied > 0
    with sessions() as session:
        assert session.scalar(select(func.count()).where(models.PushOutbox.status == "sending")) > 0
        assert push_backlog(session).uncertain > 0  # `wif status` shows them
    server.faults.clear()
    summary = make_pusher(client, sessions).push(1)
    assert summary.earlier_uncertain > 0 and summary.already_on_ds > 0
    assert "already on DS" in summary.line()
    assert len(sent_messages(server)) == len(set(sent_messages(server))) > 0
    with sessions() as session:
        assert push_backlog(session).uncertain == 0
    assert differences_on_ds(server.store, sessions) == {}


def test_a_kill_between_send_and_record_is_settled_by_the_next_run(synced, sessions):
    server, client, syncer = synced

    with pytest.raises(Crash):
        make_pusher(DiesOnAnswer(client), sessions).push(1)
    first_request = len(server.store.mutation_log)
    summary = make_pusher(client, sessions).push(1)
    assert summary.earlier_uncertain == first_request == summary.already_on_ds
    assert summary.failed == 0 and summary.delivered == summary.planned + summary.already_on_ds
    added = [(p["dossierId"], p["labelId"]) for name, p in server.store.mutation_log if name == "dossierAjouterLabel"]
    assert len(added) == len(set(added))
    assert len(sent_messages(server)) == len(set(sent_messages(server)))
    assert differences_on_ds(server.store, sessions) == {} and duplicates(server.store) == []


def test_a_batch_of_mutations_is_retried_only_when_ds_never_read_it(make_sandbox, ds_client_for):
    from connector.errors import DSAnswerLost

    server = make_sandbox(dossiers=10, seed=2)
    client = ds_client_for(server, max_retries=3)
    dossier = server.store.visible_dossiers(1)[0]
    label = server.store.demarches[1].labels[0]
    from sandbox.ids import gid

    items = [
        BatchItem("dossierAjouterLabel", {"input": {"dossierId": dossier.id, "labelId": gid("Label", label.number)}}),
        BatchItem(
            "dossierAjouterLabel",
            {"input": {"dossierId": "RG9zc2llci05OTk5OTk=", "labelId": gid("Label", label.number)}},
        ),
    ]
    server.faults.add("429", operation=batch.MUTATION_BATCH)  # throttled before DS reads it: safe to send again
    answer = client.execute_batch(items)
    assert len(batch_requests(server)) == 2 and server.store.mutation_log == [
        ("dossierAjouterLabel", items[0].variables["input"])
    ]
    assert answer.results[0].data["errors"] is None
    assert answer.results[1].data is None and "not found" in str(answer.results[1].error)  # its own error, by alias

    server.faults.add("502", operation=batch.MUTATION_BATCH)  # a gateway may have passed it on: never resent blind
    with pytest.raises(DSAnswerLost):
        client.execute_batch(items[:1])
    assert len(batch_requests(server)) == 3


def test_a_state_that_cannot_be_read_delays_the_messages_and_sends_the_rest(synced, sessions):
    server, client, syncer = synced
    server.faults.add("503", operation=batch.QUERY_BATCH)  # the states read before messaging
    summary = make_pusher(client, sessions).push(1)
    assert sent_messages(server) == [] and summary.delivered > 0 and summary.deferred > 0
    with sessions() as session:
        waiting = session.scalars(select(models.PushOutbox).where(models.PushOutbox.kind == "message")).all()
    assert waiting and all(row.status == "pending" and row.next_attempt_at is not None for row in waiting)
    later = datetime.now(UTC) + timedelta(hours=1)
    make_pusher(client, sessions, clock=lambda: later).push(1)
    assert len(sent_messages(server)) == len(waiting)
    assert differences_on_ds(server.store, sessions) == {}
