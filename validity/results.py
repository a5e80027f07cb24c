"""What each answer of the validity check tells the employer, in French: the page and the JSON API read it here,
so they say the same thing. Why each wording: docs/apt-validity-check.md."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.french import MONTHS
from validity.lookup import Answer, Outcome


def siret_fr(siret: str | None) -> str:
    """« 123 456 789 00012 »: the SIREN in groups of three, then the NIC, as printed on French documents; no-break
    spaces, so it never wraps. Anything but 14 digits is shown as stored."""
    if not siret:
        return "non renseigné"
    if len(siret) != 14 or not siret.isdigit():
        return siret
    return "\u00a0".join((siret[0:3], siret[3:6], siret[6:9], siret[9:]))


def date_fr(value: date) -> str:
    """1 → "1er", as French writes the first day of a month."""
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


@dataclass(frozen=True)
class ResultText:
    tone: str  # success | info | warning: how the page shows it (DSFR alert types)
    title: str
    label: str  # the API's short `libelle`
    paragraphs: tuple[str, ...]


SCOPE = "L'autorisation ne vaut que pour l'employeur (SIRET) et l'emploi pour lesquels elle a été délivrée."
NO_MATCH = ResultText(
    "info",
    "Aucune autorisation trouvée",
    "aucune autorisation publiée ne correspond",
    (
        "Aucune autorisation provisoire de travail publiée par le service ne correspond à ce numéro de dossier "
        "et à cette date de naissance.",
        "Cette réponse ne permet pas de conclure que l'étudiant n'a pas d'autorisation : une erreur de saisie, une "
        "demande qui n'est pas encore décidée ou une autorisation qui n'est pas publiée ici donnent la même réponse.",
        "Vérifiez le numéro de dossier et la date de naissance sur la décision d'autorisation remise par l'étudiant. "
        "En cas de doute, demandez-lui cette décision, ou écrivez au service de la main-d'œuvre étrangère qui l'a "
        "délivrée : ses coordonnées figurent sur la décision.",
    ),
)


def result_text(answer: Answer) -> ResultText:
    details = answer.details
    if answer.outcome is Outcome.NO_MATCH or details is None:
        return NO_MATCH
    start, end = date_fr(details.start), date_fr(details.end)
    if answer.outcome is Outcome.NOT_STARTED:
        return ResultText(
            "info",
            f"Autorisation accordée, valable à partir du {start}",
            "accordée, pas encore en vigueur",
            (
                f"Cette autorisation provisoire de travail a été accordée pour la période du {start} au {end}.",
                "Elle n'est pas encore en vigueur : l'étudiant ne peut pas travailler sous couvert de cette "
                "autorisation "
                f"avant le {start}.",
                SCOPE,
            ),
        )
    if answer.outcome is Outcome.EXPIRED:
        return ResultText(
            "warning",
            "Autorisation expirée",
            "expirée",
            (
                f"Cette autorisation provisoire de travail a pris fin le {end}. L'étudiant ne peut plus travailler "
                "sous "
                "couvert de cette autorisation.",
                "S'il en a obtenu une nouvelle, vérifiez-la avec le numéro de dossier de sa nouvelle décision.",
            ),
        )
    return ResultText(
        "success",
        "Autorisation en cours de validité",
        "en cours de validité",
        (
            f"Cette autorisation provisoire de travail est en vigueur du {start} au {end} inclus.",
            SCOPE,
        ),
    )
