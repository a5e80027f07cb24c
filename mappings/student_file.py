"""The student's file across dossiers: the same student's other requests and authorisations in the local copy.

DS sees one dossier at a time; the 964 h threshold and the Algerian cap count every job of the titre year, and
an APT covers one employer (docs/apt-hours.md#the-students-other-requests). These pure functions read plain
`Request` records (one per stored dossier) and give, for one dossier, the findings that change its status and
the lines of the agents' annotation « Dossier de l'étudiant ». What they write names other dossiers by number
and counts hours: never a name, an employer or a date of another dossier, so nothing of one student's other
requests reaches anyone but the agents (the applicant's message reads blocking findings only; these warn).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from mappings.checks import A_VERIFIER, CEILING, WARNING, Finding, completeness_status, french_list
from mappings.dossier import OPERATOR_ISSUES
from mappings.normalize import last_day_of_months
from mappings.pipeline import DS_UNREADABLE
from mappings.records import ContractType
from mappings.rules import Rules, contract_types

OVER_LIMIT, DUPLICATE = "student_hours_over_limit", "duplicate_request"
# Codes of the findings this module writes: the sync replaces them, never the dossier's own.
CODES = frozenset({OVER_LIMIT, DUPLICATE})
# What the summed hours make moot: « under the threshold, no APT needed » judged on this dossier alone.
UNDER_THRESHOLD = "out_of_scope_under_threshold"
NO_OTHER_REQUEST = (
    "Aucune autre demande de l'étudiant dans les dossiers reçus (même numéro de titre de séjour et "
    "même date de naissance)"
)


@dataclass(frozen=True)
class Request:
    """One stored dossier, as the student's file reads it."""

    number: int
    state: str
    permit_number: str | None
    birth_date: date | None
    demarche_number: int = 0
    siret: str | None = None
    contract_type: str | None = None
    job_title: str | None = None
    start: date | None = None
    end: date | None = None
    hours_per_week: Decimal | None = None
    monthly_salary: Decimal | None = None
    apt_start: date | None = None
    apt_end: date | None = None
    # This dossier's own judgement, as the rules left it: the busiest titre year and the figure of the case.
    year_start: date | None = None
    year_hours: Decimal | None = None
    limit_hours: Decimal | None = None
    limit_kind: str | None = None


@dataclass(frozen=True)
class StudentFile:
    findings: tuple[Finding, ...]
    text: str | None  # the annotation « Dossier de l'étudiant »; None: no other request (NO_OTHER_REQUEST)


def permit_key(permit_number: str | None) -> str | None:
    """A titre number as a machine compares it: no spaces or invisible characters, no case."""
    if not permit_number:
        return None
    kept = "".join(char for char in permit_number if not char.isspace() and unicodedata.category(char) != "Cf")
    return kept.casefold() or None


def student_key(request: Request) -> tuple[int, str, date] | None:
    """Both the titre number and the birth date, or no match at all: a namesake is another student. Within one
    démarche: another one (a clone, a regional copy) is another procedure, with its own services."""
    key = permit_key(request.permit_number)
    return (request.demarche_number, key, request.birth_date) if key and request.birth_date else None


def same_student(request: Request, others: Iterable[Request]) -> list[Request]:
    key = student_key(request)
    if key is None:
        return []
    return sorted((o for o in others if o.number != request.number and student_key(o) == key), key=lambda o: o.number)


def _section(rules: Rules) -> dict:
    return rules.section("student_file")


def _pending(request: Request, rules: Rules) -> bool:
    return request.state in _section(rules)["pending_states"]


def _accepted(request: Request, rules: Rules) -> bool:
    return request.state in _section(rules)["accepted_states"]


def _period(request: Request, rules: Rules) -> tuple[date, date] | None:
    """The days the request covers: an accepted one its APT as agents entered it, else the contract's; one APT
    covers at most 12 months, and an open end runs for all of them (as the dossier's own hours are counted)."""
    months = rules.section("apt")["max_months"]
    if _accepted(request, rules) and request.apt_start and request.apt_end and request.apt_end >= request.apt_start:
        return request.apt_start, request.apt_end
    if request.start is None:
        return None
    span_end = last_day_of_months(request.start, months)
    if request.end is None or request.contract_type == ContractType.CDI.value:  # open-ended
        end = span_end
    else:
        end = min(request.end, span_end)
    return (request.start, end) if end >= request.start else None


def _overlap(first: tuple[date, date], second: tuple[date, date]) -> tuple[date, date] | None:
    start, end = max(first[0], second[0]), min(first[1], second[1])
    return (start, end) if start <= end else None


