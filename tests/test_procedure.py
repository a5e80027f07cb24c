"""The procedure as code: the definition file, `wif procedure check | apply |
prefill-link` against the DS sandbox, and champs read through the binding."""

from __future__ import annotations

import base64
import copy
import dataclasses
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from core.settings import DSSettings, Settings
from jobs.cli import main
from jobs.verbs.procedure import fetch_report
from mappings.dossier import map_dossier
from mappings.normalize import is_valid_siret
from mappings.prefill import MAX_URL_LENGTH, PrefillError, prefill_link
from mappings.procedure import PROCEDURE_FILE, DefinitionError, default_procedure, load_procedure, parse_procedure
from mappings.routing import expected_groupes, load_routing_table
from sandbox.demarche import CONNECTOR_INSTRUCTEUR_ID, CONNECTOR_INSTRUCTEUR_NUMBER, ChampDefinition, Label
from tests.sync_helpers import bind_sandbox, recorded_binding, sandbox_binding

# Few dossiers: these tests look at the démarche, not at the dossiers.
SANDBOX_DOSSIERS = 3
VALID_SIRET = "42424242400010"
# Three groupes of open services, taken from the routing table so that the
# tests follow services.csv.
REMOVED, UNSTAFFED, WITHOUT_CONNECTOR = [g for g in expected_groupes(load_routing_table()) if g.instructeur_emails][:3]
GROUPE_KINDS = ("missing_groupe", "extra_groupe", "closed_groupe", "missing_instructeur", "connector_not_member")


@pytest.fixture(scope="module")
def procedure():
    return default_procedure()


@pytest.fixture(scope="module")
def table():
    return load_routing_table()


@pytest.fixture(scope="module")
def raw_definition():
    return yaml.safe_load(PROCEDURE_FILE.read_text())


@pytest.fixture
def server(make_sandbox):
    return make_sandbox(dossiers=SANDBOX_DOSSIERS, seed=7)


