"""Issue #10: the definition's keys bound to the ids DS assigned, over HTTP to the sandbox.

`wif procedure bind` matches by (normalised label, type), reports what it cannot
settle with DS's candidates, lets mappings/bindings.yaml win, keeps stored ids
on a rebind; `wif sync` / `wif push` refuse an unbound démarche before any
request that writes."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select

from connector.sync import Syncer
from core import models
from core.db import make_engine, session_factory, upgrade
from jobs.binding import bind_demarche, load_binding, store_binding
from jobs.cli import main
from mappings import binding as rules
from mappings.binding import normalise_label
from mappings.procedure import default_procedure
from sandbox.demarche import CONNECTOR_INSTRUCTEUR_ID, ChampDefinition, Revision
from sandbox.form import different_form, load_form
from sandbox.generator import add_generated_demarche
from tests.sync_helpers import evaluator
from tests.test_push import make_pusher

PROCEDURE = default_procedure()


def _replace(definitions, key, **changes):
    out = []
    for d in definitions:
        if d.key == key:
            d = dataclasses.replace(d, **changes)
        elif d.champs:
            d = dataclasses.replace(d, champs=_replace(d.champs, key, **changes))
        out.append(d)
    return tuple(out)


def publish(server, champs=None, annotations=None) -> Revision:
    """What an administrateur's « Publier les modifications » does: a new revision, the older ones kept."""
    store, demarche = server.store, server.store.demarches[1]
    active = demarche.active_revision
    revision = Revision(
        store.next_id("ProcedureRevision"),
        active.created_at + timedelta(days=1),
        active.champs if champs is None else champs,
        active.annotations if annotations is None else annotations,
    )
    demarche.revisions.append(revision)
    return revision


@pytest.fixture
def server(make_sandbox):
    return make_sandbox(dossiers=30, seed=5)