def titre_year(request: Request, rules: Rules) -> tuple[date, date] | None:
    """The titre year this dossier's hours were judged on (its busiest)."""
    if request.year_start is None:
        return None
    return request.year_start, last_day_of_months(request.year_start, rules.section("hours")["titre_year_months"])


def hours_within(request: Request, days: tuple[date, date], rules: Rules) -> Decimal:
    """The request's contract hours falling within `days` (its own other jobs left out: a job declared there may
    be this dossier's)."""
    period = _period(request, rules)
    overlap = _overlap(period, days) if period else None
    if overlap is None or request.hours_per_week is None:
        return Decimal(0)
    return (request.hours_per_week * Decimal((overlap[1] - overlap[0]).days + 1) / Decimal(7)).quantize(Decimal("0.01"))


def _counted(other: Request, rules: Rules) -> bool:
    """Accepted authorisations and requests not decided yet; an internship is no work."""
    if other.contract_type in contract_types(rules.section("out_of_scope_contract_types")):
        return False
    return _accepted(other, rules) or _pending(other, rules)


def concurrent_hours(request: Request, others: list[Request], rules: Rules) -> list[tuple[Request, Decimal]]:
    """The student's other authorisations and pending requests with their hours in this dossier's titre year."""
    year = titre_year(request, rules)
    if year is None:
        return []
    found = [(other, hours_within(other, year, rules)) for other in others if _counted(other, rules)]
    return [(other, hours) for other, hours in found if hours > 0]


def _state_words(request: Request, rules: Rules) -> str:
    return "APT accordée" if _accepted(request, rules) else "demande en attente"


def _hours(value: Decimal) -> str:
    return f"{value:,.0f}".replace(",", "\u202f") + " h"


def _limit_words(request: Request, limit: Decimal) -> str:
    return f"{'plafond' if request.limit_kind == CEILING else 'seuil'} de {_hours(limit)}"


def hours_lines(request: Request, concurrent: list[tuple[Request, Decimal]], rules: Rules) -> list[str]:
    year = titre_year(request, rules)
    if not concurrent or year is None or request.year_hours is None:
        return []
    total = request.year_hours + sum(hours for _, hours in concurrent)
    limit = request.limit_hours
    judged = (
        ""
        if limit is None
        else (
            f", au-delà du {_limit_words(request, limit)}"
            if over_limit(request, total)
            else f", sous le {_limit_words(request, limit)}"
        )
    )
    return [
        f"Année du titre de séjour du {year[0]:%d/%m/%Y} au {year[1]:%d/%m/%Y} : {_hours(total)} au total{judged}",
        f"- ce dossier (n° {request.number}) : {_hours(request.year_hours)}",
    ] + [f"- dossier n° {other.number} ({_state_words(other, rules)}) : {_hours(hours)}" for other, hours in concurrent]


def over_limit(request: Request, total: Decimal) -> bool:
    return request.limit_hours is not None and total > request.limit_hours


def hours_finding(request: Request, concurrent: list[tuple[Request, Decimal]], rules: Rules) -> Finding | None:
    """ANEF: 964 h « sans avoir à solliciter une autorisation », 50 % of the year under the accord: figures of the
    student's year, not of one job (rules.yaml student_file.counted_hours). A dossier over the threshold on its own
    hours was judged so already (an APT, a job in the course): the others add nothing to judge."""
    year = titre_year(request, rules)
    if not concurrent or year is None or request.year_hours is None:
        return None
    if request.limit_kind != CEILING and over_limit(request, request.year_hours):
        return None
    total = request.year_hours + sum(hours for _, hours in concurrent)
    limit = request.limit_hours
    if limit is None or not over_limit(request, total):
        return None
    named = french_list(
        [f"n° {request.number} ({_hours(request.year_hours)})"]
        + [f"n° {other.number} ({_state_words(other, rules)}, {_hours(hours)})" for other, hours in concurrent],
        last="et",
    )
    consequence = (
        "au-delà, l'emploi doit s'inscrire dans le cursus de l'étudiant"
        if request.limit_kind != CEILING
        else "applicable à l'étudiant"
    )
    return Finding(
        OVER_LIMIT,
        WARNING,
        f"Heures de l'étudiant sur l'année du titre de séjour du {year[0]:%d/%m/%Y} au {year[1]:%d/%m/%Y}, "
        f"dossiers {named} : {_hours(total)} au total, au-delà du {_limit_words(request, limit)} "
        f"({consequence}) : à vérifier.",
        "heures_nombre",
    )


def duplicates(request: Request, others: list[Request], rules: Rules) -> list[Request]:
    """An APT covers one employer (docs/apt-hours.md#the-students-other-requests): two pending requests of one
    student for one SIRET over days in common ask for the same authorisation twice."""
    if not _pending(request, rules) or not request.siret:
        return []
    period = _period(request, rules)
    return [
        other
        for other in others
        if _pending(other, rules)
        and other.siret == request.siret
        and period
        and (other_period := _period(other, rules))
        and _overlap(period, other_period)
    ]