@pytest.fixture
def cli_env(monkeypatch, tmp_path):
    """Environment of a `wif` run against `server` (set by `point_cli_at`)."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'wif.db'}")
    monkeypatch.setenv("DS_DEMARCHE_NUMBER", "1")
    monkeypatch.setenv("DS_INSTRUCTEUR_ID", CONNECTOR_INSTRUCTEUR_ID)
    monkeypatch.delenv("DS_API_URL", raising=False)
    monkeypatch.delenv("DS_API_TOKEN", raising=False)

    def point_cli_at(server):
        monkeypatch.setenv("DS_API_URL", server.url)
        monkeypatch.setenv("DS_API_TOKEN", server.token)

    return point_cli_at


def settings_for(server) -> Settings:
    return Settings(ds=DSSettings(api_url=server.url, api_token=server.token, instructeur_id=CONNECTOR_INSTRUCTEUR_ID))


def report_for(server, ds_client_for, procedure, table, sessions=None):
    return fetch_report(ds_client_for(server), 1, settings_for(server), procedure, table, sessions)


def drift_pairs(report) -> set[tuple[str, str]]:
    return {(d.kind, d.subject) for d in report.drifts}


def groupe_named(server, label: str):
    return next(g for g in server.store.demarches[1].groupes if g.label == label)


def edit_active_revision(server, **changes) -> None:
    demarche = server.store.demarches[1]
    demarche.revisions[-1] = dataclasses.replace(demarche.active_revision, **changes)


def replace_champ(definitions, key: str, **changes):
    return tuple(dataclasses.replace(d, **changes) if d.key == key else d for d in definitions)


# --- 1. the definition file -------------------------------------------------


def test_procedure_file_loads_with_the_structured_champs_the_issue_asks_for(procedure):
    loaded = load_procedure(PROCEDURE_FILE)
    assert loaded == procedure
    types = {d.key: d.type for d in loaded.all_champs()}
    assert types["nationalite"] == "pays"
    assert types["employeur_siret"] == "siret"
    assert types["titre_departement"] == "departements"
    assert types["heures_unite"] == "drop_down_list" and types["heures_nombre"] == "decimal_number"
    assert types["salaire_brut_mensuel"] == "decimal_number"
    keys = [d.key for d in loaded.all_champs()]
    assert len(keys) == len(set(keys))
    assert all(d.options for d in loaded.all_champs() if d.type == "drop_down_list")
    conditioned = [d for d in loaded.champs if d.when]
    assert conditioned and all(d.type == "piece_justificative" for d in conditioned)
    assert all(key in keys for d in conditioned for key in d.when)
    assert {label.key for label in loaded.labels} >= {"complet", "incomplet"}


def test_the_definition_holds_no_ds_id(raw_definition):
    """DS assigns the ids (issue #10): the file names keys only, the binding ties them to a démarche."""

    def walk(champs):
        for champ in champs:
            yield champ
            yield from walk(champ.get("champs", ()))

    every = list(walk(raw_definition["champs"])) + list(walk(raw_definition["annotations"]))
    assert every and not any({"stable_id", "id"} & set(champ) for champ in every)


def _champ_index(raw: dict, key: str) -> int:
    return next(i for i, c in enumerate(raw["champs"]) if c["key"] == key)


def _duplicate_key(raw):
    raw["champs"][_champ_index(raw, "prenom")]["key"] = "nom"


def _a_ds_id_in_the_definition(raw):
    raw["champs"][_champ_index(raw, "prenom")]["stable_id"] = 103


def _unknown_when_key(raw):
    raw["champs"][_champ_index(raw, "pj_mandat")]["when"] = {"qui_depose": ["L'employeur"]}


def _drop_down_without_options(raw):
    del raw["champs"][_champ_index(raw, "demande_type")]["options"]


def _wrong_type(raw):
    raw["champs"][_champ_index(raw, "nom")]["type"] = "texte_libre"


def _wrong_type_in_repetition(raw):
    raw["champs"][_champ_index(raw, "autres_emplois")]["champs"][1]["type"] = "heures"


def _misspelt_property(raw):
    raw["champs"][_champ_index(raw, "nom")]["requried"] = True


def _label_colour_unknown(raw):
    raw["labels"][0]["color"] = "rouge"


def _missing_path(raw):
    del raw["path"]


@pytest.mark.parametrize(
    ("break_it", "expected_place"),
    [
        (_duplicate_key, "key 'nom' is used twice"),
        (_a_ds_id_in_the_definition, "at champs/{prenom}: Additional properties are not allowed ('stable_id'"),
        (_unknown_when_key, "'pj_mandat' depends on unknown key 'qui_depose'"),
        (_drop_down_without_options, "at champs/{demande_type}: 'options' is a required property"),
        (_wrong_type, "at champs/{nom}/type: 'texte_libre' is not one of"),
        (_wrong_type_in_repetition, "at champs/{autres_emplois}/champs/1/type: 'heures'"),
        (_misspelt_property, "at champs/{nom}: Additional properties are not allowed ('requried'"),
        (_label_colour_unknown, "at labels/0/color"),
        (_missing_path, "at (root): 'path' is a required property"),
    ],
)
def test_a_broken_definition_names_the_place(raw_definition, break_it, expected_place):
    raw = copy.deepcopy(raw_definition)
    break_it(raw)
    place = expected_place.format(**{c["key"]: i for i, c in enumerate(raw_definition["champs"])})
    with pytest.raises(DefinitionError) as error:
        parse_procedure(raw)
    assert place in str(error.value)


def test_a_broken_file_is_a_definition_error_naming_the_file(tmp_path, raw_definition):
    not_yaml = tmp_path / "procedure.yaml"
    not_yaml.write_text("champs: [unclosed\n")
    with pytest.raises(DefinitionError, match="procedure.yaml is not valid YAML"):
        load_procedure(not_yaml)
    raw = copy.deepcopy(raw_definition)
    _wrong_type(raw)
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(raw, allow_unicode=True))
    with pytest.raises(DefinitionError, match="/type"):
        load_procedure(broken)


