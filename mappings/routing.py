"""Which service (and DS groupe instructeur) handles a dossier.

Work in France routed by the département printed on the titre de séjour;
the employer's département is kept too, so the key can be switched to it.
The table (départements.csv + services.csv) is data, validated at load.
A dossier that cannot be routed goes to the procedure's fallback groupe
with a French reason for the agents: that is an outcome, never an error.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from mappings.normalize import is_cedex, normalize_departement_code, normalize_postal_code
from mappings.procedure import DefinitionError, default_procedure
from mappings.records import MappedDossier

MAPPINGS_DIR = Path(__file__).parent
DEPARTEMENTS_FILE = MAPPINGS_DIR / "departements.csv"
SERVICES_FILE = MAPPINGS_DIR / "services.csv"
POSTAL_CODES_FILE = MAPPINGS_DIR / "postal_codes.csv"

HIGH, LOW, NONE = "high", "low", "none"
KINDS = ("departement", "collectivite", "hors_perimetre")
YES, NO = "oui", "non"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# --- codes ---


@dataclass(frozen=True)
class PostalCodeCommune:
    postal_code: str
    commune: str  # La Poste's spelling: upper case, no accents, ST/STE
    insee_code: str
    departement: str


@dataclass(frozen=True)
class PostalCodes:
    """The postal codes whose communes are not all in their prefix's département (postal_codes.csv)."""

    communes: dict[str, tuple[PostalCodeCommune, ...]]

    def departements(self, postal_code: str) -> list[str]:
        """The départements of the code's communes, the most communes first (ties: the prefix's)."""
        counts = Counter(c.departement for c in self.communes.get(postal_code, ()))
        prefix = _departement_of_five_digits(postal_code)
        return [code for code, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0] != prefix, item[0]))]

    def commune_named(self, postal_code: str, city: str | None) -> PostalCodeCommune | None:
        wanted = commune_key(city)
        return next(
            (c for c in self.communes.get(postal_code, ()) if wanted and commune_key(c.commune) == wanted), None
        )


def commune_key(name: str | None) -> str:
    """ "Port-Sainte-Foy-et-Ponchapt" and La Poste's "PORT STE FOY ET PONCHAPT" give the same key."""
    plain = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode().upper()
    words = re.sub(r"[^A-Z0-9]+", " ", plain).split()
    words = [w for w in words if w != "CEDEX" and not w.isdigit()]
    return " ".join({"SAINT": "ST", "SAINTE": "STE"}.get(w, w) for w in words)


def departement_from_postal_code(
    code, insee_code: str | None = None, city: str | None = None, postal_codes: PostalCodes | None = None
) -> tuple[str | None, str]:
    """(département, confidence) from a postal code; the INSEE commune code wins when given.

    Confidence is "high", "low" (a CEDEX code, or a code shared by communes of
    two départements whose commune is not named) or "none" (nothing usable).
    A shared code is settled by the INSEE code, else the commune's name; a CEDEX
    code is uncertain (docs/apt-routing.md#shared-postal-codes).
    """
    from_insee = departement_from_insee_code(insee_code)
    if from_insee is not None:
        return from_insee, HIGH
    postal_code = normalize_postal_code(code)
    if postal_code is None:
        return None, NONE
    cedex = is_cedex(code) or is_cedex(city)
    postal_codes = postal_codes or load_postal_codes()
    departements = postal_codes.departements(postal_code)
    if len(departements) > 1:
        commune = postal_codes.commune_named(postal_code, city)
        if commune is not None:
            return commune.departement, LOW if cedex else HIGH
        return departements[0], LOW
    departement = departements[0] if departements else _departement_of_five_digits(postal_code)
    if departement is None:
        return None, NONE
    return departement, LOW if cedex else HIGH


def shared_postal_code_departements(code) -> list[str]:
    """The départements a shared postal code spans (empty for any other code)."""
    postal_code = normalize_postal_code(code)
    departements = load_postal_codes().departements(postal_code) if postal_code else []
    return departements if len(departements) > 1 else []


def _departement_of_five_digits(code: str) -> str | None:
    """Corsica, the overseas codes, otherwise the first two digits (docs/apt-routing.md#postal-codes);
    97133 and 97150 are in postal_codes.csv."""
    if code.startswith("20"):
        if code[:3] in ("200", "201"):
            return "2A"
        if code[:3] in ("202", "206"):
            return "2B"
        return None
    if code.startswith(("97", "98")):
        return code[:3]
    return code[:2]