def duplicate_finding(request: Request, found: list[Request]) -> Finding | None:
    if not found:
        return None
    named = french_list([f"n° {other.number}" for other in found], last="et")
    return Finding(
        DUPLICATE,
        WARNING,
        f"Demande en double : {'le dossier' if len(found) == 1 else 'les dossiers'} {named}, en attente "
        "comme celui-ci, porte"
        + ("" if len(found) == 1 else "nt")
        + " sur le même employeur et des dates communes : à vérifier.",
        "employeur_siret",
    )


def previous_authorisation(request: Request, others: list[Request], rules: Rules) -> Request | None:
    """The latest accepted authorisation that began before this request's contract."""
    if request.start is None:
        return None
    earlier = [
        (period, other)
        for other in others
        if _accepted(other, rules) and (period := _period(other, rules)) and period[0] < request.start
    ]
    return max(earlier, key=lambda found: (found[0][1], found[1].number))[1] if earlier else None


def _differs(first: str | None, second: str | None) -> bool:
    return (
        first is not None
        and second is not None
        and " ".join(first.split()).casefold() != " ".join(second.split()).casefold()
    )


def renewal_changes(request: Request, previous: Request, rules: Rules) -> list[str]:
    """A new request is needed for a new employer, a new contract type or job, a later end, more hours or a lower
    salary (docs/apt-hours.md#the-students-other-requests): those of them this request has, in rules.yaml's words."""
    previous_end = (_period(previous, rules) or (None, None))[1]
    this_end = (_period(request, rules) or (None, None))[1]
    found = {
        "employer": _differs(request.siret, previous.siret),
        "contract_type": _differs(request.contract_type, previous.contract_type),
        "job": _differs(request.job_title, previous.job_title),
        "later_end": this_end is not None and previous_end is not None and this_end > previous_end,
        "more_hours": request.hours_per_week is not None
        and previous.hours_per_week is not None
        and request.hours_per_week > previous.hours_per_week,
        "lower_salary": request.monthly_salary is not None
        and previous.monthly_salary is not None
        and request.monthly_salary < previous.monthly_salary,
    }
    return [words for change, words in _section(rules)["renewal"]["changes"].items() if found[change]]


def renewal_line(request: Request, others: list[Request], rules: Rules) -> str | None:
    previous = previous_authorisation(request, others, rules)
    if previous is None:
        return None
    changes = renewal_changes(request, previous, rules)
    return f"Renouvellement de l'APT du dossier n° {previous.number} : " + (
        ", ".join(changes) if changes else "aucun des changements qui demandent une nouvelle demande"
    )


def student_file(request: Request, stored: Iterable[Request], rules: Rules) -> StudentFile:
    """The file of the dossier `request` among the stored dossiers; findings only while it is not decided."""
    others = same_student(request, stored)
    if not others:
        return StudentFile((), None)
    concurrent = concurrent_hours(request, others, rules)
    doubles = duplicates(request, others, rules)
    findings = tuple(f for f in (hours_finding(request, concurrent, rules), duplicate_finding(request, doubles)) if f)
    lines = hours_lines(request, concurrent, rules)
    if doubles:
        lines.append(
            "Demande en double : "
            + french_list([f"dossier n° {o.number}" for o in doubles], last="et")
            + " (même employeur, dates communes)"
        )
    renewal = renewal_line(request, others, rules)
    if renewal:
        lines.append(renewal)
    if not lines:
        lines.append(
            "Autres demandes de l'étudiant, sans heures sur l'année de ce titre de séjour : "
            + ", ".join(f"n° {other.number}" for other in others)
        )
    return StudentFile(findings if _pending(request, rules) else (), "\n".join(lines))


def status_with_file(own: Iterable[Finding], file_findings: Iterable[Finding], issue_codes: Iterable[str]) -> str:
    """The dossier's completeness with its file: the student's hours over the figure make « no APT needed »,
    judged on this dossier alone, moot; whatever else the dossier's own findings say stands."""
    file_findings = list(file_findings)
    over = any(f.code == OVER_LIMIT for f in file_findings)
    kept = [f for f in own if f.code not in CODES and not (over and f.code == UNDER_THRESHOLD)]
    # As mappings.pipeline judges the dossier: an operator's issue is no applicant's; a dossier DS gave without its
    # champs' objects is for an agent.
    issue_codes = [code for code in issue_codes if code not in OPERATOR_ISSUES]
    if DS_UNREADABLE in issue_codes:
        return A_VERIFIER
    return completeness_status(kept + file_findings, issue_codes)
