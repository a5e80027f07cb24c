"""Regulated professions from the job title: the table loads, is validated, and matches as documented.

RULES.md: "regulated profession (expert-comptable, avocat, commissaire aux comptes, security agent…) |
attestation of the professional order or qualification certificate". The job titles below were compiled
with the table (data-12): each positive names its profession, each negative (common student jobs, the
sandbox's among them) names none.
"""

from __future__ import annotations

import re

import pytest

from mappings.procedure import DefinitionError
from mappings.professions import PROFESSIONS_FILE, default_professions, load_professions, normalise_title, profession_of

POSITIVE = {
    "Assistant expert-comptable": "expert_comptable",  # project sandbox REGULATED_JOBS
    "Expert-comptable stagiaire": "expert_comptable",
    "Commissaire aux comptes junior": "commissaire_aux_comptes",
    "Élève-avocat": "avocat",
    "Avocat collaborateur": "avocat",
    "Notaire stagiaire": "notaire",
    "Commissaire de justice stagiaire": "commissaire_de_justice",
    "Huissier de justice": "commissaire_de_justice",
    "Architecte DPLG": "architecte",
    "Géomètre-expert stagiaire": "geometre_expert",
    "Médecin généraliste remplaçant": "medecin",
    "Pharmacien adjoint": "pharmacien",
    "Préparatrice en pharmacie": "preparateur_pharmacie",
    "Chirurgien-dentiste": "chirurgien_dentiste",
    "Assistante dentaire": "assistant_dentaire",
    "Sage-femme": "sage_femme",
    "Infirmière de nuit": "infirmier",
    "Aide-soignante": "aide_soignant",
    "Auxiliaire de puériculture": "auxiliaire_puericulture",
    "Ambulancier": "ambulancier",
    "Masseur-kinésithérapeute": "masseur_kinesitherapeute",
    "Opticienne": "opticien_lunetier",
    "Psychologue clinicienne": "psychologue",
    "Vétérinaire": "veterinaire",
    "Agent de sécurité": "agent_prive_securite",  # project sandbox REGULATED_JOBS
    "Agent de sûreté aéroportuaire": "agent_prive_securite",
    "Vigile": "agent_prive_securite",
    "Agent cynophile": "agent_prive_securite",
    "Rondier intervenant": "agent_prive_securite",
    "Agent SSIAP 1": "agent_prive_securite",
    "Agent de sécurité incendie": "agent_prive_securite",
    "Détective privé": "agent_recherches_privees",
    "Moniteur d'auto-école": "enseignant_conduite",
    "Enseignant de la conduite et de la sécurité routière": "enseignant_conduite",
    "Chauffeur de taxi": "taxi_vtc",
    "Chauffeur VTC": "taxi_vtc",
    "Conducteur de bus": "conducteur_routier",
    "Négociateur immobilier": "agent_immobilier",
    "Agent immobilier": "agent_immobilier",
    "Guide-conférencière": "guide_conferencier",
    "Assistante maternelle": "assistant_maternel",
    "Assistante sociale": "assistant_service_social",
    "Éducateur sportif": "educateur_sportif",
    "Coach sportif": "educateur_sportif",
    "Moniteur de ski": "educateur_sportif",
    "Entraîneur de football": "educateur_sportif",
    "Maître-nageur sauveteur": "surveillant_baignade",
    "Nageur sauveteur (BNSSA)": "surveillant_baignade",
    "Professeur de danse classique": "professeur_danse",
    "Orthophoniste": "orthophoniste",
    "Ergothérapeute": "ergotherapeute",
    "Manipulateur en électroradiologie médicale": "manipulateur_electroradiologie",
}