# --- 2. procedure check -----------------------------------------------------


def test_a_demarche_built_from_the_file_has_no_drift(server, ds_client_for, procedure, table):
    report = report_for(server, ds_client_for, procedure, table)

    assert report.drifts == []
    assert report.revision_id == server.store.demarches[1].active_revision.id
    assert set(report.live_groupes) == {g.label for g in expected_groupes(table)}


def test_cli_check_exits_0_without_drift(server, cli_env, capsys):
    cli_env(server)

    assert main(["procedure", "check"]) == 0
    assert "aucun écart" in capsys.readouterr().out


def _remove_champ(server):
    server.store.demarches[1].remove_champ("lieu_naissance")


def _extra_champ(server):
    added = ChampDefinition(key="ajout_local", stable_id=9999, type="text", label="Numéro de badge")
    edit_active_revision(server, champs=server.store.demarches[1].active_revision.champs + (added,))


def _rename_champ(server):
    server.store.demarches[1].rename_champ("emploi_intitule", "Poste")


def _retype_champ(server):
    server.store.demarches[1].change_champ_type("contrat_date_debut", "text")


def _retype_repetition_child(server):
    server.store.demarches[1].change_champ_type("autre_heures_semaine", "integer_number")


def _unrequire_champ(server):
    edit_active_revision(
        server, champs=replace_champ(server.store.demarches[1].active_revision.champs, "nom", required=False)
    )


def _reword_options(server):
    revision = server.store.demarches[1].active_revision
    edit_active_revision(
        server, champs=replace_champ(revision.champs, "heures_unite", options=("Hebdomadaire", "Mensuel"))
    )


def _new_id_same_label(server):
    revision = server.store.demarches[1].active_revision
    edit_active_revision(server, champs=replace_champ(revision.champs, "telephone_etudiant", stable_id=5108))


def _remove_one_champ_and_give_its_label_to_another(server):
    # Removing « Nom » and renaming « Prénom » to it must not pass for a
    # new id of « Nom »: the descriptor keeps Prénom's id.
    demarche = server.store.demarches[1]
    demarche.remove_champ("nom")
    demarche.rename_champ("prenom", default_procedure().champ("nom").label)


def _remove_annotation(server):
    server.store.demarches[1].remove_annotation("wif_statut")


def _rename_annotation(server):
    server.store.demarches[1].rename_champ("wif_anomalies", "Anomalies")


def _remove_label(server):
    labels = server.store.demarches[1].labels
    labels[:] = [label for label in labels if label.name != "À vérifier"]


def _extra_label(server):
    server.store.demarches[1].labels.append(Label(server.store.next_id("Label"), "Urgent", "pink_macaron"))


def _remove_groupe(server):
    server.store.remove_groupe(1, groupe_named(server, REMOVED.label).number)


def _extra_groupe(server):
    server.store.add_groupe(1, "Groupe créé à la main")


def _close_groupe(server):
    groupe_named(server, REMOVED.label).closed = True


def _remove_instructeur(server):
    groupe = groupe_named(server, UNSTAFFED.label)
    service = next(i for i in groupe.instructeurs if i.email == UNSTAFFED.instructeur_emails[0])
    server.store.remove_instructeur(groupe.number, service.number)


def _remove_connector(server):
    server.store.remove_instructeur(groupe_named(server, WITHOUT_CONNECTOR.label).number, CONNECTOR_INSTRUCTEUR_NUMBER)


