"""The full generator: a démarche with one champ of every type DS offers (`every_champ.yaml`) and
dossiers whose values look like what DS holds for each type, with what instruction adds: followers,
DS's own messages, correction requests, expert opinions, a decision's justificatif, attestations.

Only where asked (`wif sandbox --every-champ N`, `add_every_champ_demarche`): the connector's tests
keep the fast APT démarche alone. Same (n, seed, today) → same dossiers.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sandbox.champs import PARIS, GeoAreaRecord, Rna, Rnf
from sandbox.demarche import Demarche
from sandbox.files import StoredFile
from sandbox.form import EVERY_CHAMP_FILE, load_form
from sandbox.generator import Timeline, history
from sandbox.people import FIRST_NAMES_F, FIRST_NAMES_M, LAST_NAMES, companies, email_for, phone, place
from sandbox.reference_data import COMMUNES, COUNTRIES, EPCIS, region_of
from sandbox.store import TERMINAL_STATES, AvisRecord, DossierRecord, MessageRecord, Store

FIRST_NUMBER = 200_001
PROJECTS = (
    "Atelier de réparation de vélos",
    "Festival de quartier",
    "Jardin partagé des Lilas",
    "Soutien scolaire du mercredi",
    "Tournoi de football inclusif",
    "Chorale intergénérationnelle",
    "Ressourcerie solidaire",
    "Ciné-club en plein air",
)
ACTIONS = ("Atelier d'initiation", "Journée portes ouvertes", "Sortie découverte", "Stage d'été", "Exposition")
QUESTIONS = (
    "Le budget prévisionnel vous paraît-il réaliste ?",
    "Le projet relève-t-il de la politique de la ville ?",
    "Quel est votre avis sur l'ancrage local de l'association ?",
)
ANSWERS = (
    "Oui, les coûts sont cohérents avec des projets comparables.",
    "Avis favorable sous réserve d'un bilan.",
    "L'association est connue du service et active depuis plusieurs années.",
)
ROME_CODES = (
    "K1202 – Éducation de jeunes enfants",
    "G1202 – Animation d'activités culturelles ou ludiques",
    "K2111 – Formation professionnelle",
)
LEGAL_FORM = "Association déclarée"
MOTIVATIONS = {
    "refuse": "Le projet ne relève pas des priorités de l'appel à projets de cette année.",
    "sans_suite": "L'association a retiré sa demande.",
    "accepte": None,
}


def add_every_champ_demarche(store: Store, n: int, seed: int = 1, *, today: date | None = None) -> Demarche:
    """The démarche of every champ type, with n generated dossiers, in `store`."""
    today = today or datetime.now(UTC).date()
    created_at = datetime.combine(today - timedelta(days=400), time(9), tzinfo=UTC)
    form = load_form(f"every-champ-{seed}", EVERY_CHAMP_FILE)
    demarche = store.add_demarche(form, groupe_labels=["Vie associative"], created_at=created_at)
    demarche.for_individual = True
    rng = random.Random(f"every-champ:{seed}")
    limit = datetime.combine(today, time(0), tzinfo=UTC) - timedelta(hours=1)
    first = max([FIRST_NUMBER - 1, *store.dossiers]) + 1
    records: list[DossierRecord] = []
    for index in range(n):
        records.append(_dossier(rng, store, demarche, first + index, limit, history(n), records))
    store.load_dossiers(records)
    return demarche


def _dossier(
    rng: random.Random, store: Store, demarche: Demarche, number: int, limit: datetime, span: timedelta, earlier: list
) -> DossierRecord:
    # As far back as the APT démarche's n dossiers (sandbox/generator.py): some decided, some waiting at each step.
    depose_at = limit - timedelta(seconds=rng.uniform(3600, span.total_seconds()))
    groupe = demarche.groupes[0]
    agent = groupe.instructeurs[-1]
    timeline = Timeline(rng, depose_at, limit, agent.email)
    values = _values(rng, depose_at, earlier)
    record = DossierRecord(
        number=number,
        demarche=demarche.number,
        revision=len(demarche.revisions) - 1,
        state=timeline.state,
        depose_at=depose_at,
        groupe=groupe.number,
        usager_email=values["email"],
        values=values,
        en_instruction_at=timeline.en_instruction_at,
        processed_at=timeline.processed_at,
        motivation=timeline.motivation,
        traitements=timeline.traitements,
        champs_updated_at=depose_at,
        connection="france_connect" if rng.random() < 0.2 else "password",
    )
    record.motivation = MOTIVATIONS.get(record.state)
    for traitement in record.traitements:
        traitement.revision = record.revision
        if traitement.state in TERMINAL_STATES:
            traitement.motivation = record.motivation
    if record.state != "en_construction":
        record.followers = [agent.number]
        record.annotations = _annotations(rng, record)
        record.annotations_updated_at = record.en_instruction_at
    if record.state == "refuse" and rng.random() < 0.5:
        record.justificatif = StoredFile("courrier-de-refus.pdf", "application/pdf", rng.randint(40_000, 300_000))
    _messages(rng, store, record, timeline, agent.email)
    _avis(rng, store, record, agent.email)
    record.updated_at = max(
        [timeline.last, record.annotations_updated_at or timeline.last]
        + [m.created_at for m in record.messages]
        + [a.answered_at or a.asked_at for a in record.avis]
    )
    return record


def _person(rng):
    civilite = rng.choice(("M", "Mme"))
    first = rng.choice(FIRST_NAMES_M if civilite == "M" else FIRST_NAMES_F)
    return civilite, first, rng.choice(LAST_NAMES).replace("<b>", "").replace("</b>", "")


def _values(rng: random.Random, depose_at: datetime, earlier: list) -> dict:
    civilite, prenom, nom = _person(rng)
    seat = place(rng)
    commune = rng.choice([c for c in COMMUNES if region_of(c.departement)])
    epci = next((e for e in EPCIS if e.departement == commune.departement), None)
    association = companies(rng, 1)[0]._replace(forme_juridique=LEGAL_FORM, place=seat)
    project = rng.choice(PROJECTS)
    start = depose_at.date() + timedelta(days=rng.randint(20, 120))
    options = ["Culture", "Sport", "Solidarité", "Environnement", "Éducation"]
    domaines = {
        "Culture": ("Musique", "Théâtre", "Arts plastiques"),
        "Sport": ("Football", "Natation"),
        "Environnement": ("Jardins partagés", "Réemploi"),
    }
    primary = rng.choice(list(domaines))
    values = {
        "civilite": civilite,
        "nom": nom,
        "prenom": prenom,
        "email": email_for(rng, prenom, nom),
        "telephone": phone(rng) if rng.random() < 0.8 else None,
        "titre_identite": True,
        "association_rna": Rna(
            f"W{rng.randint(10**8, 10**9 - 1)}",
            f"Association {project.lower()}",
            f"Porter le projet « {project} »",
            seat,
            (depose_at.date() - timedelta(days=rng.randint(400, 6000))).isoformat(),
        ),
        "association_siret": association,
        "fondation_rnf": Rnf(
            f"0{rng.randint(10, 95)}-FDD-{rng.randint(1, 999):05d}-01", "Fondation pour la vie locale", place(rng)
        )
        if rng.random() < 0.3
        else None,
        "adresse_siege": seat,
        "iban": _iban(rng),
        "intitule": project,
        "description_projet": f"{project} : des rendez-vous réguliers ouverts à tous les habitants, animés par "
        f"des bénévoles de l'association.",
        "thematique": rng.choice(options) if rng.random() < 0.95 else "Patrimoine",  # the "Autre" answer
        "publics": tuple(
            rng.sample(
                ["Enfants", "Jeunes", "Familles", "Personnes âgées", "Personnes en situation de handicap"],
                rng.randint(1, 3),
            )
        ),
        "domaine": (primary, rng.choice(domaines[primary])),
        "commune_projet": commune,
        "departement_projet": commune.departement,
        "region_projet": region_of(commune.departement),
        "epci_projet": epci,
        "pays_partenaire": rng.choice(list(COUNTRIES)) if rng.random() < 0.3 else None,
        "localisation": _areas(rng, commune),
        "date_debut": start.isoformat(),
        "rendez_vous": datetime.combine(start - timedelta(days=10), time(rng.choice((9, 10, 14, 16)), 30), PARIS)
        if rng.random() < 0.6
        else None,
        "participants": rng.randint(15, 400),
        "benevoles": rng.randint(2, 40),
        "montant_demande": round(rng.uniform(800, 15000), 2),
        "premier_financement": not earlier or rng.random() < 0.7,
        "reference_interne": "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3))
        + f"-{rng.randint(1000, 9999)}",
        "actions": [
            (
                f"{rng.randint(10**8, 10**9 - 1)}",
                {
                    "action_intitule": rng.choice(ACTIONS),
                    "action_date": (start + timedelta(days=rng.randint(0, 90))).isoformat()
                    if rng.random() < 0.8
                    else None,
                    "action_cout": round(rng.uniform(100, 3000), 2),
                },
            )
            for _ in range(rng.randint(1, 3))
        ],
        "etablissement_scolaire": f"0{rng.randint(10, 95)}{rng.randint(1000, 9999)}{rng.choice('ABCDEFGH')}"
        if rng.random() < 0.3
        else None,
        "engagement_juridique": f"21{rng.randint(10**7, 10**8 - 1)}" if rng.random() < 0.3 else None,
        "quotient_familial": f"{rng.randint(10**6, 10**7 - 1)} ({commune.postal_code})" if rng.random() < 0.2 else None,
        "avis_imposition": f"{rng.randint(10**12, 10**13 - 1)} ({depose_at.year - 1})" if rng.random() < 0.2 else None,
        "situation_france_travail": f"Inscrit depuis le {(depose_at.date() - timedelta(days=200)):%d/%m/%Y}"
        if rng.random() < 0.15
        else None,
        "statut_etudiant": "Inscrit en licence à l'université" if rng.random() < 0.15 else None,
        "accreditation_jop": f"{rng.randint(10**6, 10**7 - 1)} – {date(1990, 5, 12):%d/%m/%Y}"
        if rng.random() < 0.1
        else None,
        "code_rome": rng.choice(ROME_CODES) if rng.random() < 0.4 else None,
        "budget": (
            StoredFile(
                "budget-previsionnel.xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                rng.randint(20_000, 200_000),
            ),
        ),
        "attestation_honneur": True,
    }
    if earlier and not values["premier_financement"]:
        values["dossier_precedent"] = rng.choice(earlier).number
    return values


def _iban(rng: random.Random) -> str:
    """A French IBAN of valid shape and check digits, grouped by four as people type it."""
    bank, branch = rng.randint(10000, 99999), rng.randint(10000, 99999)
    bban = f"{bank}{branch}{rng.randint(10**10, 10**11 - 1)}{rng.randint(10, 97)}"
    digits = "".join(str(int(c, 36)) for c in bban + "FR00")
    check = 98 - int(digits) % 97
    iban = f"FR{check:02d}{bban}"
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def _areas(rng: random.Random, commune) -> tuple:
    lon, lat = 2.35 + rng.uniform(-0.05, 0.05), 48.85 + rng.uniform(-0.05, 0.05)
    square = [[[lon, lat], [lon + 0.002, lat], [lon + 0.002, lat + 0.001], [lon, lat + 0.001], [lon, lat]]]
    areas = [
        GeoAreaRecord(rng.randint(1, 10**6), "selection_utilisateur", "Lieu principal des activités", "Polygon", square)
    ]
    if rng.random() < 0.5:
        parcel = (
            commune.insee,
            "000",
            rng.choice(("AB", "AC", "BK")),
            f"{rng.randint(1, 400):04d}",
            str(rng.randint(200, 4000)),
        )
        areas.append(
            GeoAreaRecord(
                rng.randint(1, 10**6), "cadastre", f"Parcelle {parcel[2]} {parcel[3]}", "Polygon", square, parcel
            )
        )
    return tuple(areas)


def _annotations(rng: random.Random, record: DossierRecord) -> dict:
    annotations: dict[str, Any] = {
        "agent_referent": rng.choice(("M. Durand", "Mme Petit", "Mme Roux")),
        "eligible": rng.random() < 0.8,
        "priorite": rng.choice(("Haute", "Moyenne", "Basse")),
        "criteres": tuple(
            rng.sample(["Utilité sociale", "Ancrage local", "Budget équilibré", "Partenariats"], rng.randint(1, 3))
        ),
    }
    if record.state not in TERMINAL_STATES:
        return annotations
    # The Timeline dated both steps of a decided dossier.
    assert record.processed_at is not None and record.en_instruction_at is not None
    annotations.update(
        avis_service="Dossier complet, projet cohérent avec les priorités du service.",
        contact_service="vie-associative@example.gouv.fr",
        visite_faite=rng.random() < 0.5,
        date_commission=record.processed_at.date().isoformat(),
        visite_le=record.en_instruction_at + timedelta(days=3),
        rang=rng.randint(1, 30),
    )
    if record.state == "accepte":
        granted = round(record.values["montant_demande"] * rng.choice((1, 0.8, 0.5)), 2)
        annotations["montant_accorde"] = granted
        annotations["versements"] = [
            (
                f"{record.number}1",
                {"versement_date": record.processed_at.date().isoformat(), "versement_montant": granted},
            )
        ]
    return annotations


def _messages(rng, store: Store, record: DossierRecord, timeline: Timeline, agent_email: str) -> None:
    def add(email, body, at, **extra):
        if at < timeline.limit:
            record.messages.append(MessageRecord(store.next_id("Commentaire"), email, body, at, **extra))

    add(
        record.usager_email,
        "Bonjour, vous trouverez le budget détaillé en pièce jointe. Cordialement.",
        record.depose_at + timedelta(hours=rng.uniform(2, 48)),
        attachments=(StoredFile("budget-detaille.pdf", "application/pdf", rng.randint(30_000, 400_000)),),
    )
    if record.state == "en_construction" and rng.random() < 0.3:
        add(
            agent_email,
            "Bonjour, merci de préciser le nombre de bénévoles mobilisés.",
            record.depose_at + timedelta(days=rng.uniform(1, 5)),
            correction="incomplete",
        )
    if timeline.en_instruction_at:
        add(
            "contact@demarche.numerique.gouv.fr",
            f"<p>[Votre dossier nº {record.number} va être examiné]</p>",
            timeline.en_instruction_at,
        )
    record.messages.sort(key=lambda m: m.created_at)


def _avis(rng, store: Store, record: DossierRecord, agent_email: str) -> None:
    if record.state == "en_construction" or rng.random() > 0.4:
        return
    assert record.en_instruction_at is not None  # the Timeline dated the instruction of a dossier past it
    asked = record.en_instruction_at + timedelta(hours=rng.uniform(1, 48))
    answered = asked + timedelta(days=rng.uniform(1, 10))
    index = rng.randrange(len(QUESTIONS))
    record.avis.append(
        AvisRecord(
            store.next_id("Avis"),
            QUESTIONS[index],
            agent_email,
            f"expert.{rng.randint(1, 9)}@example.gouv.fr",
            asked,
            answer=ANSWERS[index] if answered < (record.processed_at or answered + timedelta(days=1)) else None,
            answered_at=answered if answered < (record.processed_at or answered + timedelta(days=1)) else None,
            question_label="Recommandez-vous un financement ?",
            question_answer=rng.random() < 0.7,
            attachments=(StoredFile("note-expert.pdf", "application/pdf", rng.randint(20_000, 90_000)),)
            if rng.random() < 0.3
            else (),
        )
    )
