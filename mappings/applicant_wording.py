"""What the applicant is told about the blocking findings, worded once: the DS
message (plain text) and the « dossier incomplet » e-mail (its templates
iterate over the same groups) read the groups, headings, instructions and
action sentence built here. The grouping and the per-finding instructions are
data (`finding_groups.csv`); this module only puts them into sentences.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from mappings.finding_groups import (
    ANSWER_TO_CORRECT,
    CONDITION_NOT_MET,
    DOCUMENT_TO_REPLACE,
    FIXABLE_GROUPS,
    MISSING_DOCUMENT,
    advice_of,
    by_group,
)


class FindingLike(Protocol):
    # Read-only (properties): findings are frozen dataclasses.
    @property
    def code(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def field(self) -> str | None: ...


HEADINGS = {
    MISSING_DOCUMENT: "Pièces à ajouter",
    DOCUMENT_TO_REPLACE: "Pièces à remplacer (le fichier envoyé ne peut pas être accepté)",
    ANSWER_TO_CORRECT: "Réponses à corriger dans le formulaire",
    CONDITION_NOT_MET: "Conditions de l'autorisation non remplies",
}
# A condition is not an error: changing a truthful answer would only make the request false.
NOTES = {
    CONDITION_NOT_MET: "Ce ne sont pas des erreurs à corriger : une réponse exacte ne doit pas être modifiée. "
    "Le service qui instruit la demande examine ces conditions.",
}
# The verb of each group the applicant can act on, in the sentence « il vous reste à … ».
ACTIONS = {
    MISSING_DOCUMENT: "ajouter les pièces manquantes",
    DOCUMENT_TO_REPLACE: "remplacer les fichiers refusés",
    ANSWER_TO_CORRECT: "corriger les réponses indiquées",
}
# What the e-mail's subject leads with: the first group present.
SUBJECTS = {
    MISSING_DOCUMENT: "pièces manquantes",
    DOCUMENT_TO_REPLACE: "pièces à remplacer",
    ANSWER_TO_CORRECT: "réponses à corriger",
    CONDITION_NOT_MET: "conditions non remplies",
}
SIGNATURE = "Ce message est envoyé automatiquement par Work in France."
# DS's CorrectionReason for what the applicant can fix; a condition asks for no correction.
CORRECTION_REASONS = {MISSING_DOCUMENT: "incomplete", DOCUMENT_TO_REPLACE: "incomplete", ANSWER_TO_CORRECT: "incorrect"}


@dataclass(frozen=True)
class Item:
    text: str
    advice: str = ""  # what the applicant can do (finding_groups.csv), once per kind of finding in a group

    def line(self) -> str:
        return f"{self.text} {self.advice}" if self.advice else self.text


@dataclass(frozen=True)
class GroupText:
    group: str
    heading: str
    items: tuple[Item, ...]
    note: str = ""


def _document_name(finding: FindingLike, document_names: Mapping[str, str]) -> str:
    # The pièce's own name reads better under « Pièces à ajouter » than the agents' « Pièce manquante : … ».
    name = document_names.get(finding.field or "")
    return name[:1].upper() + name[1:] if name else finding.message


def applicant_groups(findings: Iterable[FindingLike], document_names: Mapping[str, str]) -> tuple[GroupText, ...]:
    """The groups present, in the order the applicant reads them."""
    groups = []
    for group, members in by_group(findings).items():
        if not members:
            continue
        items, advised = [], set()
        for finding in members:
            text = _document_name(finding, document_names) if group == MISSING_DOCUMENT else finding.message
            advice = "" if finding.code in advised else advice_of(finding.code)
            advised.add(finding.code)
            items.append(Item(text, advice))
        groups.append(GroupText(group, HEADINGS[group], tuple(items), NOTES.get(group, "")))
    return tuple(groups)


def french_and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} et {parts[-1]}"


def actions(groups: Iterable[GroupText]) -> str:
    """« ajouter les pièces manquantes, … et corriger les réponses indiquées »; "" when nothing is to fix."""
    verbs = [ACTIONS[g.group] for g in groups if g.group in ACTIONS]
    return french_and(verbs) if verbs else ""


def fixable(groups: Iterable[GroupText]) -> bool:
    return any(g.group in FIXABLE_GROUPS for g in groups)


def correction_reason(groups: Iterable[GroupText]) -> str | None:
    """DS's correction flag: the first fixable group's reason; None when only conditions are not met."""
    return next((CORRECTION_REASONS[g.group] for g in groups if g.group in CORRECTION_REASONS), None)


def subject_words(groups: tuple[GroupText, ...]) -> str:
    return SUBJECTS[groups[0].group] if groups else "dossier incomplet"


def plain_text(groups: Iterable[GroupText]) -> str:
    blocks = []
    for group in groups:
        lines = [f"{group.heading} :"] + [f"- {item.line()}" for item in group.items]
        if group.note:
            lines.append(group.note)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def ds_message_body(number: int, groups: tuple[GroupText, ...]) -> str:
    """The DS message to the applicant: the same groups and instructions as the « dossier incomplet » e-mail."""
    request = f"Votre demande d'autorisation provisoire de travail (dossier n° {number})"
    if fixable(groups):
        opening = f"{request} ne peut pas encore être instruite."
        closing = (
            f"Il vous reste à {actions(groups)} dans votre dossier. Dès qu'il sera complet, le service l'instruira."
        )
    else:
        opening = f"{request} ne remplit pas, en l'état, une condition de l'autorisation."
        closing = ""
    parts = ["Bonjour,", opening, plain_text(groups), closing, SIGNATURE]
    return "\n\n".join(part for part in parts if part)