@pytest.mark.parametrize(
    ("alter", "expected"),
    [
        pytest.param(_remove_champ, {("missing_champ", "lieu_naissance")}, id="remove_champ"),
        pytest.param(_extra_champ, {("extra_champ", "n° 9999")}, id="extra_champ"),
        pytest.param(_rename_champ, {("renamed_champ", "emploi_intitule")}, id="rename_champ"),
        pytest.param(_retype_champ, {("retyped_champ", "contrat_date_debut")}, id="retype_champ"),
        pytest.param(
            _retype_repetition_child, {("retyped_champ", "autre_heures_semaine")}, id="retype_repetition_child"
        ),
        pytest.param(_unrequire_champ, {("required_champ", "nom")}, id="unrequire_champ"),
        pytest.param(_reword_options, {("options_champ", "heures_unite")}, id="reword_options"),
        pytest.param(_new_id_same_label, {("rebind_needed", "telephone_etudiant")}, id="new_id_same_label"),
        pytest.param(
            _remove_one_champ_and_give_its_label_to_another,
            {("missing_champ", "nom"), ("renamed_champ", "prenom")},
            id="remove_one_champ_and_give_its_label_to_another",
        ),
        pytest.param(_remove_annotation, {("missing_annotation", "wif_statut")}, id="remove_annotation"),
        pytest.param(_rename_annotation, {("renamed_annotation", "wif_anomalies")}, id="rename_annotation"),
        pytest.param(_remove_label, {("missing_label", "À vérifier")}, id="remove_label"),
        pytest.param(_extra_label, {("extra_label", "Urgent")}, id="extra_label"),
        pytest.param(_remove_groupe, {("missing_groupe", REMOVED.label)}, id="remove_groupe"),
        pytest.param(_extra_groupe, {("extra_groupe", "Groupe créé à la main")}, id="extra_groupe"),
        pytest.param(_close_groupe, {("closed_groupe", REMOVED.label)}, id="close_groupe"),
        pytest.param(_remove_instructeur, {("missing_instructeur", UNSTAFFED.label)}, id="remove_instructeur"),
        pytest.param(_remove_connector, {("connector_not_member", WITHOUT_CONNECTOR.label)}, id="remove_connector"),
    ],
)
def test_check_reports_each_kind_of_drift(server, ds_client_for, sessions, procedure, table, alter, expected):
    bind_sandbox(ds_client_for(server), sessions)  # as deployed: bound, then DS changes
    alter(server)

    report = report_for(server, ds_client_for, procedure, table, sessions)

    assert drift_pairs(report) == expected


def test_a_champ_replaced_by_another_of_the_same_label_asks_for_a_rebind(
    server, ds_client_for, sessions, procedure, table
):
    bind_sandbox(ds_client_for(server), sessions)
    gone = server.store.demarches[1].champ("telephone_etudiant").stable_id
    _new_id_same_label(server)

    report = report_for(server, ds_client_for, procedure, table, sessions)

    [drift] = report.drifts
    assert drift.kind == "rebind_needed" and f"n° {gone} is gone; n° 5108" in drift.detail


def test_cli_check_exits_1_and_lists_each_drift(server, cli_env, capsys):
    _remove_champ(server)
    _remove_connector(server)
    cli_env(server)

    assert main(["procedure", "check"]) == 1
    out = capsys.readouterr().out
    assert "2 écart(s)" in out
    assert "missing_champ" in out and "lieu_naissance" in out
    assert "connector_not_member" in out and WITHOUT_CONNECTOR.label in out


def test_cli_check_on_an_unreachable_ds_exits_5_as_every_verb(cli_env, monkeypatch, capsys):
    monkeypatch.setenv("DS_API_URL", "http://127.0.0.1:9/api/v2/graphql")
    monkeypatch.setenv("DS_API_TOKEN", "jeton-de-test")
    monkeypatch.setenv("DS_MAX_RETRIES", "0")

    assert main(["procedure", "check"]) == 5  # DS unavailable: the code `wif sync` gives too
    assert capsys.readouterr().err.startswith("wif procedure: DS did not answer")


# --- 3. procedure apply -----------------------------------------------------


def _drift_for_apply(server):
    _remove_groupe(server)
    _remove_instructeur(server)
    _remove_connector(server)
    _remove_champ(server)
    _remove_label(server)


