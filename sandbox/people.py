"""Synthetic people and employers for the generator. Names are combined from
common first and last names; no generated person exists. E-mails use the
reserved example.* domains.
"""

from __future__ import annotations

import random
import unicodedata

from sandbox.champs import Etablissement
from sandbox.reference_data import COMMUNES, OUT_OF_SCOPE_DEPARTEMENTS, STREETS, Place

# Employers and work places of a procedure for metropolitan France and its départements d'outre-mer: none in
# the collectivities it leaves out (only an out_of_scope_territory dossier has its student there).
IN_SCOPE_COMMUNES = [c for c in COMMUNES if c.departement not in OUT_OF_SCOPE_DEPARTEMENTS]

FIRST_NAMES_F = [
    "Amina",
    "Yasmine",
    "Fatima-Zahra",
    "Inès",
    "Chloé",
    "Mei",
    "Xiaoling",
    "Priya",
    "Aïcha",
    "Mariam",
    "Nour",
    "Thi Huong",
    "Ana Clara",
    "Lina",
    "Sofia",
    "Aminata",
    "Fatou",
    "Awa",
    "Hélène",
    "Zoé",
    "Ngozi",
    "Leïla",
    "Salma",
    "Yuna",
    "Camila",
    "Maëlle",
    "Rania",
    "Ikram",
    "Ji-woo",
    "Olga",
]
FIRST_NAMES_M = [
    "Mohamed",
    "Yacine",
    "Karim",
    "Ahmed",
    "Youssef",
    "Wei",
    "Jun",
    "Arjun",
    "Rahul",
    "Moussa",
    "Mamadou",
    "Ibrahima",
    "Koffi",
    "Jean-Baptiste",
    "Thanh",
    "Minh",
    "Lucas",
    "Gabriel",
    "Rayan",
    "Anis",
    "Omar",
    "Samuel",
    "Élie",
    "Jérôme",
    "Hamza",
    "Bilal",
    "Adrien",
    "Tariq",
    "Joaquín",
    "Seydou",
]
LAST_NAMES = [
    "Benali",
    "Haddad",
    "Bouzid",
    "Saïdi",
    "Belkacem",
    "El Amrani",
    "Bennani",
    "Chraïbi",
    "Trabelsi",
    "Ben Salah",
    "Diop",
    "Ndiaye",
    "Fall",
    "Sow",
    "Wang",
    "Li",
    "Zhang",
    "Chen",
    "Sharma",
    "Patel",
    "Kouassi",
    "Konaté",
    "Traoré",
    "Mbappé-Ekotto",
    "Nguyen",
    "Tran",
    "Pham",
    "Da Silva",
    "Oliveira",
    "Haddad-Khoury",
    "N'Guessan",
    "O'Connor",
    "Smith",
    "Rodríguez",
    "Álvarez",
    "Kim",
    "Müller",
    "Dubois-Lefèvre",
    "D'Almeida",
    "Öztürk",
    "Rahimi",
    "Ramírez",
    "<b>Gras</b>",  # markup in a name: templates and the stats page must escape it
]
REPRESENTATIVE_LAST_NAMES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèbvre",
    "Michel",
    "Garcia",
    "Roux",
]
REPRESENTATIVE_FIRST_NAMES = [
    "Sophie",
    "Nathalie",
    "Isabelle",
    "Philippe",
    "Laurent",
    "Stéphane",
    "Céline",
    "Éric",
    "Valérie",
    "Olivier",
    "Sandrine",
    "François",
    "Aurélie",
    "Thierry",
]
BIRTH_PLACES = [
    "Alger",
    "Oran",
    "Constantine",
    "Casablanca",
    "Rabat",
    "Tunis",
    "Sfax",
    "Dakar",
    "Pékin",
    "Shanghai",
    "Bombay",
    "Abidjan",
    "Yaoundé",
    "Douala",
    "Hanoï",
    "Hô Chi Minh-Ville",
    "São Paulo",
    "Beyrouth",
    "New York",
    "Bogotá",
    "Istanbul",
    "Libreville",
    "Antananarivo",
    "Cotonou",
    "Téhéran",
]

