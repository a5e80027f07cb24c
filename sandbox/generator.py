"""Deterministic synthetic APT dossiers for the sandbox.

`seeded_store(n, seed, today)` gives a store with démarche 1 and n dossiers
(about 1 % in the trash and 1 % permanently deleted). Each dossier carries one
`intent` (the shared contract with the completeness checks): it is built
complete, then at most one defect or one special case is applied, so its
expected outcome is unambiguous. Same (n, seed, today) → same data.

The generator knows what it generates on its own: the figures and document
lists below are the sandbox's reading of the public APT rules, never the
connector's rules files, so that a wrong rule in the connector shows up as
a dossier whose outcome disagrees with its intent.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from statistics import NormalDist

from sandbox.cursus import cursus_for
from sandbox.demarche import Demarche
from sandbox.files import StoredFile
from sandbox.form import Form, load_form
from sandbox.people import (
    BIRTH_PLACES,
    FIRST_NAMES_F,
    FIRST_NAMES_M,
    IN_SCOPE_COMMUNES,
    JOBS,
    LAST_NAMES,
    REGULATED_JOBS,
    REGULATED_JOBS_UNDECLARED,
    REPRESENTATIVE_FIRST_NAMES,
    REPRESENTATIVE_LAST_NAMES,
    SHOW_JOBS,
    aphp_etablissement,
    companies,
    email_for,
    invalid_siret,
    phone,
    place,
)
from sandbox.reference_data import (
    CEDEX_COMMUNES,
    COMMUNES,
    EXEMPT_NATIONALITIES,
    NATIONALITY_WEIGHTS,
    OUT_OF_SCOPE_DEPARTEMENTS,
    SHARED_POSTAL_CODE_COMMUNES,
    departement_name,
)
from sandbox.store import DeletedRecord, DossierRecord, MessageRecord, Store, TraitementRecord

FIRST_DOSSIER_NUMBER = 100_001
INTENT_WEIGHTS = {
    "complete": 42,
    "missing_document": 6,
    "bad_file": 5,
    "inconsistent_dates": 4,
    "permit_expired_at_start": 4,
    "permit_ends_before_contract": 4,
    "invalid_siret": 4,
    "out_of_scope_nationality": 4,
    "malformed": 5,
    # Hours (a non-Algerian student works up to 964 h a titre year without an APT; an Algerian one needs
    # an APT from the first hour, up to 804 h).
    "hours_over_cap": 3,
    "under_threshold": 4,
    "under_threshold_per_titre_year": 2,
    "job_not_in_course": 3,
    "six_month_visa": 2,
    "contract_longer_than_apt": 2,
    # Apprenticeships of non-Algerian students: with the OPCO's validation an APT is probably not needed.
    "non_algerian_apprentice": 2,
    "opco_validated_apprenticeship": 2,
    # Documents of a case: an interne's three, an AP-HP interne (outside the procedure), an ATER's one of
    # three, and the six pages of a titre being renewed (convocation, old titre, récépissé, both sides).
    "interne_three_documents": 2,
    "aphp_interne": 2,
    "ater_any_document": 2,
    "renewal_set": 2,
    # A regulated profession the applicant did not declare, recognised by its job title.
    "regulated_by_title": 2,
    # Routing: a student and an établissement in a commune whose postal code another département shares,
    # an établissement with a CEDEX address (both without DS's département code), an overseas territory.
    # Overseas collectivities outside the procedure (987, 988): rare, and closed within days.
    "shared_postal_code": 2,
    "cedex_address": 2,
    "out_of_scope_territory": 1,
}
INTENTS = tuple(INTENT_WEIGHTS)
# Requests the procedure does not cover, which agents close without deciding on them.
OUT_OF_SCOPE_INTENTS = frozenset({"out_of_scope_territory"})
CONTRACT_WEIGHTS = {
    "CDD": 34,
    "CDI": 18,
    "Contrat d'apprentissage": 10,
    "Contrat de professionnalisation": 8,
    "Contrat doctoral": 8,
    "Convention CIFRE": 7,
    "Contrat d'ATER": 6,
    "Interne en médecine, pharmacie ou odontologie": 9,
}
CAPPED_CONTRACTS = ("CDD", "CDI")
APPRENTICESHIP = "Contrat d'apprentissage"
# How a dossier ends; whether it has ended by today follows from its delays (Timeline).
OUTCOME_WEIGHTS = {"accepte": 38, "refuse": 12, "sans_suite": 8}
# Days (median, σ of the log-normal, cap) from the deposit until an agent takes the dossier into instruction
# (the longer wait: the queue, and the applicant's corrections), then from there to the decision: decided within
# 2 to 8 weeks of the deposit for most, later for some (a busy month, a document asked again), never after 7 months.
QUEUE_DAYS, INSTRUCTION_DAYS = (18.0, 0.7, 120.0), (8.0, 0.6, 90.0)
# A service that receives about 1,000 dossiers a year: n dossiers are its last n / DEPOSITS_PER_DAY days, so that
# as many wait for a decision as such a service has waiting, whatever n; at least three months (a small sandbox
# has decisions as well as dossiers waiting), at most two years (the statistics' history).
DEPOSITS_PER_DAY, HISTORY_DAYS = 2.75, (90, 730)
# Dossiers nobody decides: forgotten in the queue or in instruction (a handful in 2,000).
STALLED_SHARE = 0.004
MOTIVATIONS = {
    "refuse": "Le contrat dépasse la durée de travail autorisée.",
    "sans_suite": "Demande sans objet : l'employeur a retiré son offre.",
    "accepte": None,
}
OUT_OF_SCOPE_MOTIVATION = "Demande hors du périmètre de la procédure : elle relève des autorités locales."
EMPLOYER_FILES, STUDENT_FILES = "L'employeur", "L'étudiant, mandaté par l'employeur"
FIRST_REQUEST, RENEWAL = "Première demande", "Renouvellement"
ALGERIAN = "DZ"
ALGERIAN_PERMIT, SIX_MONTH_VISA = "Certificat de résidence algérien étudiant", "Visa long séjour étudiant de 6 mois"
STUDENT_PERMITS = ("Carte de séjour étudiant", "Carte de séjour étudiant – programme de mobilité", "VLS-TS étudiant")
RECEPISSE = "Récépissé de demande de renouvellement"
INTERNE, ATER = "Interne en médecine, pharmacie ou odontologie", "Contrat d'ATER"
# The Assistance publique – Hôpitaux de Paris (SIREN 267 500 452): its internes are outside the procedure.
APHP_SIREN = "267500452"
# An ATER sends one of three documents besides the contract.
ATER_DOCUMENTS = ("arrete_nomination", "attestation_ater", "pv_installation")
# The sandbox's own reading of the hours rules: 60 % of 1,607 h a year for a non-Algerian student (a
# threshold), 50 % for an Algerian one (a cap); a 6-month visa counts pro rata.
STUDENT_THRESHOLD_HOURS, ALGERIAN_CAP_HOURS, SIX_MONTH_VISA_THRESHOLD_HOURS = 964, 804, 482


def _pieces_of(form: Form) -> tuple[tuple[str, ...], dict[str, dict]]:
    """The form's pièces justificatives: those always asked (required), and those asked in one case
    (its `asked_when`: champ → value)."""
    pieces = [d for d in form.champs if d.type == "piece_justificative"]
    return (tuple(d.key for d in pieces if d.required), {d.key: dict(d.asked_when) for d in pieces if d.asked_when})


# Read from the sandbox's own form (sandbox/demarche.yaml), whatever the ids of the démarche generated.
GENERAL_DOCUMENTS, CONDITIONAL_CASES = _pieces_of(load_form())
# The pièce that stands for a general document in a contract's case (a CIFRE's contract, an interne's four
# documents): a dossier left without a general document goes without this one too.
STANDS_FOR = {
    ("Convention CIFRE", "pj_contrat"): "pj_cifre",
    (INTERNE, "pj_contrat"): "pj_interne_recrutement",
    (INTERNE, "pj_inscription"): "pj_interne_dfms",
    (INTERNE, "pj_passeport"): "pj_interne_identite",
    (INTERNE, "pj_titre_sejour"): "pj_interne_identite",
}

GOOD_FILE_TYPES = (("pdf", "application/pdf"), ("jpg", "image/jpeg"), ("png", "image/png"))
OUT_OF_SCOPE_COMMUNES = [c for c in COMMUNES if c.departement in OUT_OF_SCOPE_DEPARTEMENTS]
# Île-de-France and the big cities weigh more, like the real traffic.
COMMUNE_WEIGHTS = [3 if c.departement in ("75", "92", "93", "94", "69", "13") else 1 for c in IN_SCOPE_COMMUNES]


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, 28))


@dataclass
class Plan:
    """Choices fixed before the dossier is drawn: its intent and the case it needs."""

    intent: str
    forced: dict = field(default_factory=dict)
    defect: str | None = None


def _plan(rng: random.Random, intent: str) -> Plan:
    plan = Plan(intent)
    if intent == "missing_document":
        # Half the time a conditional document, so each conditional rule is exercised.
        key = rng.choice(list(CONDITIONAL_CASES)) if rng.random() < 0.5 else rng.choice(list(GENERAL_DOCUMENTS))
        plan.forced.update(CONDITIONAL_CASES.get(key, {}))
        plan.defect = key
    elif intent == "bad_file":
        plan.defect = rng.choice(("zip", "too_big", "empty", "too_many"))
    elif intent == "hours_over_cap":
        plan.forced.update(contrat_type=rng.choice(CAPPED_CONTRACTS), nationalite=ALGERIAN)
    elif intent in ("under_threshold", "job_not_in_course"):
        plan.forced["contrat_type"] = rng.choice(CAPPED_CONTRACTS)
    elif intent in ("under_threshold_per_titre_year", "six_month_visa"):
        plan.forced["contrat_type"] = "CDD"
    elif intent in ("inconsistent_dates", "permit_ends_before_contract"):
        plan.forced["contrat_type"] = _contract_with_end(rng)
    elif intent == "contract_longer_than_apt":
        plan.forced["contrat_type"] = rng.choice(("Contrat doctoral", "Convention CIFRE", "CDD"))
    elif intent in ("non_algerian_apprentice", "opco_validated_apprenticeship"):
        plan.forced["contrat_type"] = APPRENTICESHIP
    elif intent in ("interne_three_documents", "aphp_interne"):
        plan.forced["contrat_type"] = INTERNE
    elif intent == "ater_any_document":
        plan.forced["contrat_type"] = ATER
    elif intent == "renewal_set":
        plan.forced["titre_type"] = RECEPISSE
    elif intent == "regulated_by_title":
        plan.forced.update(profession_reglementee=False, mannequin_spectacle=False)
    elif intent == "malformed":
        plan.defect = rng.choice(("impossible_date", "missing_champ", "extra_champ"))
    return plan


def _contract_with_end(rng):
    return rng.choice([c for c in CONTRACT_WEIGHTS if c != "CDI"])


# Cases that only exist for a non-Algerian student (the threshold, the OPCO rule).
NON_ALGERIAN_INTENTS = frozenset(
    {
        "under_threshold",
        "under_threshold_per_titre_year",
        "job_not_in_course",
        "six_month_visa",
        "non_algerian_apprentice",
        "opco_validated_apprenticeship",
    }
)


class DossierBuilder:
    """Draws the champ values of one dossier from its plan."""

    def __init__(self, rng: random.Random, employers, plan: Plan, depose_on: date, with_repetition: bool):
        self.rng, self.employers, self.plan, self.depose_on = rng, employers, plan, depose_on
        self.with_repetition = with_repetition
        self.values: dict = {}

    def forced(self, key, draw):
        return self.plan.forced[key] if key in self.plan.forced else draw()

    def build(self) -> dict:
        rng, intent = self.rng, self.plan.intent
        contract_type = self.forced("contrat_type", lambda: _weighted(rng, CONTRACT_WEIGHTS))
        if intent == "out_of_scope_nationality":
            nationality = rng.choice(EXEMPT_NATIONALITIES)
        elif intent in NON_ALGERIAN_INTENTS:
            nationality = rng.choice([c for c in NATIONALITY_WEIGHTS if c != ALGERIAN])
        else:
            nationality = self.forced("nationalite", lambda: _weighted(rng, NATIONALITY_WEIGHTS))
        self._student(nationality)
        self._employer(contract_type)
        self._contract(contract_type, nationality)
        self._permit(nationality)
        self._answers(contract_type, nationality)
        self.values.update(cursus_for(self.values["titre_numero"], contract_type, self.values["formation_master_cge"]))
        self._documents()
        self._apply_value_defect()
        return self.values

    def _student(self, nationality):
        rng, v = self.rng, self.values
        v["civilite"] = rng.choice(("M", "Mme"))
        v["prenom"] = rng.choice(FIRST_NAMES_M if v["civilite"] == "M" else FIRST_NAMES_F)
        v["nom"] = rng.choice(LAST_NAMES)
        age_days = rng.randint(19 * 365 + 5, 33 * 365)
        v["date_naissance"] = (self.depose_on - timedelta(days=age_days)).isoformat()
        v["lieu_naissance"] = rng.choice(BIRTH_PLACES)
        v["nationalite"] = nationality
        v["email_etudiant"] = email_for(rng, v["prenom"], v["nom"])
        v["telephone_etudiant"] = phone(rng) if rng.random() < 0.8 else None
        if self.plan.intent == "out_of_scope_territory":
            communes, weights = OUT_OF_SCOPE_COMMUNES, None
        elif self.plan.intent == "shared_postal_code":
            communes, weights = SHARED_POSTAL_CODE_COMMUNES, None
        else:
            communes, weights = IN_SCOPE_COMMUNES, COMMUNE_WEIGHTS
        v["adresse_etudiant"] = place(rng, rng.choices(communes, weights=weights, k=1))
        v["demande_type"] = self.forced("demande_type", lambda: RENEWAL if rng.random() < 0.25 else FIRST_REQUEST)
        v["apt_precedente_reference"] = (
            f"APT-{v['adresse_etudiant'].commune.departement}-{self.depose_on.year - 1}-{rng.randint(1, 99999):05d}"
            if v["demande_type"] == RENEWAL
            else None
        )
        v["titre_numero"] = f"{rng.randint(10**9, 10**10 - 1)}"
        v["titre_departement"] = v["adresse_etudiant"].commune.departement
        v["titre_prefecture"] = f"Préfecture {departement_name(v['titre_departement'])}" if rng.random() < 0.7 else None
        v["formation_master_cge"] = rng.random() < 0.5

    def _employer(self, contract_type):
        rng, v = self.rng, self.values
        v["depose_par"] = self.forced("depose_par", lambda: STUDENT_FILES if rng.random() < 0.4 else EMPLOYER_FILES)
        etablissement = rng.choice(self.employers)
        if self.plan.intent == "invalid_siret":
            etablissement = etablissement._replace(siret=invalid_siret(rng))
        elif self.plan.intent == "aphp_interne":
            etablissement = aphp_etablissement(rng)
        elif self.plan.intent in ("shared_postal_code", "cedex_address"):
            communes = SHARED_POSTAL_CODE_COMMUNES if self.plan.intent == "shared_postal_code" else CEDEX_COMMUNES
            etablissement = etablissement._replace(place=place(rng, communes), with_department_code=False)
        v["employeur_siret"] = etablissement
        v["employeur_nom"] = rng.choice(REPRESENTATIVE_LAST_NAMES)
        v["employeur_prenom"] = rng.choice(REPRESENTATIVE_FIRST_NAMES)
        v["employeur_email"] = email_for(rng, v["employeur_prenom"], v["employeur_nom"])
        v["employeur_telephone"] = phone(rng) if rng.random() < 0.7 else None
        v["profession_reglementee"] = self.forced("profession_reglementee", lambda: rng.random() < 0.05)
        v["mannequin_spectacle"] = self.forced("mannequin_spectacle", lambda: rng.random() < 0.03)
        if v["mannequin_spectacle"]:
            v["emploi_intitule"] = rng.choice(SHOW_JOBS)
        elif v["profession_reglementee"]:
            v["emploi_intitule"] = rng.choice(REGULATED_JOBS)
        elif self.plan.intent == "regulated_by_title":
            v["emploi_intitule"] = rng.choice(REGULATED_JOBS_UNDECLARED)
        else:
            v["emploi_intitule"] = rng.choice(JOBS[contract_type])
        v["lieu_travail"] = etablissement.place if rng.random() < 0.7 else place(rng)

    def _contract(self, contract_type, nationality):
        rng, v, intent = self.rng, self.values, self.plan.intent
        v["contrat_type"] = contract_type
        start = self.depose_on + timedelta(days=rng.randint(7, 60))
        months = self._months(contract_type, nationality)
        end = None if contract_type == "CDI" else _add_months(start, months) - timedelta(days=1)
        if intent == "inconsistent_dates":
            end = start - timedelta(days=rng.randint(1, 60))
        v["contrat_date_debut"], v["contrat_date_fin"] = start.isoformat(), end.isoformat() if end else None
        weekly = self._weekly_hours(contract_type, nationality)
        other_jobs = []
        if (
            self.with_repetition
            and contract_type in CAPPED_CONTRACTS
            and intent in ("complete", "under_threshold")
            and rng.random() < 0.15
        ):
            other = rng.randint(2, 4)
            weekly -= other
            other_jobs = [
                (
                    f"{rng.randint(10**9, 10**10 - 1)}",
                    {
                        "autre_employeur": f"{rng.choice(('Café', 'Librairie', 'Studio'))} "
                        f"{rng.choice(('Nord', 'Sud', 'Central'))}",
                        "autre_heures_semaine": float(other),
                    },
                )
            ]
        if self.with_repetition:
            v["autres_emplois"] = other_jobs
        if rng.random() < 0.7:
            v["heures_unite"], v["heures_nombre"] = "Par semaine", float(weekly)
        else:
            v["heures_unite"], v["heures_nombre"] = "Par mois", float(weekly * 4)
        v["salaire_brut_mensuel"] = round(weekly * 52 / 12 * rng.uniform(12.0, 22.0), 2)
        v["residence_un_an"] = (
            True if contract_type in (APPRENTICESHIP, "Contrat de professionnalisation") else rng.random() < 0.7
        )

    def _months(self, contract_type, nationality) -> int:
        intent = self.plan.intent
        if intent in ("hours_over_cap", "under_threshold_per_titre_year"):
            return 12
        if intent == "six_month_visa":
            return 5  # inside the visa's six months
        if intent == "contract_longer_than_apt":
            return self.rng.randint(15, 36)
        if contract_type in CAPPED_CONTRACTS and nationality != ALGERIAN and intent != "under_threshold":
            return self.rng.randint(9, 12)  # enough weeks to need an APT
        return self.rng.randint(3, 12)

    def _weekly_hours(self, contract_type, nationality) -> int:
        intent = self.plan.intent
        if nationality == ALGERIAN and contract_type == ATER:
            return 14  # the Algerian cap applies to an ATER too (728 h at most); no draw, the seeds stay as they were
        if contract_type not in CAPPED_CONTRACTS:
            return 35
        if intent == "hours_over_cap":
            return self.rng.randint(30, 35)
        if intent == "under_threshold_per_titre_year":
            return 24  # 1,251 h over 12 months, but under 964 h in each of the two titre years
        if intent == "under_threshold":
            return self.rng.randint(8, 15)  # at most 780 h in a year
        if nationality == ALGERIAN:
            return self.rng.randint(8, 14)  # at most 728 h: under the Algerian cap
        return self.rng.randint(30, 35)  # a non-Algerian student above the threshold: an APT is needed

    def _permit(self, nationality):
        rng, v, intent = self.rng, self.values, self.plan.intent
        start = date.fromisoformat(v["contrat_date_debut"])
        end = date.fromisoformat(v["contrat_date_fin"]) if v["contrat_date_fin"] else _add_months(start, 12)
        covered_until = max(start, end)
        if intent == "under_threshold_per_titre_year":
            permit_start = start - timedelta(days=rng.randint(100, 260))  # the contract spans two titre years
        elif intent == "six_month_visa":
            permit_start = start - timedelta(days=rng.randint(0, 15))
        elif v["contrat_type"] in CAPPED_CONTRACTS:
            # The contract's hours fall in the titre's first year: the year the threshold is judged on.
            permit_start = start - timedelta(days=rng.randint(0, 40))
        else:
            permit_start = start - timedelta(days=rng.randint(30, 300))
        expiry = covered_until + timedelta(days=rng.randint(15, 200))
        if intent == "permit_expired_at_start":
            expiry = start - timedelta(days=rng.randint(1, 90))
            permit_start = expiry - timedelta(days=365)
        elif intent == "permit_ends_before_contract":
            expiry = start + (end - start) // 2
        elif intent == "six_month_visa":
            expiry = _add_months(permit_start, 6) - timedelta(days=1)
        v["titre_date_debut"], v["titre_date_expiration"] = permit_start.isoformat(), expiry.isoformat()
        if "titre_type" in self.plan.forced:
            v["titre_type"] = self.plan.forced["titre_type"]
        elif nationality == ALGERIAN:
            v["titre_type"] = ALGERIAN_PERMIT
        elif intent == "six_month_visa":
            v["titre_type"] = SIX_MONTH_VISA
        elif v["demande_type"] == RENEWAL and rng.random() < 0.3:
            v["titre_type"] = RECEPISSE
        else:
            v["titre_type"] = rng.choice(STUDENT_PERMITS)

    def _answers(self, contract_type, nationality):
        """The yes/no questions whose answer decides a case: the job's link with the course, the OPCO."""
        rng, v, intent = self.rng, self.values, self.plan.intent
        above_threshold = (
            contract_type in CAPPED_CONTRACTS
            and nationality != ALGERIAN
            and intent not in ("under_threshold", "under_threshold_per_titre_year")
        )
        if intent == "job_not_in_course":
            v["emploi_lien_formation"] = False
        elif above_threshold:
            v["emploi_lien_formation"] = True
        else:
            v["emploi_lien_formation"] = rng.choice((True, False, None))
        if contract_type == APPRENTICESHIP:
            # A non-Algerian apprentice whose contract the OPCO validated probably needs no APT.
            v["apprentissage_valide_opco"] = (
                (intent == "opco_validated_apprenticeship") if nationality != ALGERIAN else rng.choice((True, False))
            )
        else:
            v["apprentissage_valide_opco"] = None

    def _documents(self):
        rng, v = self.rng, self.values
        required = required_documents(v)
        for key in required:
            v[key] = tuple(_good_file(rng, key, i) for i in range(rng.randint(1, 3)))
        if v["titre_type"] == RECEPISSE and self.plan.intent == "renewal_set":
            for key in ("pj_titre_sejour", "pj_convocation", "pj_ancien_titre"):  # six pages in all
                v[key] = tuple(_good_file(rng, key, i, side) for i, side in enumerate(("recto", "verso")))
        if "pj_ater" in required:
            name = rng.choice(ATER_DOCUMENTS)
            v["pj_ater"] = (_good_file(rng, "pj_ater", 0, name=name),)
        if self.plan.intent == "missing_document":
            v[self.plan.defect] = ()
            stand_in = STANDS_FOR.get((v["contrat_type"], self.plan.defect))
            if stand_in:
                v[stand_in] = ()
        elif self.plan.intent == "bad_file":
            key = rng.choice(required)
            v[key] = _bad_files(rng, key, self.plan.defect, v[key])

    def _apply_value_defect(self):
        if self.plan.defect == "impossible_date":
            self.values["date_naissance"] = self.values["date_naissance"][:4] + "-02-30"