MUTATIONS = {"groupeInstructeurCreer", "groupeInstructeurAjouterInstructeurs"}


def test_apply_without_yes_shows_the_plan_and_sends_no_mutation(server, cli_env, capsys):
    _drift_for_apply(server)
    cli_env(server)

    assert main(["procedure", "apply"]) == 0

    out = capsys.readouterr().out
    assert "3 modification(s) par l'API (plan seulement" in out
    assert f"créer le groupe « {REMOVED.label} » avec 2 instructeur(s)" in out
    assert f"ajouter 1 instructeur(s) au groupe « {UNSTAFFED.label} »" in out
    assert f"ajouter 1 instructeur(s) au groupe « {WITHOUT_CONNECTOR.label} »" in out
    assert server.store.mutation_log == []
    assert {entry.operation_name for entry in server.request_log} == {"getDemarcheDescriptor"}
    assert all(g.label != REMOVED.label for g in server.store.demarches[1].groupes)


def test_apply_with_yes_creates_groupes_and_adds_instructeurs(server, cli_env, capsys, ds_client_for, procedure, table):
    _drift_for_apply(server)
    cli_env(server)

    assert main(["procedure", "apply", "--yes"]) == 0

    sent = [name for name, _ in server.store.mutation_log]
    assert sorted(sent) == [
        "groupeInstructeurAjouterInstructeurs",
        "groupeInstructeurAjouterInstructeurs",
        "groupeInstructeurCreer",
    ]
    created = groupe_named(server, REMOVED.label)
    assert {i.email for i in created.instructeurs} >= set(REMOVED.instructeur_emails)
    assert created.has_instructeur(CONNECTOR_INSTRUCTEUR_NUMBER)
    assert groupe_named(server, WITHOUT_CONNECTOR.label).has_instructeur(CONNECTOR_INSTRUCTEUR_NUMBER)
    assert UNSTAFFED.instructeur_emails[0] in {i.email for i in groupe_named(server, UNSTAFFED.label).instructeurs}
    after = report_for(server, ds_client_for, procedure, table)
    assert after.of_kind(*GROUPE_KINDS) == []
    # What the API cannot change is still there, and listed for the administrateur.
    assert drift_pairs(after) == {("missing_champ", "lieu_naissance"), ("missing_label", "À vérifier")}
    out = capsys.readouterr().out
    assert out.count(": fait") == 3
    assert "À faire par un administrateur dans l'interface de DS (3 étape(s))" in out
    assert (
        "  1. Dans l'éditeur de formulaire (« Champs du formulaire »), ajoutez le champ « Lieu de naissance » de "
        "type « Texte court », obligatoire" in out
    )
    assert "  2. Dans la page « Labels » de la démarche, créez le label « À vérifier »" in out
    assert "  3. Dans « Routage »" in out


def test_apply_again_has_nothing_left_to_send(server, cli_env, capsys):
    _remove_groupe(server)
    cli_env(server)
    assert main(["procedure", "apply", "--yes"]) == 0
    assert len(server.store.mutation_log) == 1
    server.store.mutation_log.clear()
    capsys.readouterr()

    assert main(["procedure", "apply", "--yes"]) == 0

    assert server.store.mutation_log == []
    assert capsys.readouterr().out.startswith("0 modification(s) par l'API\n")


def test_apply_reopens_no_closed_groupe_by_creating_it_again(server, cli_env, capsys):
    _close_groupe(server)
    cli_env(server)

    assert main(["procedure", "apply", "--yes"]) == 0

    assert server.store.mutation_log == []
    out = capsys.readouterr().out
    assert "0 modification(s) par l'API" in out
    assert f"1. Dans « Groupes d'instructeurs », rouvrez le groupe « {REMOVED.label} »" in out


