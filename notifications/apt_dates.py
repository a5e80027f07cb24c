"""What is wrong with the APT period an agent entered on an accepted dossier."""
from __future__ import annotations

from datetime import date

APT_MAX_MONTHS = 12

# Problem code → French sentence shown to agents and applicants.
PROBLEM_LABELS = {
    "missing": "les dates de début et de fin de l'autorisation ne sont pas renseignées",
    "inverted": "la date de fin de l'autorisation est antérieure à sa date de début",
    "too_long": "l'autorisation dépasse la durée maximale de 12 mois",
    "after_permit": "l'autorisation se termine après l'expiration du titre de séjour",
}


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    # Clamp to the month's last day (31 January + 1 month → 28/29 February).
    for last_day in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last_day))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def apt_date_problems(apt_start: date | None, apt_end: date | None, permit_expiry: date | None) -> tuple[str, ...]:
    """Codes of PROBLEM_LABELS, empty when the period is valid."""
    if apt_start is None or apt_end is None:
        return ("missing",)
    problems = []
    if apt_end < apt_start:
        problems.append("inverted")
    # At most 12 months: 1 January → 31 December is the longest valid period.
    elif apt_end >= add_months(apt_start, APT_MAX_MONTHS):
        problems.append("too_long")
    if permit_expiry is not None and apt_end > permit_expiry:
        problems.append("after_permit")
    return tuple(problems)