@pytest.fixture
def wif(monkeypatch, tmp_path, server, capsys):
    """`wif …` against `server` with its own database; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'wif.db'}")
    monkeypatch.setenv("DS_API_URL", server.url)
    monkeypatch.setenv("DS_API_TOKEN", server.token)
    monkeypatch.setenv("DS_DEMARCHE_NUMBER", "1")
    monkeypatch.setenv("DS_INSTRUCTEUR_ID", CONNECTOR_INSTRUCTEUR_ID)
    monkeypatch.setenv("WIF_NOTIFY_RECENT_DAYS", "0")

    def run(*argv):
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    run.database_url = f"sqlite:///{tmp_path / 'wif.db'}"
    return run


def sid(server, key: str) -> int:
    """The stable id the sandbox gave a champ (as DS would: large, of its own)."""
    return server.store.demarches[1].champ(key).stable_id


def stored(database_url: str):
    engine = make_engine(database_url)
    upgrade(engine)
    try:
        with session_factory(engine)() as session:
            return load_binding(session, 1)
    finally:
        engine.dispose()


# --- the pure rules ----------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Nom de l'étudiant", "NOM DE L’ETUDIANT"),
        (
            "S'agit-il d'une première demande ou d'un renouvellement ?",
            "s’agit il d’une premiere demande ou d’un renouvellement",
        ),
        ("Adresse  électronique\u00a0de l'employeur", "Adresse electronique de l employeur"),
        (
            "Préparez-vous un master ou un diplôme d'une grande école (CGE) ?",
            "preparez vous un master ou un diplome d une grande ecole cge",
        ),
    ],
)
def test_labels_that_differ_only_in_case_accents_spacing_and_punctuation_are_the_same(a, b):
    assert normalise_label(a) == normalise_label(b)


def test_different_words_are_different_labels():
    assert normalise_label("Nom de l'étudiant") != normalise_label("Prénom de l'étudiant")


def test_bindings_yaml_errors_name_the_place(tmp_path):
    broken = tmp_path / "bindings.yaml"
    broken.write_text("12345:\n  nom: quatre\n")
    with pytest.raises(rules.DefinitionError, match="12345/nom: the stable id must be a positive integer"):
        rules.load_overrides(broken, PROCEDURE)
    broken.write_text("12345:\n  nom_de_famille: 4181313\n")
    with pytest.raises(rules.DefinitionError, match="no such key in procedure.yaml"):
        rules.load_overrides(broken, PROCEDURE)
    assert rules.load_overrides(tmp_path / "absent.yaml") == {}


def test_the_shipped_overrides_file_is_valid_and_empty():
    assert rules.load_overrides(procedure=PROCEDURE) == {}


# --- bind over HTTP ------------------------------------------------------------


def test_bind_matches_labels_despite_case_accents_and_apostrophes(server, ds_client_for, sessions):
    demarche = server.store.demarches[1]
    demarche.rename_champ("nom", "NOM DE L’ETUDIANT")
    demarche.rename_champ("formation_master_cge", "preparez-vous un master ou un diplome d'une grande ecole (cge)")
    demarche.rename_champ("autre_heures_semaine", "heures PAR semaine")  # a repetition child

    result = bind_demarche(ds_client_for(server), sessions, 1, overrides={}, store=True)

    assert result.problems == []
    assert result.bound["nom"].stable_id == demarche.champ("nom").stable_id
    assert result.bound["nom"].label == "NOM DE L’ETUDIANT"  # the label seen is kept
    assert result.bound["autre_heures_semaine"].descriptor_id == demarche.champ("autre_heures_semaine").id
    with sessions() as session:
        assert load_binding(session, 1).champs == result.bound


def test_repetition_children_are_matched_inside_their_parent_only(server, ds_client_for, sessions):
    demarche = server.store.demarches[1]
    # A top-level champ with a child's label and type must not take the child's place.
    stray = ChampDefinition("hors_bloc", 7101, "text", "Nom de l'autre employeur")
    demarche._edit_active(champs=demarche.active_revision.champs + (stray,))

    result = bind_demarche(ds_client_for(server), sessions, 1, overrides={})

    assert result.bound["autre_employeur"].stable_id == demarche.champ("autre_employeur").stable_id != 7101
    assert [d.stable_id for d in result.unclaimed] == [7101]


def test_ambiguous_and_retyped_keys_are_reported_with_candidates_and_block_the_binding(server, wif):
    demarche = server.store.demarches[1]
    twin = ChampDefinition("nom_bis", 7001, "text", "Nom de l’étudiant", required=True)
    demarche._edit_active(champs=demarche.active_revision.champs + (twin,))
    demarche.change_champ_type("contrat_date_debut", "text")

    code, out, _ = wif("procedure", "bind", "--yes")

    assert code == 1
    nom = next(line for line in out.splitlines() if line.strip().startswith("ambiguous") and " nom " in line)
    assert f"candidates: {sid(server, 'nom')} « Nom de l'étudiant » (text), 7001 « Nom de l’étudiant » (text)" in nom
    retyped = next(line for line in out.splitlines() if line.strip().startswith("retyped"))
    assert (
        "contrat_date_debut" in retyped
        and f"{sid(server, 'contrat_date_debut')} « Date de début du contrat » (text)" in retyped
    )
    assert "NOT bound: 2 problem(s)" in out
    assert stored(wif.database_url) is None


def test_an_unmatched_key_lists_the_ds_champs_of_its_type(server, ds_client_for, sessions):
    server.store.demarches[1].rename_champ("lieu_naissance", "Ville de naissance")

    result = bind_demarche(ds_client_for(server), sessions, 1, overrides={})

    [problem] = result.problems
    assert (problem.kind, problem.key) == ("unmatched", "lieu_naissance")
    assert problem.candidates[0].stable_id == sid(server, "lieu_naissance")
    assert problem.candidates[0].label == "Ville de naissance"
    assert result.blocking == [problem]  # a required champ


def test_the_overrides_file_wins(server, wif, tmp_path, monkeypatch):
    demarche = server.store.demarches[1]
    twin = ChampDefinition("nom_bis", 7001, "text", "Nom de l'étudiant")
    demarche._edit_active(champs=demarche.active_revision.champs + (twin,))
    overrides = tmp_path / "bindings.yaml"
    overrides.write_text(f"1:\n  nom: 7001\n  prenom: {sid(server, 'nom')}\n")  # even against the labels
    monkeypatch.setattr(rules, "OVERRIDES_FILE", overrides)

    code, out, _ = wif("procedure", "bind", "--yes")

    assert code == 0, out
    binding = stored(wif.database_url)
    assert (binding.champs["nom"].stable_id, binding.champs["prenom"].stable_id) == (7001, sid(server, "nom"))
    assert "binding stored" in out


def test_bind_prints_each_key_with_its_integer_stable_id_and_stores_nothing_without_yes(server, wif):
    code, out, _ = wif("procedure", "bind")

    assert code == 0
    assert any(line.split()[:2] == ["nom", str(sid(server, "nom"))] for line in out.splitlines())
    assert any(line.split()[:2] == ["wif_statut", str(sid(server, "wif_statut"))] for line in out.splitlines())
    assert "nothing stored; `wif procedure bind --yes` stores this binding" in out
    assert stored(wif.database_url) is None


def test_rebinding_after_a_new_revision_keeps_the_ids_and_reports_only_the_changes(server, wif):
    assert wif("procedure", "bind", "--yes")[0] == 0
    before = stored(wif.database_url)
    active = server.store.demarches[1].active_revision
    added = ChampDefinition("badge", 7201, "text", "Numéro de badge")
    champs = _replace(active.champs, "emploi_intitule", label="Poste occupé")
    champs = tuple(c for c in champs if c.key != "telephone_etudiant") + (added,)
    annotations = _replace(active.annotations, "wif_anomalies", label="Anomalies relevées")
    revision = publish(server, champs, annotations)

    code, out, _ = wif("procedure", "bind", "--yes")

    assert code == 0, out
    after = stored(wif.database_url)
    assert after.revision_id == revision.id != before.revision_id
    assert {k: b.stable_id for k, b in after.champs.items()} == {
        k: b.stable_id for k, b in before.champs.items() if k != "telephone_etudiant"
    }
    changes = [line.split()[:2] for line in out.splitlines() if line.startswith("    ")]
    assert sorted(changes) == sorted(
        [
            ["renamed", "emploi_intitule"],
            ["renamed", "wif_anomalies"],
            ["removed", "telephone_etudiant"],
            ["new", "7201"],
        ]
    )
    assert "changes since the stored binding: 4" in out
    assert "unclaimed" not in out  # the new champ is told once, as a change


def test_rebinding_with_nothing_changed_reports_no_change(wif):
    assert wif("procedure", "bind", "--yes")[0] == 0
    code, out, _ = wif("procedure", "bind", "--yes")
    assert code == 0 and "changes since the stored binding: none" in out


# --- the safety stop -------------------------------------------------------------


def test_sync_of_an_unbound_demarche_is_refused_and_ds_receives_no_mutation(server, wif):
    code, out, err = wif("sync")

    assert code == 10
    assert err.count("\n") == 1 and "`wif procedure bind --demarche 1`" in err
    assert server.store.mutation_log == []
    assert {e.operation_name for e in server.request_log} == {"getDemarcheDescriptor"}  # no dossier read
    engine = make_engine(wif.database_url)
    with session_factory(engine)() as session:
        assert session.scalars(select(models.Dossier)).all() == []
    engine.dispose()


def test_push_of_an_unbound_demarche_is_refused(server, wif):
    code, _, err = wif("push", "--all")
    assert code == 10 and "wif procedure bind" in err
    assert server.store.mutation_log == []


def test_a_type_change_after_binding_stops_sync_before_anything_is_written(server, wif):
    assert wif("procedure", "bind", "--yes")[0] == 0
    server.store.demarches[1].change_champ_type("titre_departement", "text")

    code, _, err = wif("sync")

    assert code == 10
    assert f"titre_departement (stable id {sid(server, 'titre_departement')}) is now text, bound as departements" in err
    assert server.store.mutation_log == []


def test_a_required_champ_removed_after_binding_stops_sync(server, wif):
    assert wif("procedure", "bind", "--yes")[0] == 0
    removed = sid(server, "nationalite")
    server.store.demarches[1].remove_champ("nationalite")

    code, _, err = wif("sync", "--no-push")

    assert code == 10 and f"nationalite (stable id {removed}) is no longer in the published revision" in err


# --- one binding everywhere: labels renamed in DS change nothing ---------------------


def _outcomes(database_url: str) -> dict:
    engine = make_engine(database_url)
    out = {}
    with session_factory(engine)() as session:
        for dossier in session.scalars(select(models.Dossier).where(models.Dossier.hidden_at.is_(None))):
            columns = lambda row: {c.key: getattr(row, c.key) for c in row.__table__.columns}  # noqa: E731
            out[dossier.number] = (
                dossier.completeness_status,
                dossier.target_groupe_label,
                dossier.departement,
                columns(dossier.student),
                columns(dossier.contract),
                columns(dossier.employer),
                sorted((i.field, i.code, i.message) for i in dossier.mapping_issues),
            )
    engine.dispose()
    return out


def _ds_view(server) -> dict:
    return {d.number: (dict(d.annotations), sorted(d.labels), d.groupe) for d in server.store.visible_dossiers(1)}


def test_renaming_labels_in_ds_after_binding_changes_no_outcome(server, wif):
    assert wif("procedure", "bind", "--yes")[0] == 0
    assert wif("sync")[0] == 0
    outcomes, on_ds = _outcomes(wif.database_url), _ds_view(server)
    # The administrateur rewords three labels and publishes a new revision.
    server.store.publish_revision(
        1,
        labels={
            "titre_departement": "Département de délivrance du titre",  # routing reads it
            "nationalite": "Pays de nationalité",
            "wif_anomalies": "Anomalies relevées",  # an annotation push writes
        },
    )
    mutations = len(server.store.mutation_log)

    code, out, err = wif("sync", "--full")

    assert code == 0, err
    assert _outcomes(wif.database_url) == outcomes
    assert _ds_view(server) == on_ds
    assert server.store.mutation_log[mutations:] == []
    new_labels = ("Département de délivrance du titre", "Pays de nationalité", "Anomalies relevées")
    assert not [
        n
        for n, o in _outcomes(wif.database_url).items()
        for _, _, message in o[-1]
        if any(label in message for label in new_labels)
    ]


# --- démarches whose ids DS chose --------------------------------------------------


def _wif_env(monkeypatch, server, database_url, demarches="1"):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DS_API_URL", server.url)
    monkeypatch.setenv("DS_API_TOKEN", server.token)
    monkeypatch.setenv("DS_DEMARCHE_NUMBER", demarches)
    monkeypatch.setenv("DS_INSTRUCTEUR_ID", CONNECTOR_INSTRUCTEUR_ID)


def test_two_demarches_with_other_ds_ids_give_exactly_the_same_results(make_sandbox, monkeypatch, tmp_path, capsys):
    """Issue #10, done when: bind then sync on a démarche whose ids DS chose gives the same groupe, labels and
    annotations per dossier as on another démarche of the same dossiers, whose ids DS chose otherwise."""
    results = []
    for ids_seed in ("editeur-a", "editeur-b"):
        server = make_sandbox(dossiers=60, seed=3, ids_seed=ids_seed)
        database_url = f"sqlite:///{tmp_path / ids_seed}.db"
        _wif_env(monkeypatch, server, database_url)
        assert main(["procedure", "bind", "--yes"]) == 0
        assert main(["sync"]) == 0
        assert main(["procedure", "check"]) == 0
        capsys.readouterr()
        results.append((_outcomes(database_url), _ds_view(server), stored(database_url).champs["nom"].stable_id))
    (one_outcomes, one_view, one_nom), (two_outcomes, two_view, two_nom) = results
    assert one_nom != two_nom and min(one_nom, two_nom) > 999_999
    assert one_outcomes == two_outcomes
    assert one_view == two_view
    assert any(annotations for annotations, _, _ in one_view.values())
    assert not [issue for o in one_outcomes.values() for _, _, issue in o[-1] if "libellé" in issue]


def _staff_like_the_first(store, demarche) -> None:
    for groupe, model in zip(demarche.groupes, store.demarches[1].groupes, strict=False):
        for instructeur in model.instructeurs:
            store.add_instructeur(groupe.number, instructeur.email)


def test_two_demarches_of_one_deployment_each_map_through_their_own_binding(make_sandbox, monkeypatch, tmp_path):
    """Clones and regional démarches differ: each démarche has its own ids and its own binding."""
    server = make_sandbox(dossiers=40, seed=4)
    store = server.store
    first = store.demarches[1]
    second = add_generated_demarche(store, 40, 4, groupe_labels=[g.label for g in first.groupes])
    _staff_like_the_first(store, second)
    assert first.champ("nationalite").stable_id != second.champ("nationalite").stable_id
    database_url = f"sqlite:///{tmp_path / 'two.db'}"
    _wif_env(monkeypatch, server, database_url, demarches=f"1,{second.number}")
    assert main(["procedure", "bind", "--yes"]) == 0
    assert main(["sync"]) == 0

    outcomes = _outcomes(database_url)
    first_numbers = sorted(d.number for d in store.visible_dossiers(1))
    second_numbers = sorted(d.number for d in store.visible_dossiers(second.number))
    assert len(first_numbers) == len(second_numbers) > 30

    def read(number):  # what was read and decided, without the dossier's own number
        status, groupe, departement, *columns, issues = outcomes[number]
        return (
            status,
            groupe,
            departement,
            issues,
            [{k: v for k, v in c.items() if k not in ("id", "dossier_number")} for c in columns],
        )

    # The same dossiers on both démarches: the same outcome, read through each démarche's own ids.
    assert [read(n) for n in first_numbers] == [read(n) for n in second_numbers]
    assert {outcomes[n][0] for n in second_numbers} >= {"complet", "incomplet"}
    groupe_labels = {g.number: g.label for d in store.demarches.values() for g in d.groupes}

    def on_ds(numbers):
        return [(store.dossier(n).annotations, groupe_labels[store.dossier(n).groupe]) for n in numbers]

    assert on_ds(first_numbers) == on_ds(second_numbers)


def test_a_different_form_is_never_read_nor_written_and_a_misread_push_is_held(
    make_sandbox, monkeypatch, tmp_path, ds_client_for
):
    """A démarche whose form differs (ids colliding with another's, labels reworded, a champ gone): bind
    says what does not match and sync maps and writes nothing. And should a binding that does not fit slip
    through (the other démarche's ids), the circuit breaker holds the push: no message, no dossier taken
    back to en_construction."""
    like = load_form("formulaire-a")
    server = make_sandbox(dossiers=80, seed=6, form=different_form(like))
    database_url = f"sqlite:///{tmp_path / 'different.db'}"
    _wif_env(monkeypatch, server, database_url)
    assert main(["procedure", "bind", "--yes"]) == 1  # not stored: required champs unmatched
    assert main(["sync"]) == 10
    assert server.store.mutation_log == []

    # The other démarche's binding, by ids: nationality would be read from the birthplace, and so on.
    other = make_sandbox(dossiers=5, seed=6, form=like)
    engine = make_engine(database_url)
    upgrade(engine)
    sessions = session_factory(engine)
    result = bind_demarche(ds_client_for(other), sessions, 1, overrides={})
    assert not result.blocking
    with sessions() as session, session.begin():
        store_binding(session, result)
    client = ds_client_for(server)
    with sessions() as session:
        misread = load_binding(session, 1)
    Syncer(client=client, sessions=sessions, evaluate=evaluator(misread).rows, page_size=100).sync(1)
    in_instruction = {d.number for d in server.store.visible_dossiers(1) if d.state == "en_instruction"}

    summary = make_pusher(client, sessions).push(1)

    assert summary.held and "HELD" in summary.line() and "delivered" not in summary.line()
    assert server.store.mutation_log == []
    assert {d.number for d in server.store.visible_dossiers(1) if d.state == "en_instruction"} == in_instruction
    engine.dispose()


# --- the drift report ------------------------------------------------------------------


def _second_demarche(server) -> int:
    """Another démarche of the same administrateur, staffed like the first (as sandbox_store does)."""
    from mappings.routing import expected_groupes, load_routing_table

    groupes = expected_groupes(load_routing_table())
    demarche = server.store.add_demarche(groupe_labels=[g.label for g in groupes])
    for groupe, expected in zip(demarche.groupes, groupes, strict=False):
        for email in expected.instructeur_emails:
            server.store.add_instructeur(groupe.number, email)
    return demarche.number


def test_check_reports_every_listed_demarche_with_the_fix_in_ds_words(server, wif, monkeypatch):
    second = _second_demarche(server)
    monkeypatch.setenv("DS_DEMARCHE_NUMBER", f"1,{second}")
    assert wif("procedure", "bind", "--yes")[0] == 0
    server.store.demarches[second].rename_champ("emploi_intitule", "Poste")

    code, out, _ = wif("procedure", "check")

    assert code == 1
    assert "démarche 1 (révision" in out and "conforme à la définition, aucun écart" in out
    assert f"démarche {second} (révision" in out and "1 écart(s)" in out
    renamed = server.store.demarches[second].champ("emploi_intitule").stable_id
    assert (
        f"→ Dans l'éditeur de formulaire (« Champs du formulaire »), renommez le champ n° {renamed} en « Emploi "
        "occupé »" in out
    )


def test_check_never_asks_to_close_ds_default_groupe(server, wif):
    server.store.add_groupe(1, "défaut")  # every DS démarche starts with it; it cannot be closed

    code, out, _ = wif("procedure", "check")

    assert code == 0, out
    assert "défaut" not in out
