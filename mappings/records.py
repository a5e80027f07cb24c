"""Plain typed records a DS dossier is mapped to.

They carry no database or network concern: the mapping produces them from
the DS JSON, the rules (routing, checks) read them, and the store writes
them to SQL. Every field is optional because DS data can be incomplete; a
missing or malformed value is reported as a MappingIssue, never raised.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


class ContractType(str, enum.Enum):
    CDD = "cdd"
    CDI = "cdi"
    APPRENTISSAGE = "apprentissage"
    PROFESSIONNALISATION = "professionnalisation"
    DOCTORAL = "doctoral"
    CIFRE = "cifre"
    ATER = "ater"
    INTERNE = "interne"
    STAGE = "stage"  # a convention de stage: out of scope


class HoursUnit(str, enum.Enum):
    PER_WEEK = "per_week"
    PER_MONTH = "per_month"


@dataclass(frozen=True)
class MappingIssue:
    field: str  # procedure key of the champ, or a dossier attribute
    code: str  # stable machine code, e.g. "invalid_date", "missing_champ"
    message: str  # French sentence for an agent


@dataclass
class Student:
    civilite: str | None = None
    last_name: str | None = None
    first_name: str | None = None
    birth_date: date | None = None
    birth_place: str | None = None
    nationality_code: str | None = None  # ISO 3166-1 alpha-2
    nationality_name: str | None = None
    email: str | None = None
    phone: str | None = None
    address_label: str | None = None
    postal_code: str | None = None
    city: str | None = None
    city_insee_code: str | None = None
    address_departement: str | None = None  # as given by DS (departmentCode)
    request_kind: str | None = None  # "first" | "renewal"
    previous_apt_reference: str | None = None
    permit_kind: str | None = None  # option label of titre_type
    permit_number: str | None = None
    permit_start: date | None = None
    permit_expiry: date | None = None
    permit_departement: str | None = None  # the routing key Work in France used
    permit_prefecture: str | None = None
    resident_one_year: bool | None = None
    master_or_cge: bool | None = None
    # The cursus (procedure.yaml cursus_*): what agents judge the job's link with the course against.
    school: str | None = None
    diploma: str | None = None
    study_year: str | None = None  # option label of cursus_annee, e.g. "2e année"

    @property
    def cursus_missing(self) -> tuple[str, ...]:
        """Which parts of the cursus the dossier does not give, in form order."""
        parts = (("établissement", self.school), ("diplôme préparé", self.diploma), ("année d'études", self.study_year))
        return tuple(name for name, value in parts if not value)


@dataclass
class Employer:
    siret: str | None = None
    company_name: str | None = None
    naf: str | None = None
    postal_code: str | None = None
    city: str | None = None
    city_insee_code: str | None = None  # of the établissement's commune
    departement: str | None = None  # from the établissement's address
    representative_last_name: str | None = None
    representative_first_name: str | None = None
    email: str | None = None
    phone: str | None = None
    filed_by_student: bool | None = None  # the student files, mandated by the employer


@dataclass
class Contract:
    job_title: str | None = None
    contract_type: ContractType | None = None
    start: date | None = None
    end: date | None = None
    hours_unit: HoursUnit | None = None
    hours_value: Decimal | None = None
    hours_per_week: Decimal | None = None
    other_jobs_hours_per_week: Decimal = Decimal(0)
    monthly_gross_salary: Decimal | None = None
    regulated_profession: bool | None = None
    model_or_live_show: bool | None = None
    opco_validated: bool | None = None  # apprenticeship contract validated by the OPCO
    course_related: bool | None = None  # the job belongs to the student's course of study
    workplace_postal_code: str | None = None
    workplace_departement: str | None = None


@dataclass
class DocumentFile:
    filename: str
    content_type: str | None
    byte_size: int | None
    checksum: str | None


@dataclass
class Document:
    key: str  # procedure key of the pièce justificative champ
    files: list[DocumentFile] = field(default_factory=list)


@dataclass
class AgentAnnotations:
    apt_start: date | None = None
    apt_end: date | None = None


@dataclass
class MappedDossier:
    number: int
    student: Student = field(default_factory=Student)
    employer: Employer = field(default_factory=Employer)
    contract: Contract = field(default_factory=Contract)
    documents: dict[str, Document] = field(default_factory=dict)
    agent: AgentAnnotations = field(default_factory=AgentAnnotations)
    issues: list[MappingIssue] = field(default_factory=list)
    mapped_on: date | None = None  # reference day for age and "in the past" checks
    submitted_at: datetime | None = None
