"""What agents read of the student's cursus where they judge the job's link with the course (the annotation
« Cursus et lien avec l'emploi »): the establishment, the diploma prepared and the year of study the form asks
(ANEF, first step: « identité, cursus, adresse de contact »), whether this dossier's hours make the link a
condition, and the applicant's answer. The connector never decides the link itself: that is the agent's
judgement (docs/apt-hours.md#the-cursus). A pure function of the stored dossier."""

from __future__ import annotations

from core.snapshot import DossierSnapshot

NOT_GIVEN = "non renseigné"
ANSWERS = {True: "oui", False: "non", None: "sans réponse"}


def link_required(view: DossierSnapshot) -> bool:
    """Above the threshold of a titre étudiant, the job must belong to the course (mappings.checks.check_course_link
    decides the same from the mapped dossier; these are the figures it stored)."""
    return (
        view.hours_limit_kind == "threshold"
        and view.annual_hours is not None
        and view.hours_cap is not None
        and view.annual_hours > view.hours_cap
    )


def _link_text(view: DossierSnapshot) -> str:
    annual, cap = view.annual_hours, view.hours_cap
    if annual is None:
        return "non jugé : heures ou dates manquantes"
    if link_required(view):
        return (
            f"exigé : {annual:.0f} h sur l'année du titre la plus chargée, au-delà du seuil de {cap:.0f} h ; "
            f"réponse du dossier : {ANSWERS[view.course_related]}"
        )
    if view.hours_limit_kind == "threshold":
        return f"non exigé : {annual:.0f} h, sous le seuil de {cap:.0f} h"
    if view.hours_limit_kind == "ceiling":
        return "non exigé : accord franco-algérien"
    return "non jugé : aucun seuil retenu (contrat exempté ou nationalité inconnue)"


def agent_text(view: DossierSnapshot) -> str:
    lines = [
        f"Établissement : {view.school or NOT_GIVEN}",
        f"Diplôme préparé : {view.diploma or NOT_GIVEN}",
        f"Année d'études : {view.study_year or NOT_GIVEN}",
        f"Lien avec l'emploi : {_link_text(view)}",
    ]
    if link_required(view) and not (view.school and view.diploma and view.study_year):
        lines.append("Cursus incomplet : le lien entre l'emploi et la formation ne peut pas être jugé sans lui.")
    return "\n".join(lines)