def test_apply_reports_a_refused_mutation_with_exit_1(server, cli_env, capsys):
    _remove_connector(server)
    cli_env(server)
    server.store.tokens[server.token] = dataclasses.replace(server.store.tokens[server.token], write=False)

    assert main(["procedure", "apply", "--yes"]) == 1
    assert "ÉCHEC" in capsys.readouterr().out


# --- 4. champs read through the binding, never by label -------------------


def _old_revision_dossier(server) -> int:
    return next(d.number for d in server.store.dossiers.values() if d.revision == 0)


def test_a_dossier_on_the_older_revision_maps_over_http(make_sandbox, ds_client_for, sessions, procedure):
    server = make_sandbox(dossiers=20, seed=7)
    binding = bind_sandbox(ds_client_for(server), sessions)
    number = _old_revision_dossier(server)
    values = server.store.dossier(number).values

    raw = ds_client_for(server).execute("getDossier", {"dossierNumber": number})["dossier"]
    mapped = map_dossier(raw, procedure, binding)

    assert raw["demarche"]["revision"]["id"] == server.store.demarches[1].revisions[0].id
    job = next(c for c in raw["champs"] if c["champDescriptorId"] == binding.id_of("emploi_intitule"))
    assert job["label"] != procedure.champ("emploi_intitule").label  # the older wording
    assert mapped.contract.job_title == values["emploi_intitule"]
    assert mapped.student.last_name is not None
    assert [i for i in mapped.issues if i.code in ("unknown_champ", "missing_champ")] == []


def test_a_champ_with_another_id_is_not_read_by_its_label(make_sandbox, ds_client_for, sessions, procedure):
    server = make_sandbox(dossiers=20, seed=7)
    binding = bind_sandbox(ds_client_for(server), sessions)
    number = _old_revision_dossier(server)
    demarche = server.store.demarches[1]
    demarche.revisions[0] = dataclasses.replace(
        demarche.revisions[0], champs=replace_champ(demarche.revisions[0].champs, "lieu_naissance", stable_id=5105)
    )

    raw = ds_client_for(server).execute("getDossier", {"dossierNumber": number})["dossier"]
    mapped = map_dossier(raw, procedure, binding)

    assert mapped.student.birth_place is None
    codes = {(i.field, i.code) for i in mapped.issues}
    assert {("lieu_naissance", "missing_champ"), ("Lieu de naissance", "unknown_champ")} <= codes


# --- 5. prefill links -------------------------------------------------------

BINDING = recorded_binding()


def _query_key(stable_id: int) -> str:
    return "champ_" + base64.b64encode(f"Champ-{stable_id}".encode()).decode().replace("=", "")


def test_prefill_link_for_several_champ_types(procedure):
    values = {
        "nom": "Martin-Exemple",
        "civilite": "Mme",
        "date_naissance": "2001-04-30",
        "nationalite": "DZ",
        "email_etudiant": "etudiant.fictif@example.org",
        "contrat_type": "Contrat d'apprentissage",
        "residence_un_an": "true",
        "employeur_siret": VALID_SIRET,
        "heures_nombre": "17.5",
        "titre_departement": "69",
    }
    assert is_valid_siret(VALID_SIRET)

    url = prefill_link("https://demarche.numerique.gouv.fr/", procedure, values, BINDING)

    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "demarche.numerique.gouv.fr",
        "/commencer/apt-etudiant-etranger",
    )
    query = parse_qs(parts.query, strict_parsing=True)
    assert query == {_query_key(BINDING.champs[key].stable_id): [value] for key, value in values.items()}
    assert all("=" not in key for key in query)
    first_key = _query_key(BINDING.champs["nom"].stable_id)
    decoded = base64.b64decode(first_key.removeprefix("champ_") + "==").decode()
    assert decoded == f"Champ-{BINDING.champs['nom'].stable_id}" == "Champ-102"


