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

from core import models
from core.db import make_engine, session_factory, upgrade
from jobs.binding import bind_demarche, load_binding
from jobs.cli import main
from mappings import binding as rules
from mappings.binding import normalise_label
from mappings.procedure import default_procedure
from sandbox.demarche import CONNECTOR_INSTRUCTEUR_ID, ChampDefinition, Revision

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
    revision = Revision(store.next_id("ProcedureRevision"), active.created_at + timedelta(days=1),
                        active.champs if champs is None else champs, active.annotations if annotations is None else annotations)
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


def stored(database_url: str):
    engine = make_engine(database_url)
    upgrade(engine)
    try:
        with session_factory(engine)() as session:
            return load_binding(session, 1)
    finally:
        engine.dispose()


# --- the pure rules ----------------------------------------------------------

@pytest.mark.parametrize(("a", "b"), [
    ("Nom de l'étudiant", "NOM DE L’ETUDIANT"),
    ("S'agit-il d'une première demande ou d'un renouvellement ?", "s’agit il d’une premiere demande ou d’un renouvellement"),
    ("Adresse  électronique\u00a0de l'employeur", "Adresse electronique de l employeur"),
    ("Préparez-vous un master ou un diplôme d'une grande école (CGE) ?", "preparez vous un master ou un diplome d une grande ecole cge"),
])
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
    assert "candidates: 102 « Nom de l'étudiant » (text), 7001 « Nom de l’étudiant » (text)" in nom
    retyped = next(line for line in out.splitlines() if line.strip().startswith("retyped"))
    assert "contrat_date_debut" in retyped and "304 « Date de début du contrat » (text)" in retyped
    assert "NOT bound: 2 problem(s)" in out
    assert stored(wif.database_url) is None


def test_an_unmatched_key_lists_the_ds_champs_of_its_type(server, ds_client_for, sessions):
    server.store.demarches[1].rename_champ("lieu_naissance", "Ville de naissance")

    result = bind_demarche(ds_client_for(server), sessions, 1, overrides={})

    [problem] = result.problems
    assert (problem.kind, problem.key) == ("unmatched", "lieu_naissance")
    assert problem.candidates[0].stable_id == 105 and problem.candidates[0].label == "Ville de naissance"
    assert result.blocking == [problem]  # a required champ


def test_the_overrides_file_wins(server, wif, tmp_path, monkeypatch):
    demarche = server.store.demarches[1]
    twin = ChampDefinition("nom_bis", 7001, "text", "Nom de l'étudiant")
    demarche._edit_active(champs=demarche.active_revision.champs + (twin,))
    overrides = tmp_path / "bindings.yaml"
    overrides.write_text("1:\n  nom: 7001\n  prenom: 102\n")  # even against the labels
    monkeypatch.setattr(rules, "OVERRIDES_FILE", overrides)

    code, out, _ = wif("procedure", "bind", "--yes")

    assert code == 0, out
    binding = stored(wif.database_url)
    assert (binding.champs["nom"].stable_id, binding.champs["prenom"].stable_id) == (7001, 102)
    assert "binding stored" in out


def test_bind_prints_each_key_with_its_integer_stable_id_and_stores_nothing_without_yes(wif):
    code, out, _ = wif("procedure", "bind")

    assert code == 0
    assert any(line.split()[:2] == ["nom", "102"] for line in out.splitlines())
    assert any(line.split()[:2] == ["wif_statut", "912"] for line in out.splitlines())
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
    assert {k: b.stable_id for k, b in after.champs.items()} == \
        {k: b.stable_id for k, b in before.champs.items() if k != "telephone_etudiant"}
    changes = [line.split()[:2] for line in out.splitlines() if line.startswith("    ")]
    assert sorted(changes) == sorted([["renamed", "emploi_intitule"], ["renamed", "wif_anomalies"],
                                      ["removed", "telephone_etudiant"], ["new", "7201"]])
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
    assert "titre_departement (stable id 116) is now text, bound as departements" in err
    assert server.store.mutation_log == []


def test_a_required_champ_removed_after_binding_stops_sync(server, wif):
    assert wif("procedure", "bind", "--yes")[0] == 0
    server.store.demarches[1].remove_champ("nationalite")

    code, _, err = wif("sync", "--no-push")

    assert code == 10 and "nationalite (stable id 106) is no longer in the published revision" in err


# --- one binding everywhere: labels renamed in DS change nothing ---------------------

