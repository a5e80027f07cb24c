"""The student's cursus for the sandbox's dossiers: an establishment, the diploma prepared and the year of study,
plausible for the contract (a doctorate for a CIFRE, a DES for an interne, a course in alternance for an
apprentice) and for the answer on a master's or a grande école. Establishments are fictional.

Drawn from a generator of its own, seeded by the dossier, so that adding the cursus changed no other value of
any seed's dossiers."""

from __future__ import annotations

import random

YEARS = ("1re année", "2e année", "3e année", "4e année", "5e année ou au-delà")
CITIES = (
    "Lyon",
    "Lille",
    "Bordeaux",
    "Toulouse",
    "Strasbourg",
    "Montpellier",
    "Rennes",
    "Nantes",
    "Grenoble",
    "Rouen",
    "Nancy",
    "Clermont-Ferrand",
    "Dijon",
    "Tours",
    "Paris-Est",
    "Paris-Rive-Gauche",
)
FIELDS = (
    "informatique",
    "économie",
    "gestion",
    "droit",
    "chimie",
    "mathématiques appliquées",
    "biologie",
    "lettres modernes",
    "commerce international",
    "génie civil",
    "sciences politiques",
    "physique",
)
SPECIALTIES = (
    "médecine générale",
    "pédiatrie",
    "anesthésie-réanimation",
    "pharmacie hospitalière",
    "chirurgie orale",
    "psychiatrie",
)
DOCTORAL = ("Contrat doctoral", "Convention CIFRE", "Contrat d'ATER")
ALTERNANCE = ("Contrat d'apprentissage", "Contrat de professionnalisation")
INTERNE = "Interne en médecine, pharmacie ou odontologie"


def _year(rng: random.Random, first: int, last: int) -> str:
    return YEARS[rng.randint(first, last) - 1]


def cursus_for(key: str, contract_type: str, master_or_cge: bool) -> dict:
    """`key`: what tells the dossier apart (its titre number), so the same dossier always gets the same cursus."""
    rng = random.Random(f"sandbox-cursus:{key}")
    city, field = rng.choice(CITIES), rng.choice(FIELDS)
    if contract_type in DOCTORAL:
        school, diploma = f"Université de {city}", f"Doctorat de {field}"
        year = _year(rng, 1, 4) if contract_type != "Contrat d'ATER" else _year(rng, 3, 5)
    elif contract_type == INTERNE:
        school = f"Faculté de santé de l'université de {city}"
        diploma, year = f"Diplôme d'études spécialisées (DES) de {rng.choice(SPECIALTIES)}", _year(rng, 1, 4)
    elif master_or_cge:
        school, diploma, year = rng.choice(
            (
                (f"Université de {city}", f"Master {field}", _year(rng, 1, 2)),
                (f"École d'ingénieurs de {city}", "Diplôme d'ingénieur", _year(rng, 3, 5)),
                (f"École de commerce de {city}", "Programme Grande École", _year(rng, 1, 3)),
            )
        )
    elif contract_type in ALTERNANCE:
        school, diploma, year = rng.choice(
            (
                (f"IUT de {city}", f"Licence professionnelle {field}", _year(rng, 3, 3)),
                (f"Lycée Jean-Moulin de {city}", f"BTS {field}", _year(rng, 1, 2)),
                (f"CFA de l'université de {city}", f"BUT {field}", _year(rng, 2, 3)),
            )
        )
    else:
        school, diploma, year = rng.choice(
            (
                (f"Université de {city}", f"Licence {field}", _year(rng, 1, 3)),
                (f"IUT de {city}", f"BUT {field}", _year(rng, 1, 3)),
                (f"Lycée Jean-Moulin de {city}", f"BTS {field}", _year(rng, 1, 2)),
            )
        )
    return {"cursus_etablissement": school, "cursus_diplome": diploma, "cursus_annee": year}
