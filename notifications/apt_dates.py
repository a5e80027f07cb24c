"""What is wrong with the APT period an agent entered on an accepted dossier,
in words for the applicant. The rule itself is `mappings.apt_period`."""

from __future__ import annotations

from datetime import date

from mappings import apt_period


def problem_labels(months: int | None = None) -> dict[str, str]:
    """Problem code → French sentence shown to agents and applicants."""
    months = months or apt_period.max_months()
    return {
        apt_period.MISSING: "les dates de début et de fin de l'autorisation ne sont pas renseignées",
        apt_period.INVERTED: "la date de fin de l'autorisation est antérieure à sa date de début",
        apt_period.TOO_LONG: f"l'autorisation dépasse la durée maximale de {months} mois",
        apt_period.AFTER_PERMIT: "l'autorisation se termine après l'expiration du titre de séjour",
    }


def apt_date_problems(apt_start: date | None, apt_end: date | None, permit_expiry: date | None) -> tuple[str, ...]:
    """Codes of `problem_labels()`, empty when the period is valid."""
    return apt_period.period_problems(apt_start, apt_end, permit_expiry, apt_period.max_months())
