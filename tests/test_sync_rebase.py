"""A newly published revision reaches the dossiers not yet decided without telling (issue 19, item 10): DS moves
them onto it about 30 s after publishing, their dateDerniereModification unchanged, so neither the incremental
sync nor its re-scan reads them again (docs/ds-revisions.md#rebase). `wif sync` reads them again by number, and
what agents see on DS follows the form the dossier now has; decided dossiers keep theirs and get nothing."""

from __future__ import annotations

from jobs.cli import main
from sandbox.store import TERMINAL_STATES
from tests.push_helpers import on_ds

MANDATED = "L'étudiant, mandaté par l'employeur"
MISSING_DOCUMENTS = "Pièces manquantes (Work in France)"
MANDATE = "mandat de l'employeur"


def mandated_with_their_mandate(store) -> list[int]:
    """Dossiers an employer had a student file, with the mandate the case asks for."""
    return [
        d.number
        for d in store.visible_dossiers(1)
        if d.values.get("depose_par") == MANDATED and d.values.get("pj_mandat")
    ]


def test_after_a_revision_the_dossiers_not_decided_are_read_again_once_ds_moved_them(make_sandbox, env_for, capsys):
    server = make_sandbox(dossiers=300, seed=21)
    store = server.store
    store.rebase_delay = 0  # DS waits 30 s; here the move is due at the next request
    env_for(server, WIF_PUSH_MAX_MESSAGE_SHARE="1")
    assert main(["procedure", "bind", "--yes"]) == 0
    assert main(["sync"]) == 0
    mandated = mandated_with_their_mandate(store)
    # Not decided, and agents are not told the mandate is missing.
    waiting = [
        n
        for n in mandated
        if store.dossier(n).state not in TERMINAL_STATES
        and MANDATE not in (on_ds(store, n).annotations[MISSING_DOCUMENTS] or "").lower()
    ]
    decided = [n for n in mandated if store.dossier(n).state in TERMINAL_STATES]
    assert waiting and decided
    assert main(["sync"]) == 0 and "read again" not in capsys.readouterr().out  # nothing new: nothing read again

    # The administrateur publishes a form without the mandate pièce (a new model of it is to come).
    store.publish_revision(1, removed=("pj_mandat",))
    revision_of = {n: store.dossier(n).revision for n in mandated}
    complete = [n for n in waiting if "Complet" in on_ds(store, n).labels]
    assert complete
    journal = len(store.mutation_log)
    assert main(["sync"]) == 0
    out = capsys.readouterr().out
    undecided = sum(1 for d in store.visible_dossiers(1) if d.state not in TERMINAL_STATES)
    assert f"read again after a new revision {undecided}," in out
    for number in waiting:
        assert store.dossier(number).revision != revision_of[number]  # DS moved it
        shown = on_ds(store, number)
        assert MANDATE in shown.annotations[MISSING_DOCUMENTS].lower(), number
    assert all(on_ds(store, n).labels & {"Complet", "Incomplet"} == {"Incomplet"} for n in complete)
    decided_ids = {store.dossier(n).id for n in decided}
    assert all(store.dossier(n).revision == revision_of[n] for n in decided)
    assert not [name for name, payload in store.mutation_log[journal:] if payload.get("dossierId") in decided_ids]

    # Read once after the move: the next sync reads none of them again.
    assert main(["sync"]) == 0
    assert "read again" not in capsys.readouterr().out
