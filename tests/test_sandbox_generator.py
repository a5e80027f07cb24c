"""The generator: deterministic, realistic, and each intent is what it says."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest

from mappings.procedure import default_procedure
from sandbox.form import load_form
from sandbox.generator import CONTRACT_WEIGHTS, INTENT_WEIGHTS, INTENTS, required_documents, seeded_store
from sandbox.people import luhn_valid
from sandbox.reference_data import EXEMPT_NATIONALITIES, OUT_OF_SCOPE_DEPARTEMENTS
from sandbox.store import STATES

TODAY = date(2026, 1, 1)
MAX_BYTES = 10 * 1024 * 1024


@pytest.fixture(scope="module")
def store():
    return seeded_store(500, seed=42, today=TODAY)


@pytest.fixture(scope="module")
def dossiers(store):
    return list(store.dossiers.values())


def snapshot(store):
    return [
        (
            d.number,
            d.intent,
            d.state,
            d.depose_at,
            d.updated_at,
            d.values,
            d.annotations,
            [(m.email, m.body, m.created_at) for m in d.messages],
            d.hidden_at,
        )
        for d in store.dossiers.values()
    ] + [(e.dossier_number, e.deleted_at) for e in store.deleted[1]]


def test_same_seed_same_data_other_seed_other_data(store):
    assert snapshot(seeded_store(500, seed=42, today=TODAY)) == snapshot(store)
    assert snapshot(seeded_store(500, seed=43, today=TODAY)) != snapshot(store)


def test_every_intent_contract_state_and_case_appears(dossiers):
    assert set(Counter(d.intent for d in dossiers)) == set(INTENTS)
    assert set(Counter(d.values["contrat_type"] for d in dossiers)) == set(CONTRACT_WEIGHTS)
    assert set(Counter(d.state for d in dossiers)) == set(STATES)
    assert {d.values["demande_type"] for d in dossiers} == {"Première demande", "Renouvellement"}
    assert len({d.values["depose_par"] for d in dossiers}) == 2
    departements = {d.values["titre_departement"] for d in dossiers}
    assert {"2A", "2B", "971", "972", "973", "974", "976"} <= departements
    assert departements & OUT_OF_SCOPE_DEPARTEMENTS
    share = Counter(d.intent for d in dossiers)["complete"] / len(dossiers)
    assert abs(share - INTENT_WEIGHTS["complete"] / sum(INTENT_WEIGHTS.values())) < 0.07


def test_dates_lie_before_today_in_order(dossiers):
    deposits = [d.depose_at.date() for d in dossiers]
    assert max(deposits) < TODAY and min(deposits) >= TODAY - timedelta(days=731)
    for dossier in dossiers:
        times = [t.at for t in dossier.traitements]
        assert times == sorted(times) and dossier.traitements[0].event == "depose"
        assert dossier.updated_at >= times[-1]


@pytest.fixture(scope="module")
def service():
    """The sandbox the README's screenshots show: 2,000 dossiers."""
    return list(seeded_store(2000, seed=1, today=TODAY).dossiers.values())


def test_two_thousand_dossiers_are_two_years_of_a_service_and_a_small_sandbox_its_last_months(dossiers, service):
    def span(ds):
        return max(d.depose_at for d in ds) - min(d.depose_at for d in ds)

    assert timedelta(days=700) < span(service) <= timedelta(days=730)
    assert timedelta(days=150) < span(dossiers) < timedelta(days=200)  # 500 dossiers, about 1,000 a year
    # A small sandbox still has dossiers waiting for each step as well as decided ones.
    states = Counter(d.state for d in seeded_store(60, seed=3, today=TODAY).dossiers.values())
    assert states["en_construction"] >= 6 and states["en_instruction"] >= 2
    assert states["accepte"] + states["refuse"] + states["sans_suite"] >= 20


