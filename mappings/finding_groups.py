"""How a blocking finding is put to the applicant: a document to add, a
document to replace, an answer to correct, or a condition of the APT not met,
with what the applicant can do about it. An APT decision kept as data
(`finding_groups.csv`), read once and validated at load, so the DS
annotations, the DS message and the e-mails all group findings the same way
(mappings/applicant_wording.py words them).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TypeVar

from mappings.procedure import DefinitionError

GROUPS_FILE = Path(__file__).with_name("finding_groups.csv")

MISSING_DOCUMENT = "missing_document"
DOCUMENT_TO_REPLACE = "document_to_replace"
ANSWER_TO_CORRECT = "answer_to_correct"
# A condition of the APT the request does not meet: told as such, never as a correction to make.
CONDITION_NOT_MET = "condition_not_met"
# In the order the applicant reads them.
GROUPS = (MISSING_DOCUMENT, DOCUMENT_TO_REPLACE, ANSWER_TO_CORRECT, CONDITION_NOT_MET)
DOCUMENT_GROUPS = frozenset({MISSING_DOCUMENT, DOCUMENT_TO_REPLACE})
# What the applicant can fix in the dossier: only these ask DS for a correction.
FIXABLE_GROUPS = frozenset({MISSING_DOCUMENT, DOCUMENT_TO_REPLACE, ANSWER_TO_CORRECT})
# A code nobody placed yet: the form is where the applicant can act on anything else.
DEFAULT_GROUP = ANSWER_TO_CORRECT
HEADER = ["code", "group", "advice"]


@dataclass(frozen=True)
class Placement:
    group: str
    advice: str  # what the applicant can do, in French; "" when the finding's sentence says it


def parse_finding_groups(lines: Iterable[str], name: str = GROUPS_FILE.name) -> dict[str, Placement]:
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if line.strip() and not line.startswith("#")]
    if not numbered or [c.strip() for c in numbered[0][1].split(",")] != HEADER:
        raise DefinitionError(f"{name}: the first row must be the header '{','.join(HEADER)}'")
    placements: dict[str, Placement] = {}
    for (number, _), row in zip(numbered[1:], csv.reader(line for _, line in numbered[1:]), strict=True):
        if len(row) != len(HEADER):
            raise DefinitionError(f"{name} line {number}: expected {len(HEADER)} columns, got {len(row)}")
        code, group, advice = (value.strip() for value in row)
        if group not in GROUPS:
            raise DefinitionError(f"{name} line {number}: group must be one of {', '.join(GROUPS)}, got {group!r}")
        if code in placements:
            raise DefinitionError(f"{name} line {number}: code {code!r} is listed twice")
        placements[code] = Placement(group, advice)
    return placements


@cache
def placements() -> dict[str, Placement]:
    return parse_finding_groups(GROUPS_FILE.read_text(encoding="utf-8").splitlines())


def finding_groups() -> dict[str, str]:
    return {code: placement.group for code, placement in placements().items()}


def group_of(code: str) -> str:
    placement = placements().get(code)
    return placement.group if placement else DEFAULT_GROUP


def advice_of(code: str) -> str:
    placement = placements().get(code)
    return placement.advice if placement else ""


def is_document_code(code: str) -> bool:
    return group_of(code) in DOCUMENT_GROUPS


T = TypeVar("T")


def by_group(findings: Iterable[T], code=lambda finding: finding.code) -> dict[str, list[T]]:
    """Findings under each group, in GROUPS order, each group in the findings' own order."""
    grouped: dict[str, list[T]] = {group: [] for group in GROUPS}
    for finding in findings:
        grouped[group_of(code(finding))].append(finding)
    return grouped