def departement_from_insee_code(code) -> str | None:
    """Commune INSEE code → département: 2A/2B prefixes, three digits overseas."""
    text = str(code).strip().upper() if code is not None else ""
    if not re.fullmatch(r"(\d{5}|2[AB]\d{3})", text):
        return None
    if text.startswith(("2A", "2B")):
        return text[:2]
    if text.startswith(("97", "98")):
        return text[:3]
    if text.startswith("20"):
        return None
    return text[:2]


# --- the table ---


@dataclass(frozen=True)
class DepartementInfo:
    code: str
    name: str
    kind: str  # departement | collectivite | hors_perimetre
    wif_open: bool

    @property
    def in_scope(self) -> bool:
        return self.kind != "hors_perimetre"

    @property
    def label(self) -> str:
        """« 02 – Aisne »: the code the agents know, with the name everyone else reads."""
        return f"{self.code} – {self.name}"


@dataclass(frozen=True)
class Service:
    service_id: str
    name: str
    groupe_label: str
    email: str  # the agents: digest and monthly report
    open: bool
    departements: tuple[str, ...]
    contact: str = ""  # applicants and employers write here (every e-mail about its dossiers); "" : DS's messagerie


@dataclass(frozen=True)
class RoutingTable:
    departements: dict[str, DepartementInfo]
    services: tuple[Service, ...]
    fallback_groupe: str

    def service_for(self, departement: str) -> Service | None:
        return next((s for s in self.services if departement in s.departements), None)

    def service_by_name(self, name: str) -> Service | None:
        return next((s for s in self.services if s.name == name), None)

    def in_charge(self, service_name: str | None) -> str:
        """Who handles a dossier of this service: the service, or the fallback groupe when
        there is none or the service is not open yet (its dossiers wait in the fallback groupe).
        A name the table no longer knows (a renamed service) keeps its own name."""
        if not service_name:
            return self.fallback_groupe
        service = self.service_by_name(service_name)
        return self.fallback_groupe if service is not None and not service.open else service_name

    def groupe_labels(self) -> list[str]:
        """Every groupe instructeur the démarche needs: one per service, plus the fallback."""
        return [s.groupe_label for s in self.services] + [self.fallback_groupe]


@dataclass(frozen=True)
class ExpectedGroupe:
    label: str
    instructeur_emails: tuple[str, ...]


def expected_groupes(table: RoutingTable) -> list[ExpectedGroupe]:
    """The groupes the démarche needs: the fallback first (DS's default
    groupe, where new dossiers land), then one per open service."""
    return [ExpectedGroupe(table.fallback_groupe, ())] + [
        ExpectedGroupe(s.groupe_label, (s.email,)) for s in table.services if s.open
    ]


def _read_csv(path: Path) -> list[tuple[int, dict]]:
    """Rows with their line numbers; lines starting with '#' are comments."""
    lines = path.read_text(encoding="utf-8").splitlines()
    numbered = [
        (number, line) for number, line in enumerate(lines, start=1) if line.strip() and not line.startswith("#")
    ]
    if not numbered:
        raise DefinitionError(f"{path.name}: empty file")
    reader = csv.DictReader(line for _, line in numbered)
    rows = []
    for (number, _), row in zip(numbered[1:], reader, strict=False):
        if None in row or any(value is None for value in row.values()):
            raise DefinitionError(f"{path.name} line {number}: wrong number of columns")
        rows.append((number, {key: value.strip() for key, value in row.items()}))
    return rows


def _flag(path: Path, number: int, value: str) -> bool:
    if value not in (YES, NO):
        raise DefinitionError(f"{path.name} line {number}: open flag must be '{YES}' or '{NO}', got {value!r}")
    return value == YES


def _load_departements(path: Path) -> dict[str, DepartementInfo]:
    departements: dict[str, DepartementInfo] = {}
    for number, row in _read_csv(path):
        code = row.get("code", "")
        if not re.fullmatch(r"(0[1-9]|1\d|2[AB]|[2-8]\d|9[0-5]|9[78]\d)", code):
            raise DefinitionError(f"{path.name} line {number}: {code!r} is not a département code")
        if code in departements:
            raise DefinitionError(f"{path.name} line {number}: département {code} is listed twice")
        if row.get("kind") not in KINDS:
            raise DefinitionError(f"{path.name} line {number}: kind must be one of {', '.join(KINDS)}")
        departements[code] = DepartementInfo(code, row["name"], row["kind"], _flag(path, number, row["wif_open"]))
    return departements