def test_decisions_come_within_weeks(service):
    days = sorted((d.processed_at - d.depose_at) / timedelta(days=1) for d in service if d.processed_at)
    assert len(days) > 1800
    median, p90 = days[len(days) // 2], days[int(len(days) * 0.9)]
    assert 21 <= median <= 42 and 42 <= p90 <= 70
    assert sum(14 <= d <= 56 for d in days) / len(days) > 0.6  # most within 2 to 8 weeks
    assert 0.03 < sum(d > 56 for d in days) / len(days) < 0.15  # some longer
    assert max(days) < 215


def test_few_dossiers_older_than_a_year_are_still_open(service):
    year_ago = datetime.combine(TODAY - timedelta(days=365), time(0), tzinfo=UTC)
    old_open = [d for d in service if d.state in ("en_construction", "en_instruction") and d.depose_at < year_ago]
    assert len(old_open) <= 10
    waiting = [d for d in service if d.state in ("en_construction", "en_instruction")]
    assert 50 <= len(waiting) <= 200  # a month or two of deposits


def test_out_of_scope_territories_are_rare_and_closed(service):
    outside = [d for d in service if d.values["titre_departement"] in OUT_OF_SCOPE_DEPARTEMENTS]
    assert 0 < len(outside) < 0.015 * len(service)
    month_ago = datetime.combine(TODAY - timedelta(days=30), time(0), tzinfo=UTC)
    assert all(d.state == "sans_suite" for d in outside if d.depose_at < month_ago)


def test_trash_deletion_and_old_revision_shares(store, dossiers):
    assert 1 <= len(store.trash_index(1)) <= 15
    assert 1 <= len(store.deleted[1]) <= 15
    old = [d for d in dossiers if d.revision == 0]
    assert 0.02 < len(old) / len(dossiers) < 0.2
    assert all("autres_emplois" not in d.values for d in old)
    # DS rebased every dossier not yet decided when the newer revision was published: only decided ones kept the old.
    published = store.demarches[1].revisions[-1].published_at
    assert all(d.processed_at and d.processed_at < published for d in old)


def test_addresses_agree_with_their_departement(dossiers):
    for dossier in dossiers:
        commune = dossier.values["adresse_etudiant"].commune
        assert commune.insee[:2] == commune.departement[:2]
        if dossier.intent == "shared_postal_code":  # the one case where the postal code names another département
            assert commune.postal_code[:2] != commune.departement[:2]
        else:
            assert commune.postal_code[:2] in (commune.departement[:2], "20")


def _weekly_hours(values):
    weekly = values["heures_nombre"] if values["heures_unite"] == "Par semaine" else values["heures_nombre"] / 4
    return weekly + sum(row["autre_heures_semaine"] for _, row in values.get("autres_emplois") or ())


def _annual_hours(values):
    return _weekly_hours(values) * 52


def test_complete_dossiers_have_no_defect(dossiers):
    for dossier in (d for d in dossiers if d.intent == "complete"):
        v = dossier.values
        assert luhn_valid(v["employeur_siret"].siret) and len(v["employeur_siret"].siret) == 14
        assert v["nationalite"] not in EXEMPT_NATIONALITIES
        assert v["titre_departement"] not in OUT_OF_SCOPE_DEPARTEMENTS
        start = date.fromisoformat(v["contrat_date_debut"])
        end = date.fromisoformat(v["contrat_date_fin"]) if v["contrat_date_fin"] else None
        assert end is None and v["contrat_type"] == "CDI" or end > start
        assert date.fromisoformat(v["titre_date_debut"]) <= start
        assert date.fromisoformat(v["titre_date_expiration"]) > (end or start + timedelta(days=365))
        age = (dossier.depose_at.date() - date.fromisoformat(v["date_naissance"])).days / 365.25
        assert 18 <= age <= 35
        if v["contrat_type"] in ("CDD", "CDI"):
            if v["nationalite"] == "DZ":
                assert _annual_hours(v) < 804
            else:  # an APT is needed: full time, in the titre's first year, for a job of the course
                assert _weekly_hours(v) >= 30 and v["emploi_lien_formation"] is True
                assert (start - date.fromisoformat(v["titre_date_debut"])).days <= 40
        for key in required_documents(v):
            assert 1 <= len(v[key]) <= 3
            assert all(0 < f.byte_size <= MAX_BYTES and not f.filename.endswith(".zip") for f in v[key])
        assert dossier.anomaly is None


def test_each_defect_intent_carries_its_defect(dossiers):
    by_intent = {}
    for dossier in dossiers:
        by_intent.setdefault(dossier.intent, []).append(dossier)
    for d in by_intent["missing_document"]:
        assert any(d.values[key] == () for key in required_documents(d.values))
    for d in by_intent["bad_file"]:
        assert any(
            len(files) == 4
            or any(f.byte_size in (0,) or f.byte_size > MAX_BYTES or f.content_type == "application/zip" for f in files)
            for files in (d.values[k] for k in required_documents(d.values))
        )
    for d in by_intent["inconsistent_dates"]:
        assert d.values["contrat_date_fin"] < d.values["contrat_date_debut"]
    for d in by_intent["permit_expired_at_start"]:
        assert d.values["titre_date_expiration"] < d.values["contrat_date_debut"]
    for d in by_intent["permit_ends_before_contract"]:
        v = d.values
        assert v["contrat_date_debut"] < v["titre_date_expiration"] < v["contrat_date_fin"]
    for d in by_intent["hours_over_cap"]:
        assert d.values["contrat_type"] in ("CDD", "CDI") and d.values["nationalite"] == "DZ"
        assert _annual_hours(d.values) > 804
    for d in by_intent["under_threshold"]:
        assert d.values["nationalite"] != "DZ" and _annual_hours(d.values) < 964
    for d in by_intent["under_threshold_per_titre_year"]:
        # More than 964 h over the contract's 12 months, split over two titre years.
        assert _annual_hours(d.values) > 964 and d.values["titre_date_debut"] < d.values["contrat_date_debut"]
    for d in by_intent["job_not_in_course"]:
        assert d.values["emploi_lien_formation"] is False
    for d in by_intent["six_month_visa"]:
        assert d.values["titre_type"] == "Visa long séjour étudiant de 6 mois"
    for d in by_intent["opco_validated_apprenticeship"] + by_intent["non_algerian_apprentice"]:
        v = d.values
        assert v["nationalite"] != "DZ" and v["contrat_type"] == "Contrat d'apprentissage"
        assert v["apprentissage_valide_opco"] is (d.intent == "opco_validated_apprenticeship")
    for d in by_intent["renewal_set"]:
        pages = [f for key in ("pj_titre_sejour", "pj_convocation", "pj_ancien_titre") for f in d.values[key]]
        assert d.values["titre_type"] == "Récépissé de demande de renouvellement" and len(pages) == 6
    for d in by_intent["aphp_interne"]:
        assert d.values["employeur_siret"].siret.startswith("267500452") and luhn_valid(
            d.values["employeur_siret"].siret
        )
    for d in by_intent["interne_three_documents"]:
        assert all(d.values[k] for k in ("pj_interne_recrutement", "pj_interne_chef_service", "pj_interne_dfms"))
    ater_documents = {d.values["pj_ater"][0].filename.rsplit(".", 1)[0] for d in by_intent["ater_any_document"]}
    assert ater_documents <= {"arrete_nomination", "attestation_ater", "pv_installation"} and ater_documents
    for d in by_intent["invalid_siret"]:
        siret = d.values["employeur_siret"].siret
        assert len(siret) == 14 and not luhn_valid(siret) and not siret.startswith("356000000")
    for d in by_intent["out_of_scope_nationality"]:
        assert d.values["nationalite"] in EXEMPT_NATIONALITIES
    variants = set()
    for d in by_intent["malformed"]:
        if d.anomaly:
            variants.add(d.anomaly[0])
        else:
            assert d.values["date_naissance"].endswith("-02-30")
            variants.add("impossible_date")
    assert variants == {"missing_champ", "extra_champ", "impossible_date"}


def test_conditional_documents_are_exercised(dossiers):
    conditional = {d.key for d in default_procedure().champs if d.when}
    missing = {
        key
        for d in dossiers
        if d.intent == "missing_document"
        for key in required_documents(d.values)
        if d.values[key] == ()
    }
    assert len(missing & conditional) >= 4


def test_accepted_dossiers_mostly_carry_the_apt_period(dossiers):
    accepted = [d for d in dossiers if d.state == "accepte"]
    with_period = [d for d in accepted if "apt_date_debut" in d.annotations]
    assert len(with_period) / len(accepted) > 0.85
    assert all(
        (d.annotations["apt_date_debut"] <= d.annotations["apt_date_fin"]) == (d.annotation_defect is None)
        for d in with_period
    )


def test_names_include_markup_and_punctuation(dossiers):
    names = {d.values["nom"] for d in dossiers}
    assert any("'" in n for n in names) and any("-" in n for n in names)
    assert any(c in "".join(names) for c in "éèëïöü")


def test_a_piece_is_attached_exactly_when_the_form_asks_for_it(dossiers):
    """The generator reads when a pièce is asked from the sandbox's own form (`asked_when` in
    sandbox/demarche.yaml): a complete dossier carries each such pièce in that case, and only then."""
    from sandbox.form import load_form

    asked = {d.key: dict(d.asked_when) for d in load_form().champs if d.asked_when}
    assert len(asked) >= 10
    for dossier in (d for d in dossiers if d.intent == "complete"):
        v = dossier.values
        for key, case in asked.items():
            assert bool(v.get(key)) == all(v.get(champ) == value for champ, value in case.items()), (
                dossier.number,
                key,
            )


def test_every_dossier_has_a_cursus_that_fits_its_contract(dossiers):
    years = load_form().champ("cursus_annee").options
    for dossier in dossiers:
        v = dossier.values
        assert v["cursus_etablissement"] and v["cursus_diplome"] and v["cursus_annee"] in years
        if v["contrat_type"] in ("Contrat doctoral", "Convention CIFRE", "Contrat d'ATER"):
            assert v["cursus_diplome"].startswith("Doctorat")
        elif v["contrat_type"] == "Interne en médecine, pharmacie ou odontologie":
            assert v["cursus_diplome"].startswith("Diplôme d'études spécialisées")
        elif not v["formation_master_cge"]:  # no master's, no grande école
            assert not v["cursus_diplome"].startswith(("Master", "Diplôme d'ingénieur", "Programme Grande École"))
    assert len({d.values["cursus_etablissement"] for d in dossiers}) > 30
