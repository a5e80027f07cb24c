"""Typed contexts of the templates: a template can only use what is declared here.

Each page is a dataclass built by the app and rendered by one template;
the tests render every one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from validity.inputs import BIRTH_DATE_FIELD, NUMBER_FIELD
from validity.lookup import Answer, Outcome

MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)
DEFAULT_HEADING = "Vérifier une autorisation provisoire de travail"
OUTCOME_HEADINGS = {
    Outcome.VALID: "Autorisation valide",
    Outcome.EXPIRED: "Autorisation expirée",
    Outcome.NOT_VALID: "Autorisation non valide",
}


def date_fr(value: date) -> str:
    """1 → "1er", as French writes the first day of a month."""
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS_FR[value.month - 1]} {value.year}"


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    hint: str
    inputmode: str
    value: str = ""
    error: str | None = None


@dataclass(frozen=True)
class Notice:
    title: str
    text: str


@dataclass(frozen=True)
class LookupPage:
    number_value: str = ""
    birth_date_value: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    answer: Answer | None = None
    notice: Notice | None = None

    @property
    def heading(self) -> str:
        if self.notice:
            return self.notice.title
        if self.answer:
            return OUTCOME_HEADINGS[self.answer.outcome]
        return DEFAULT_HEADING

    @property
    def fields(self) -> tuple[FormField, ...]:
        return (
            FormField(
                name=NUMBER_FIELD,
                label="Numéro de dossier",
                hint="Il figure sur la décision d'autorisation. Exemple : 1234567",
                inputmode="numeric",
                value=self.number_value,
                error=self.errors.get(NUMBER_FIELD),
            ),
            FormField(
                name=BIRTH_DATE_FIELD,
                label="Date de naissance de l'étudiant",
                hint="Format attendu : JJ/MM/AAAA. Exemple : 21/03/2001",
                inputmode="text",
                value=self.birth_date_value,
                error=self.errors.get(BIRTH_DATE_FIELD),
            ),
        )


@dataclass(frozen=True)
class ErrorPage:
    title: str
    text: str