def _load_services(path: Path, departements: dict[str, DepartementInfo]) -> tuple[Service, ...]:
    services: list[Service] = []
    owner: dict[str, str] = {}
    for number, row in _read_csv(path):
        codes = tuple(row["departements"].split())
        service = Service(
            row["service_id"],
            row["service"],
            row["groupe_label"],
            row["email"],
            _flag(path, number, row["open"]),
            codes,
            row.get("contact", ""),
        )
        _validate_service(path, number, service, services, owner, departements)
        owner.update({code: service.service_id for code in codes})
        services.append(service)
    return tuple(services)


def _validate_service(path, number, service, previous, owner, departements) -> None:
    where = f"{path.name} line {number}"
    if not service.service_id or not service.name or not service.groupe_label:
        raise DefinitionError(f"{where}: service_id, service and groupe_label are required")
    if not _EMAIL.match(service.email):
        raise DefinitionError(f"{where}: {service.email!r} is not an e-mail address")
    if service.contact and not _EMAIL.match(service.contact):
        raise DefinitionError(f"{where}: contact {service.contact!r} is not an e-mail address")
    if not service.departements:
        raise DefinitionError(f"{where}: the service covers no département")
    for other in previous:
        for attribute in ("service_id", "name", "groupe_label"):
            if getattr(other, attribute) == getattr(service, attribute):
                raise DefinitionError(f"{where}: duplicate {attribute} {getattr(service, attribute)!r}")
    for code in service.departements:
        if code not in departements:
            raise DefinitionError(f"{where}: unknown département code {code!r}")
        if not departements[code].in_scope:
            raise DefinitionError(f"{where}: département {code} is out of scope and cannot have a service")
        if code in owner:
            raise DefinitionError(f"{where}: département {code} is already covered by {owner[code]}")


@cache
def load_postal_codes(path: Path | str = POSTAL_CODES_FILE) -> PostalCodes:
    """Read and validate postal_codes.csv; raises DefinitionError naming the file and line."""
    path = Path(path)
    communes: dict[str, list[PostalCodeCommune]] = {}
    for number, row in _read_csv(path):
        where = f"{path.name} line {number}"
        postal_code, insee = row.get("postal_code", ""), row.get("insee_code", "")
        if not re.fullmatch(r"\d{5}", postal_code):
            raise DefinitionError(f"{where}: postal code {postal_code!r} is not five digits")
        if departement_from_insee_code(insee) is None:
            raise DefinitionError(f"{where}: {insee!r} is not an INSEE commune code")
        if row.get("departement") != departement_from_insee_code(insee):
            raise DefinitionError(
                f"{where}: département {row.get('departement')!r} is not the one of INSEE code {insee} "
                f"({departement_from_insee_code(insee)})"
            )
        if not row.get("commune"):
            raise DefinitionError(f"{where}: the commune has no name")
        if any(c.insee_code == insee for c in communes.get(postal_code, ())):
            raise DefinitionError(f"{where}: commune {insee} is listed twice under {postal_code}")
        communes.setdefault(postal_code, []).append(
            PostalCodeCommune(postal_code, row["commune"], insee, row["departement"])
        )
    return PostalCodes({code: tuple(rows) for code, rows in communes.items()})


@cache
def load_routing_table(
    departements_path: Path | str = DEPARTEMENTS_FILE,
    services_path: Path | str = SERVICES_FILE,
    fallback_groupe: str | None = None,
) -> RoutingTable:
    """Read and validate both files once; raises DefinitionError naming the file and line."""
    departements = _load_departements(Path(departements_path))
    services = _load_services(Path(services_path), departements)
    fallback = fallback_groupe or default_procedure().fallback_groupe
    if any(service.groupe_label == fallback for service in services):
        raise DefinitionError(f"{Path(services_path).name}: a service uses the fallback groupe label {fallback!r}")
    return RoutingTable(departements, services, fallback)


# --- routing a dossier ---


@dataclass(frozen=True)
class Routing:
    departement: str | None
    departement_source: str | None  # permit | student_address | student_postal_code | employer
    employer_departement: str | None
    service: str | None
    groupe_label: str
    fallback: bool
    reason: str | None  # French, for agents; None when routed normally
    out_of_scope: bool
    confidence: str = HIGH  # of the département found: low when read from a CEDEX or shared postal code
    uncertainty: str | None = None  # French, for agents, when the confidence is low

    @classmethod
    def unrouted(cls, reason: str, fallback_groupe: str | None = None) -> Routing:
        """Manual orientation when the dossier could not even be read."""
        return cls(
            None, None, None, None, fallback_groupe or default_procedure().fallback_groupe, True, reason, False, NONE
        )


