"""What push leaves alone (issue 19, items 5 and 6), through `wif sync` against the sandbox, judged on the
sandbox's journal of mutations and the CLI line:

- a decided dossier (accepté, refusé, classé sans suite) is the agents': nothing is written to it, and what was
  planned for it before the decision is never sent;
- a message to the applicant only about a dossier they acted on recently (WIF_PUSH_MESSAGE_RECENT_DAYS): a first
  push on a back catalogue messages no one about old dossiers, still labels and annotates them, and says how many
  messages it withheld."""

from __future__ import annotations

import re

from sqlalchemy import select

from core import models
from core.db import make_engine, session_factory
from jobs.cli import main
from tests.conftest import fresh_database
from tests.push_helpers import DECIDED, applicant_recent

AGENT = "agent@example.gouv.fr"
# Every message would pass the circuit breaker: these tests are about which dossiers get one.
NO_BREAKER = {"WIF_PUSH_MAX_MESSAGE_SHARE": "1"}


def written_to(store, since: int = 0) -> dict[int, list[str]]:
    """Dossier number → the mutations the sandbox received for it since `since`."""
    number_of = {record.id: record.number for record in store.dossiers.values()}
    out: dict[int, list[str]] = {}
    for name, payload in store.mutation_log[since:]:
        if "dossierId" in payload:
            out.setdefault(number_of[payload["dossierId"]], []).append(name)
    return out


def local(database_url: str) -> dict[int, models.Dossier]:
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as session:
            return {d.number: d for d in session.scalars(select(models.Dossier))}
    finally:
        engine.dispose()


def test_a_sync_and_push_writes_nothing_to_a_decided_dossier(make_sandbox, env_for, database_url, capsys):
    server = make_sandbox(dossiers=150, seed=21)
    store = server.store
    env_for(server, **NO_BREAKER)
    assert main(["procedure", "bind", "--yes"]) == 0
    assert main(["sync", "--no-push"]) == 0
    dossiers = local(database_url)
    decided = {n for n, d in dossiers.items() if d.state in DECIDED}
    # Decided dossiers the checks would relabel: accepted yet « hors périmètre », closed yet « incomplet ».
    assert any(dossiers[n].state == "accepte" and dossiers[n].completeness_status == "hors_perimetre" for n in decided)
    sans_suite = [n for n in decided if dossiers[n].state == "sans_suite"]
    assert sans_suite
    incomplet = next(label for label in store.demarches[1].labels if label.name == "Incomplet")
    store.add_label(sans_suite[0], incomplet.number)  # what an earlier push, or an agent, left on it

    assert main(["sync"]) == 0
    written = written_to(store)
    assert written and set(written) - decided  # the others were written to
    assert {n: written[n] for n in decided if n in written} == {}
    assert incomplet.number in store.dossier(sans_suite[0]).labels  # the agents' to remove, or keep


def test_what_was_planned_before_the_decision_is_superseded_not_sent(make_sandbox, env_for, database_url, capsys):
    server = make_sandbox(dossiers=120, seed=21)
    store = server.store
    # A breaker that holds everything: the first push plans its mutations and sends none.
    env_for(server, WIF_PUSH_MAX_MESSAGE_SHARE="0", WIF_PUSH_HOLD_MIN_MESSAGES="0")
    assert main(["procedure", "bind", "--yes"]) == 0
    assert main(["sync"]) == 8 and store.mutation_log == []
    with session_factory(make_engine(database_url))() as session:
        planned = sorted(
            set(session.scalars(select(models.PushOutbox.dossier_number).where(models.PushOutbox.status == "pending")))
        )
    waiting = [n for n in planned if store.dossier(n).state == "en_construction"][:3]
    assert len(waiting) == 3
    for number in waiting:  # agents decide them meanwhile
        store.set_state(number, "en_instruction", email=AGENT)
        store.set_state(number, "accepte", email=AGENT)

    assert main(["sync", "--force"]) == 0
    written = written_to(store)
    assert written and not set(waiting) & set(written)
    with session_factory(make_engine(database_url))() as session:
        statuses = set(
            session.scalars(select(models.PushOutbox.status).where(models.PushOutbox.dossier_number.in_(waiting)))
        )
    assert statuses == {"superseded"}


def test_a_first_push_messages_no_one_about_old_dossiers_and_says_how_many_it_withheld(
    make_sandbox, env_for, database_url, tmp_path, capsys
):
    # The same back catalogue twice: once with every dossier recent enough, once with
    # the default 60 days. The messages the second run leaves out are exactly those about old dossiers.
    everyone = make_sandbox(dossiers=200, seed=2)  # a seed with incomplete dossiers waiting for more than 60 days
    env_for(everyone, WIF_PUSH_MESSAGE_RECENT_DAYS="3650", **NO_BREAKER)
    assert main(["procedure", "bind", "--yes"]) == 0 and main(["sync"]) == 0
    assert "withheld" not in capsys.readouterr().out
    messaged_all = {n for n, names in written_to(everyone.store).items() if "dossierEnvoyerMessage" in names}

    recent_only = make_sandbox(dossiers=200, seed=2)
    (tmp_path / "second").mkdir()
    with fresh_database(tmp_path / "second") as second_url:
        env_for(recent_only, DATABASE_URL=second_url, WIF_PUSH_MESSAGE_RECENT_DAYS="", **NO_BREAKER)  # the default
        assert main(["procedure", "bind", "--yes"]) == 0 and main(["sync"]) == 0
        out = capsys.readouterr().out
    written = written_to(recent_only.store)
    messaged = {n for n, names in written.items() if "dossierEnvoyerMessage" in names}
    old = {n for n in messaged_all if not applicant_recent(recent_only.store.dossier(n))}
    assert old and messaged and messaged == messaged_all - old
    # Old dossiers are still labelled and annotated for the agents.
    assert all({"dossierAjouterLabel", "dossierModifierAnnotations"} <= set(written[n]) for n in old)
    withheld = re.search(
        r"(\d+) message\(s\) withheld: the applicant has not acted on the dossier for more than "
        r"60 days \(WIF_PUSH_MESSAGE_RECENT_DAYS\)",
        out,
    )
    assert withheld and int(withheld.group(1)) == len(old)