NEGATIVE = [
    # project sandbox JOBS (sandbox/people.py)
    "Serveur",
    "Équipier polyvalent",
    "Vendeur",
    "Préparateur de commandes",
    "Agent d'accueil",
    "Garde d'enfants",
    "Assistant de recherche",
    "Livreur",
    "Traducteur",
    "Caissier",
    "Développeur web",
    "Équipier de restauration",
    "Employé de libre-service",
    "Agent d'entretien",
    "Assistant administratif",
    "Réceptionniste de nuit",
    "Apprenti développeur",
    "Apprenti chargé de communication",
    "Apprenti comptable",
    "Chargé de clientèle en alternance",
    "Technicien réseaux en alternance",
    "Doctorant contractuel",
    "Ingénieur doctorant CIFRE",
    "Attaché temporaire d'enseignement et de recherche",
    "Interne en pharmacie",
    "Interne en médecine générale",
    "Mannequin",
    "Comédien",
    "Danseuse",
    # other common student jobs
    "Serveuse",
    "Barman",
    "Barista",
    "Plongeur",
    "Commis de cuisine",
    "Cuisinier",
    "Hôte de caisse",
    "Caissière",
    "Vendeuse",
    "Conseiller de vente",
    "Conseillère clientèle",
    "Téléconseiller",
    "Employé polyvalent",
    "Magasinier",
    "Manutentionnaire",
    "Cariste",
    "Agent de quai",
    "Agent de propreté",
    "Agent de nettoyage",
    "Agent de restauration",
    "Agent administratif",
    "Assistante de direction",
    "Secrétaire",
    "Veilleur de nuit",
    "Livreur à vélo",
    "Coursier",
    "Chauffeur livreur",
    "Baby-sitter",
    "Nounou",
    "Auxiliaire parentale",
    "Aide aux devoirs",
    "Professeur particulier",
    "Soutien scolaire",
    "Animateur périscolaire",
    "Animateur de centre de loisirs",
    "Moniteur de colonie de vacances",
    "Surveillant d'externat",
    "Assistant d'éducation",
    "Surveillant de cantine",
    "Interprète",
    "Architecte logiciel",
    "Architecte cloud",
    "Ingénieur sécurité informatique",
    "Analyste cybersécurité",
    "Data analyst",
    "Stagiaire",
    "Assistant comptable",
    "Aide-comptable",
    "Comptable",
    "Assistant juridique",
    "Juriste",
    "Assistante juridique en cabinet d'avocats",
    "Clerc de notaire",
    "Assistante vétérinaire",
    "Auxiliaire spécialisée vétérinaire",
    "Agent d'accueil en clinique vétérinaire",
    "Secrétaire médicale",
    "Assistante médicale",
    "Assistante en médecine du travail",
    "Étudiant en médecine",
    "Vendeur en pharmacie",
    "Conseillère en parapharmacie",
    "Vendeur en optique",
    "Conseiller en assurance",
    "Gestionnaire de paie",
    "Community manager",
    "Hôtesse d'accueil",
    "Steward",
    "Agent d'escale",
    "Agent de piste",
    "Guide touristique",
    "Accompagnateur de tourisme",
    "Animateur touristique",
    "Agent de voyages",
    "Vendangeur",
    "Ouvrier agricole",
    "Conducteur de ligne de production",
    "Conducteur de travaux",
    "Conducteur d'engins",
    "Moniteur éducateur",
    "Éducateur spécialisé",
    "Assistante de vie",
    "Aide à domicile",
    "Assistante d'agence immobilière",
    "Professeur de piano",
    "Professeur de danse hip-hop",
    "Agent de surveillance de la voie publique",
    "Taxidermiste",
    "Opérateur de saisie",
    "Chargé de sécurité sociale",
    "Responsable qualité hygiène sécurité environnement",
]


@pytest.mark.parametrize("title, key", sorted(POSITIVE.items()))
def test_a_regulated_job_title_names_its_profession(title, key):
    assert profession_of(title, default_professions()).key == key


@pytest.mark.parametrize("title", NEGATIVE)
def test_a_common_student_job_names_no_profession(title):
    assert profession_of(title, default_professions()) is None


def test_titles_are_normalised_before_matching():
    assert normalise_title("  Moniteur d'auto-école ") == "moniteur d auto ecole"
    assert profession_of("MAÎTRE-NAGEUR", default_professions()).key == "surveillant_baignade"
    assert profession_of(None, default_professions()) is None and profession_of("", default_professions()) is None


def test_the_shipped_table_is_the_open_list_of_the_sources():
    keys = {p.key for p in default_professions()}
    assert {
        "expert_comptable",
        "agent_prive_securite",
        "avocat",
        "notaire",
        "commissaire_aux_comptes",
        "architecte",
        "medecin",
    } <= keys and len(keys) == 43


@pytest.mark.parametrize(
    "entry, message",
    [
        (
            '- {key: x, label: "X", keywords: ["Expert-Comptable"]}',
            "line 2: x.keywords 'Expert-Comptable' is not normalised",
        ),
        ('- {key: x, label: "X", keywords: ["agent"]}', "line 2: x.keywords 'agent' is a generic word"),
        ('- {key: x, label: "X", keywords: []}', "line 2: x.keywords must be a list of at least one keyword"),
        (
            '- {key: x, label: "X", keywords: ["vigile"], exclude: ["Vigile de nuit"]}',
            "x.exclude 'Vigile de nuit' is not normalised",
        ),
        ('- {key: x, label: "X", keywords: ["vigile"], note: "?"}', "unknown field(s) ['note']"),
        (
            '- {key: x, label: "X", keywords: ["vigile"]}\n- {key: x, label: "Y", keywords: ["rondier"]}',
            "line 3: key 'x' is listed twice",
        ),
    ],
)
def test_a_broken_table_is_refused_naming_file_and_line(tmp_path, entry, message):
    path = tmp_path / "regulated_professions.yaml"
    path.write_text("# comment\n" + entry + "\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match=re.escape(message)) as raised:
        load_professions(path)
    assert str(raised.value).startswith("regulated_professions.yaml line ")


def test_the_shipped_file_loads():
    assert load_professions(PROFESSIONS_FILE) == default_professions()