def test_prefill_link_without_values_is_the_start_page(procedure):
    assert (
        prefill_link("https://ds.example", procedure, {}, BINDING)
        == "https://ds.example/commencer/apt-etudiant-etranger"
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"nom_de_famille": "X"}, "no champ or annotation with key 'nom_de_famille'"),
        ({"wif_statut": "complet"}, "wif_statut is a private annotation"),
        ({"pj_passeport": "passeport.pdf"}, "pj_passeport (piece_justificative) cannot be prefilled"),
        ({"section_employeur": "x"}, "cannot be prefilled"),
        ({"autres_emplois": "x"}, "autres_emplois (repetition) cannot be prefilled"),
        ({"autre_employeur": "Boulangerie fictive"}, "autre_employeur belongs to a repetition"),
        ({"contrat_date_debut": "2025-02-30"}, "contrat_date_debut: expected a date YYYY-MM-DD"),
        ({"contrat_date_debut": "01/09/2025"}, "contrat_date_debut: expected a date YYYY-MM-DD"),
        ({"contrat_date_debut": "20250901"}, "contrat_date_debut: expected a date YYYY-MM-DD"),
        ({"contrat_type": "Intérim"}, "contrat_type: 'Intérim' is not one of"),
        ({"employeur_siret": "42424242400011"}, "employeur_siret: '42424242400011' is not a valid SIRET"),
        ({"employeur_siret": "424 242 424 00010"}, "is not a valid SIRET"),
        ({"residence_un_an": "oui"}, "residence_un_an: expected true or false"),
        ({"civilite": "Monsieur"}, "civilite: expected M. or Mme"),
        ({"nationalite": "Algérie"}, "nationalite: expected an ISO country code"),
        ({"heures_nombre": "vingt"}, "heures_nombre: expected a number"),
        ({"lieu_naissance": "x" * MAX_URL_LENGTH}, "characters long; DS accepts about 2000"),
    ],
)
def test_prefill_link_refuses_what_ds_would_drop(procedure, values, message):
    with pytest.raises(PrefillError) as error:
        prefill_link("https://demarche.numerique.gouv.fr", procedure, values, BINDING)
    assert message in str(error.value)


def test_prefill_link_length_limit_is_inclusive(procedure):
    base = prefill_link("https://ds.example", procedure, {"lieu_naissance": ""}, BINDING)
    room = MAX_URL_LENGTH - len(base)

    assert len(prefill_link("https://ds.example", procedure, {"lieu_naissance": "a" * room}, BINDING)) == MAX_URL_LENGTH
    with pytest.raises(PrefillError):
        prefill_link("https://ds.example", procedure, {"lieu_naissance": "a" * (room + 1)}, BINDING)


@pytest.fixture
def bound_cli(server, cli_env, capsys):
    """`wif procedure bind --yes` done against `server`: the link names its champs."""
    cli_env(server)
    assert main(["procedure", "bind", "--yes"]) == 0
    capsys.readouterr()
    return server


def test_cli_prefill_link_prints_the_link(bound_cli, capsys, procedure, ds_client_for):
    code = main(["procedure", "prefill-link", "--base-url", "https://ds.example", "nom=Martin", "contrat_type=CDI"])

    out = capsys.readouterr().out.strip()
    assert code == 0
    binding = sandbox_binding(ds_client_for(bound_cli))
    assert out == prefill_link("https://ds.example", procedure, {"nom": "Martin", "contrat_type": "CDI"}, binding)
    assert f"champ_{bound_cli.store.demarches[1].champ('nom').id.rstrip('=')}=Martin" in out


def test_cli_prefill_link_of_an_unbound_demarche_names_the_bind_command(cli_env, capsys):
    assert main(["procedure", "prefill-link", "nom=Martin"]) == 10
    assert "Run `wif procedure bind --demarche 1`" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("contrat_date_debut=demain", "expected a date"),
        ("nom", "expected KEY=VALUE"),
        ("pj_contrat=contrat.pdf", "cannot be prefilled"),
    ],
)
def test_cli_prefill_link_exits_2_on_bad_input(bound_cli, capsys, argument, message):
    assert main(["procedure", "prefill-link", argument]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err