@dataclass(frozen=True)
class Found:
    """A département read from one source of the dossier, and how sure that reading is."""

    code: str
    confidence: str = HIGH
    uncertainty: str | None = None


Source = Callable[[MappedDossier, RoutingTable], Found | None]


def _known(code: str | None, table: RoutingTable) -> str | None:
    code = normalize_departement_code(code)
    return code if code in table.departements else None


def _found(code: str | None, table: RoutingTable) -> Found | None:
    known = _known(code, table)
    return Found(known) if known else None


def _from_postal_code(postal_code: str | None, city: str | None, whose: str, table: RoutingTable) -> Found | None:
    departement, confidence = departement_from_postal_code(postal_code, None, city)
    known = _known(departement, table)
    if known is None:
        return None
    if confidence != LOW:
        return Found(known)
    shared = shared_postal_code_departements(postal_code)
    why = (
        f"partagé par les départements {' et '.join(shared)}, sans commune reconnue"
        if shared and not is_cedex(city)
        else "d'une adresse CEDEX, qui ne désigne pas toujours la commune"
    )
    return Found(
        known,
        LOW,
        f"Département {known} déduit du code postal {normalize_postal_code(postal_code)} {whose} ({why}) : à vérifier.",
    )


def _from_permit(mapped: MappedDossier, table: RoutingTable) -> Found | None:
    return _found(mapped.student.permit_departement, table)


def _from_student_address(mapped: MappedDossier, table: RoutingTable) -> Found | None:
    student = mapped.student
    return _found(departement_from_insee_code(student.city_insee_code), table) or _found(
        student.address_departement, table
    )


def _from_student_postal_code(mapped: MappedDossier, table: RoutingTable) -> Found | None:
    student = mapped.student
    return _from_postal_code(
        student.postal_code, student.city or student.address_label, "de l'adresse de l'étudiant", table
    )


def _from_employer(mapped: MappedDossier, table: RoutingTable) -> Found | None:
    employer = mapped.employer
    return (
        _found(employer.departement, table)
        or _found(departement_from_insee_code(employer.city_insee_code), table)
        or _from_postal_code(employer.postal_code, employer.city, "de l'établissement employeur", table)
    )


# Ordered sources per routing key: the first that gives a known code wins.
SOURCES: dict[str, tuple[tuple[str, Source], ...]] = {
    "permit": (
        ("permit", _from_permit),
        ("student_address", _from_student_address),
        ("student_postal_code", _from_student_postal_code),
    ),
    "employer": (
        ("employer", _from_employer),
        ("permit", _from_permit),
        ("student_address", _from_student_address),
        ("student_postal_code", _from_student_postal_code),
    ),
}


def _find_departement(mapped: MappedDossier, table: RoutingTable, key: str) -> tuple[Found | None, str | None]:
    if key not in SOURCES:
        raise ValueError(f"unknown routing key {key!r}; expected one of {', '.join(SOURCES)}")
    for source_name, source in SOURCES[key]:
        found = source(mapped, table)
        if found is not None:
            return found, source_name
    return None, None


def route(mapped: MappedDossier, table: RoutingTable, key: str = "permit") -> Routing:
    found, source = _find_departement(mapped, table, key)
    employer = _from_employer(mapped, table)
    employer_departement = employer.code if employer else None
    departement = found.code if found else None
    confidence, uncertainty = (found.confidence, found.uncertainty) if found else (NONE, None)

    def fallback(reason: str, service: str | None = None, out_of_scope: bool = False) -> Routing:
        return Routing(
            departement,
            source,
            employer_departement,
            service,
            table.fallback_groupe,
            True,
            reason,
            out_of_scope,
            confidence,
            uncertainty,
        )

    if departement is None:
        return fallback(
            "Aucun département n'a pu être déterminé (titre de séjour, adresse de l'étudiant"
            + (", établissement employeur" if key == "employer" else "")
            + ") : orientation manuelle."
        )
    info = table.departements[departement]
    if not info.in_scope:
        return fallback(
            f"Le département {departement} ({info.name}) est hors du périmètre de la procédure : orientation manuelle.",
            out_of_scope=True,
        )
    service = table.service_for(departement)
    if service is None:
        return fallback(
            f"Aucun service n'est défini pour le département {departement} ({info.name}) : orientation manuelle."
        )
    if not service.open:
        return fallback(
            f"Le service « {service.name} » n'instruit pas encore sur cette démarche : orientation manuelle.",
            service=service.name,
        )
    return Routing(
        departement,
        source,
        employer_departement,
        service.name,
        service.groupe_label,
        False,
        None,
        False,
        confidence,
        uncertainty,
    )
