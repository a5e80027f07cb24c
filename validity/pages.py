"""Typed contexts of the templates: a template can only use what is declared here.

Each page is a dataclass built by the app and rendered by one template;
the tests render every one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from validity.inputs import BIRTH_DATE_FIELD, NUMBER_FIELD
from validity.lookup import Answer
from validity.results import ResultText, result_text, siret_fr

DEFAULT_HEADING = "Vérifier une autorisation provisoire de travail"


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
            return result_text(self.answer).title
        return DEFAULT_HEADING

    @property
    def result(self) -> ResultText | None:
        """What the answer tells the employer (validity.results), None before a lookup."""
        return result_text(self.answer) if self.answer else None

    @property
    def employer(self) -> str:
        details = self.answer.details if self.answer else None
        return (details.employer_name if details else None) or "non renseigné"

    @property
    def siret(self) -> str:
        """Grouped as people read it (validity.results.siret_fr); the API gives the 14 digits."""
        return siret_fr(self.answer.details.siret if self.answer and self.answer.details else None)

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
                hint="Jour, mois et année. Exemple : 21/03/2001",
                inputmode="text",
                value=self.birth_date_value,
                error=self.errors.get(BIRTH_DATE_FIELD),
            ),
        )


@dataclass(frozen=True)
class ErrorPage:
    title: str
    text: str