COMPANY_PREFIXES = [
    "Boulangerie",
    "Restaurant",
    "Café",
    "Société",
    "Laboratoire",
    "Cabinet",
    "Hôtel",
    "Librairie",
    "Transports",
    "Atelier",
    "Groupe",
    "Agence",
    "Institut",
    "Clinique",
    "Studio",
]
COMPANY_SUFFIXES = [
    "du Parc",
    "des Lilas",
    "Saint-Michel",
    "de la Gare",
    "Horizon",
    "Lumière",
    "Numérique",
    "Azur",
    "des Deux Rives",
    "Océane",
    "Montagne",
    "Étoile",
    "Voltaire",
    "Confluence",
    "Atlas",
]
LEGAL_FORMS = ["SAS", "SARL", "SA", "EURL", "SASU", "Association déclarée", "Établissement public administratif"]
ACTIVITIES = [
    ("5610A", "Restauration traditionnelle"),
    ("4711D", "Supermarchés"),
    ("6201Z", "Programmation informatique"),
    ("8559A", "Formation continue d'adultes"),
    ("7112B", "Ingénierie, études techniques"),
    ("8610Z", "Activités hospitalières"),
    ("8542Z", "Enseignement supérieur"),
    ("7022Z", "Conseil pour les affaires et autres conseils de gestion"),
    ("5510Z", "Hôtels et hébergement similaire"),
    ("5320Z", "Autres activités de poste et de courrier"),
    ("7820Z", "Activités des agences de travail temporaire"),
    ("9001Z", "Arts du spectacle vivant"),
    ("7430Z", "Traduction et interprétation"),
    ("6920Z", "Activités comptables"),
    ("8010Z", "Activités de sécurité privée"),
    ("7219Z", "Recherche-développement en autres sciences physiques et naturelles"),
]

JOBS = {
    "CDD": [
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
    ],
    "CDI": [
        "Développeur web",
        "Équipier de restauration",
        "Employé de libre-service",
        "Agent d'entretien",
        "Assistant administratif",
        "Réceptionniste de nuit",
    ],
    "Contrat d'apprentissage": ["Apprenti développeur", "Apprenti chargé de communication", "Apprenti comptable"],
    "Contrat de professionnalisation": ["Chargé de clientèle en alternance", "Technicien réseaux en alternance"],
    "Contrat doctoral": ["Doctorant contractuel"],
    "Convention CIFRE": ["Ingénieur doctorant CIFRE"],
    "Contrat d'ATER": ["Attaché temporaire d'enseignement et de recherche"],
    "Interne en médecine, pharmacie ou odontologie": ["Interne en pharmacie", "Interne en médecine générale"],
}
REGULATED_JOBS = ["Assistant expert-comptable", "Agent de sécurité"]
# Regulated professions an applicant may not think of as such (the sandbox's own examples, from the public
# lists: private security, lifeguards, nursing, VTC drivers, sports coaching).
REGULATED_JOBS_UNDECLARED = [
    "Vigile",
    "Maître-nageur sauveteur",
    "Infirmière de nuit",
    "Chauffeur VTC",
    "Coach sportif",
    "Agent de sûreté aéroportuaire",
]
SHOW_JOBS = ["Mannequin", "Comédien", "Danseuse"]


def ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(c if c.isalnum() else "-" for c in plain).strip("-").replace("--", "-") or "x"


def email_for(rng: random.Random, first: str, last: str) -> str:
    domain = rng.choice(("example.org", "example.com", "example.net"))
    return f"{ascii_slug(first)}.{ascii_slug(last)}{rng.randint(1, 99)}@{domain}"


def phone(rng: random.Random) -> str:
    return f"0{rng.choice('67')} " + " ".join(f"{rng.randint(0, 99):02d}" for _ in range(4))


def place(rng: random.Random, communes=IN_SCOPE_COMMUNES) -> Place:
    return Place(str(rng.randint(1, 120)), rng.choice(STREETS), rng.choice(communes))


# --- SIRET ---------------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _with_luhn_digit(payload: str) -> str:
    return next(payload + d for d in "0123456789" if luhn_valid(payload + d))


def valid_siret(rng: random.Random) -> str:
    siren = _with_luhn_digit(str(rng.randint(10_000_000, 99_999_999)))
    if siren.startswith("356000000"):  # La Poste, exempt from Luhn: never generated
        return valid_siret(rng)
    return _with_luhn_digit(siren + f"{rng.randint(1, 9999):04d}")


def invalid_siret(rng: random.Random) -> str:
    siret = valid_siret(rng)
    return siret[:-1] + str((int(siret[-1]) + rng.randint(1, 9)) % 10)


def companies(rng: random.Random, count: int) -> list[Etablissement]:
    out = []
    for _ in range(count):
        naf, libelle = rng.choice(ACTIVITIES)
        name = f"{rng.choice(COMPANY_PREFIXES)} {rng.choice(COMPANY_SUFFIXES)}"
        out.append(Etablissement(valid_siret(rng), name, naf, libelle, rng.choice(LEGAL_FORMS), place(rng)))
    return out


def aphp_etablissement(rng: random.Random) -> Etablissement:
    """One of the AP-HP's hospitals (SIREN 267 500 452), in Paris."""
    paris = [c for c in COMMUNES if c.departement == "75"]
    siret = _with_luhn_digit("267500452" + f"{rng.randint(1, 999):04d}")
    return Etablissement(
        siret,
        "Assistance publique – Hôpitaux de Paris",
        "8610Z",
        "Activités hospitalières",
        "Établissement public administratif",
        place(rng, paris),
    )