def required_documents(values: dict) -> list[str]:
    """Keys of the pièces justificatives the form asks for with these values."""
    conditional = [
        key for key, case in CONDITIONAL_CASES.items() if all(values.get(k) == want for k, want in case.items())
    ]
    return list(GENERAL_DOCUMENTS) + conditional


def _good_file(rng, key, index, side: str | None = None, name: str | None = None) -> StoredFile:
    extension, content_type = rng.choice(GOOD_FILE_TYPES)
    stem = name or f"{key.removeprefix('pj_')}_{side or index + 1}"
    return StoredFile(f"{stem}.{extension}", content_type, rng.randint(40_000, 4_500_000))


def _bad_files(rng, key, defect, files) -> tuple:
    name = key.removeprefix("pj_")
    if defect == "zip":
        return (StoredFile(f"{name}.zip", "application/zip", rng.randint(100_000, 3_000_000)),)
    if defect == "too_big":
        return (StoredFile(f"{name}_scan.pdf", "application/pdf", rng.randint(10_500_000, 25_000_000)),)
    if defect == "empty":
        return (StoredFile(f"{name}.pdf", "application/pdf", 0),)
    return tuple(_good_file(rng, key, i) for i in range(4))


class Timeline:
    """State, dates and traitements of one dossier, all before `limit`: how long a service takes.

    Every dossier is headed for a decision (accepted, refused, closed) and reaches each step after its own
    delay: first the wait before an agent takes it into instruction, then the instruction. A dossier is still
    open today only when its deposit is more recent than its delays, so old open dossiers are the few
    forgotten ones (`STALLED_SHARE`), as in a service that keeps up, and the decisions of every month
    have the same delays. Four draws a dossier whatever happens, so a seed's later draws do not depend on
    today's date."""

    def __init__(self, rng, depose_at: datetime, limit: datetime, agent_email: str, out_of_scope: bool = False):
        self.rng, self.limit, self.agent_email = rng, limit, agent_email
        self.depose_at = depose_at
        stalled = rng.random() < STALLED_SHARE
        outcome = _weighted(rng, OUTCOME_WEIGHTS)
        queue, instruction = _days(rng.random(), QUEUE_DAYS), _days(rng.random(), INSTRUCTION_DAYS)
        if out_of_scope:  # an agent closes a request the procedure does not cover as soon as they read it
            outcome, queue, instruction = "sans_suite", queue / 6, 0.1 + instruction / 20
        self.traitements = [TraitementRecord("depose", "en_construction", depose_at)]
        self.en_instruction_at: datetime | None = None
        self.processed_at: datetime | None = None
        self.motivation: str | None = None
        self.state = "en_construction"
        self._step("en_instruction", "passe_en_instruction", depose_at + timedelta(days=queue))
        if stalled:  # forgotten in the queue or in instruction: no decision however old it is
            return
        event = "classe_sans_suite" if outcome == "sans_suite" else outcome
        motivation = OUT_OF_SCOPE_MOTIVATION if out_of_scope else MOTIVATIONS[outcome]
        if self.state == "en_instruction":
            self._step(outcome, event, depose_at + timedelta(days=queue + instruction), motivation)

    @property
    def last(self) -> datetime:
        return self.traitements[-1].at

    def _step(self, state, event, at: datetime, motivation: str | None = None) -> None:
        if at >= self.limit:  # not yet: the dossier stays where it is
            return
        self.traitements.append(TraitementRecord(event, state, at, self.agent_email, motivation))
        self.state = state
        if state == "en_instruction":
            self.en_instruction_at = at
        else:
            self.processed_at, self.motivation = at, motivation