def _outcomes(database_url: str) -> dict:
    engine = make_engine(database_url)
    out = {}
    with session_factory(engine)() as session:
        for dossier in session.scalars(select(models.Dossier).where(models.Dossier.hidden_at.is_(None))):
            columns = lambda row: {c.key: getattr(row, c.key) for c in row.__table__.columns}  # noqa: E731
            out[dossier.number] = (
                dossier.completeness_status, dossier.target_groupe_label, dossier.departement,
                columns(dossier.student), columns(dossier.contract), columns(dossier.employer),
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
    demarche = server.store.demarches[1]
    demarche.rename_champ("titre_departement", "Département de délivrance du titre")  # routing reads it
    demarche.rename_champ("nationalite", "Pays de nationalité")
    demarche.rename_champ("wif_anomalies", "Anomalies relevées")  # an annotation push writes
    mutations = len(server.store.mutation_log)

    code, out, err = wif("sync", "--full")

    assert code == 0, err
    assert _outcomes(wif.database_url) == outcomes
    assert _ds_view(server) == on_ds
    assert server.store.mutation_log[mutations:] == []
    new_labels = ("Département de délivrance du titre", "Pays de nationalité", "Anomalies relevées")
    assert not [n for n, o in _outcomes(wif.database_url).items() for _, _, message in o[-1]
                if any(label in message for label in new_labels)]


# --- a démarche whose ids DS chose --------------------------------------------------

def _with_ds_ids(demarche) -> dict[str, int]:
    """Give every champ of every revision a large id in another order than the file's, as DS's editor would."""
    keys = []
    for revision in demarche.revisions:
        for d in (*revision.champs, *revision.annotations):
            for found in (d, *d.champs):
                if found.key not in keys:
                    keys.append(found.key)
    ids = {key: 4_181_313 + 7 * n for n, key in enumerate(reversed(keys))}

    def redo(definitions):
        return tuple(dataclasses.replace(d, stable_id=ids[d.key], champs=redo(d.champs)) for d in definitions)

    demarche.revisions[:] = [dataclasses.replace(r, champs=redo(r.champs), annotations=redo(r.annotations))
                             for r in demarche.revisions]
    return ids


def test_a_demarche_with_ds_assigned_ids_gives_exactly_the_same_results(make_sandbox, monkeypatch, tmp_path, capsys):
    """Issue #10, done when: bind then sync on DS-assigned ids gives the same groupe, labels and
    annotations per dossier as on a démarche whose ids happen to be the file's old ones."""
    results = []
    for name in ("file_ids", "ds_ids"):
        server = make_sandbox(dossiers=60, seed=3)
        if name == "ds_ids":
            ids = _with_ds_ids(server.store.demarches[1])
            assert ids["nom"] > 4_000_000
        database_url = f"sqlite:///{tmp_path / name}.db"
        monkeypatch.setenv("DATABASE_URL", database_url)
        monkeypatch.setenv("DS_API_URL", server.url)
        monkeypatch.setenv("DS_API_TOKEN", server.token)
        monkeypatch.setenv("DS_DEMARCHE_NUMBER", "1")
        monkeypatch.setenv("DS_INSTRUCTEUR_ID", CONNECTOR_INSTRUCTEUR_ID)
        assert main(["procedure", "bind", "--yes"]) == 0
        assert main(["sync"]) == 0
        assert main(["procedure", "check"]) == 0
        capsys.readouterr()
        binding = stored(database_url)
        results.append((_outcomes(database_url), _ds_view(server), binding.champs["nom"].stable_id))
    (file_outcomes, file_view, file_nom), (ds_outcomes, ds_view, ds_nom) = results
    assert file_nom == 102 and ds_nom > 4_000_000
    assert ds_outcomes == file_outcomes
    assert ds_view == file_view
    assert any(annotations for annotations, _, _ in ds_view.values())


# --- the drift report ------------------------------------------------------------------

def _second_demarche(server) -> int:
    """Another démarche of the same administrateur, staffed like the first (as build_store does)."""
    from mappings.routing import expected_groupes, load_routing_table

    groupes = expected_groupes(load_routing_table())
    demarche = server.store.add_demarche(groupe_labels=[g.label for g in groupes])
    for groupe, expected in zip(demarche.groupes, groupes):
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
    assert ("→ Dans l'éditeur de formulaire (« Champs du formulaire »), renommez le champ n° 301 en « Emploi occupé »"
            in out)


def test_check_never_asks_to_close_ds_default_groupe(server, wif):
    server.store.add_groupe(1, "défaut")  # every DS démarche starts with it; it cannot be closed

    code, out, _ = wif("procedure", "check")

    assert code == 0, out
    assert "défaut" not in out