def _days(quantile: float, spread: tuple[float, float, float]) -> float:
    """Days at `quantile` of a log-normal delay (median, σ), never more than its cap: one draw, no rejection."""
    median, sigma, cap = spread
    return min(cap, median * math.exp(sigma * NormalDist().inv_cdf(min(max(quantile, 1e-9), 1 - 1e-9))))


def history(n: int) -> timedelta:
    """How far back n dossiers go: the last n / DEPOSITS_PER_DAY days of the service, within HISTORY_DAYS."""
    low, high = HISTORY_DAYS
    return timedelta(days=min(high, max(low, n / DEPOSITS_PER_DAY)))


def generate(
    n: int,
    seed: int,
    today: date,
    demarche: Demarche,
    first_number: int = FIRST_DOSSIER_NUMBER,
    first_message_number: int = 0,
) -> tuple[list[DossierRecord], list[DeletedRecord]]:
    """n dossiers of `demarche` (about 1 % deleted, returned apart), deterministic for (n, seed, today).

    Dossier numbers start at `first_number`; give another démarche its own range.
    """
    rng = random.Random(seed)
    employers = companies(rng, max(20, min(400, n // 5)))
    limit = datetime.combine(today, time(0), tzinfo=UTC) - timedelta(hours=1)
    period = history(n)
    new_revision_at = demarche.revisions[-1].created_at
    records, deleted = [], []
    message_number = first_message_number
    for index in range(n):
        number = first_number + index
        depose_at = limit - timedelta(seconds=rng.uniform(3600, period.total_seconds()))
        revision = 0 if depose_at < new_revision_at and rng.random() < 0.5 else len(demarche.revisions) - 1
        plan = _plan(rng, _weighted(rng, INTENT_WEIGHTS))
        values = DossierBuilder(rng, employers, plan, depose_at.date(), revision == len(demarche.revisions) - 1).build()
        groupe = rng.choice(demarche.groupes)
        agent = groupe.instructeurs[-1].email
        timeline = Timeline(rng, depose_at, limit, agent, out_of_scope=plan.intent in OUT_OF_SCOPE_INTENTS)
        if revision == 0 and not (timeline.processed_at and timeline.processed_at < new_revision_at):
            # Not decided when the newer revision was published: DS rebased it (docs/ds-revisions.md).
            revision = len(demarche.revisions) - 1
        record = DossierRecord(
            number=number,
            demarche=demarche.number,
            revision=revision,
            state=timeline.state,
            depose_at=depose_at,
            groupe=groupe.number,
            values=values,
            intent=plan.intent,
            usager_email=values["employeur_email"]
            if values["depose_par"] == EMPLOYER_FILES
            else values["email_etudiant"],
            en_instruction_at=timeline.en_instruction_at,
            processed_at=timeline.processed_at,
            motivation=timeline.motivation,
            traitements=timeline.traitements,
            champs_updated_at=depose_at,
            archived=timeline.state in ("accepte", "refuse", "sans_suite") and rng.random() < 0.1,
        )
        if plan.defect in ("missing_champ", "extra_champ"):
            record.anomaly = ("missing_champ", "nom") if plan.defect == "missing_champ" else ("extra_champ",)
        if record.state == "accepte":
            _agent_annotations(rng, record)
        message_number = _messages(rng, record, timeline, limit, message_number)
        record.updated_at = max(
            [timeline.last, record.annotations_updated_at or timeline.last] + [m.created_at for m in record.messages]
        )
        roll = rng.random()
        if roll < 0.01:
            record.hidden_at = min(record.updated_at + timedelta(hours=rng.uniform(1, 48)), limit)
            record.hidden_by = "usager" if record.state == "en_construction" else "administration"
            record.hidden_reason = "user_request" if record.hidden_by == "usager" else "instructeur_request"
            record.updated_at = record.hidden_at
        elif roll < 0.02:
            deleted_at = min(record.updated_at + timedelta(days=rng.uniform(1, 30)), limit)
            reason = rng.choice(("user_request", "expired", "instructeur_request"))
            deleted.append(
                DeletedRecord(number, number, demarche.number, record.state, reason, deleted_at, groupe.number)
            )
            continue
        records.append(record)
    return records, deleted


def _agent_annotations(rng, record: DossierRecord) -> None:
    """Agents type the APT period on accepted dossiers; a few forget or invert it."""
    v = record.values
    start = date.fromisoformat(v["contrat_date_debut"])
    planned_end = date.fromisoformat(v["contrat_date_fin"]) if v["contrat_date_fin"] else _add_months(start, 12)
    end = max(start, min(planned_end, date.fromisoformat(v["titre_date_expiration"]), _add_months(start, 12)))
    roll = rng.random()
    record.annotations_updated_at = record.processed_at
    if roll < 0.04:
        record.annotation_defect = "missing"
        return
    if roll < 0.07:
        record.annotation_defect = "inverted"
        end = start - timedelta(days=rng.randint(1, 30))
    record.annotations = {"apt_date_debut": start.isoformat(), "apt_date_fin": end.isoformat()}
    if rng.random() < 0.2:
        record.annotations["cadre_administration"] = "Pièces vérifiées par le service."


def _messages(rng, record: DossierRecord, timeline: Timeline, limit: datetime, number: int) -> int:
    def add(email, body, at):
        nonlocal number
        if at < limit:
            number += 1
            record.messages.append(MessageRecord(number, email, body, at))

    if rng.random() < 0.2:
        add(
            record.usager_email,
            "Bonjour, je reste disponible pour tout complément d'information. Cordialement.",
            record.depose_at + timedelta(hours=rng.uniform(1, 72)),
        )
    if timeline.en_instruction_at and rng.random() < 0.1:
        add(
            timeline.agent_email,
            "Bonjour, merci de transmettre un contrat signé par les deux parties.",
            timeline.en_instruction_at + timedelta(hours=rng.uniform(1, 24)),
        )
    if timeline.processed_at and rng.random() < 0.03:
        add(
            record.usager_email,
            "Bonjour, pouvez-vous me confirmer la date de fin de l'autorisation ? Merci.",
            timeline.processed_at + timedelta(days=rng.uniform(1, 20)),
        )
    record.messages.sort(key=lambda m: m.created_at)
    return number


def seeded_store(
    n: int = 500,
    seed: int = 1,
    today: date | None = None,
    groupe_labels: list[str] | None = None,
    ids_seed: int | str | None = None,
    form: Form | None = None,
) -> Store:
    """A store with démarche 1 and n generated dossiers. The form's stable ids come from `ids_seed`
    (default: the seed), so the same dossiers can be put on démarches with other ids; `form`: another form."""
    store = Store()
    add_generated_demarche(
        store,
        n,
        seed,
        today=today,
        groupe_labels=groupe_labels,
        form=form or load_form(seed if ids_seed is None else ids_seed),
    )
    return store


def add_generated_demarche(
    store: Store,
    n: int,
    seed: int,
    *,
    today: date | None = None,
    form: Form | None = None,
    groupe_labels: list[str] | None = None,
    first_number: int | None = None,
) -> Demarche:
    """A démarche of `form` (default: the sandbox's form with ids of its own) and n generated dossiers in
    `store`. The same (n, seed, today, groupes) give the same dossiers whatever the form's ids: a second
    démarche can hold démarche 1's dossiers under other ids, numbered from `first_number`."""
    today = today or datetime.now(UTC).date()
    # Created a month before the first deposit, and early enough that its newer revision (published 180 days
    # after, sandbox/store.py) falls in the middle of the deposits at the latest: dossiers of both revisions.
    span = history(n).days
    created_at = datetime.combine(today - timedelta(days=max(span + 30, span // 2 + 180)), time(9), tzinfo=UTC)
    demarche = store.add_demarche(form, groupe_labels=groupe_labels, created_at=created_at)
    if first_number is None:
        first_number = (
            max(
                [
                    FIRST_DOSSIER_NUMBER - 1,
                    *store.dossiers,
                    *(e.dossier_number for es in store.deleted.values() for e in es),
                ]
            )
            + 1
        )
    records, deleted = generate(n, seed, today, demarche, first_number, store.next_id("Commentaire") - 1)
    store.load_dossiers(records, deleted)
    return demarche
