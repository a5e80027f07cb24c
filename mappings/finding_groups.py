"""How a blocking finding is put to the applicant: a document to add, a
document to replace, or an answer to correct. An APT decision kept as data
(`finding_groups.csv`), read once and validated at load, so the DS
annotations, the label and the e-mails all group findings the same way.
"""
from __future__ import annotations

import csv
from functools import cache
from pathlib import Path
from typing import Iterable, TypeVar

from mappings.procedure import DefinitionError

GROUPS_FILE = Path(__file__).with_name("finding_groups.csv")

MISSING_DOCUMENT = "missing_document"
DOCUMENT_TO_REPLACE = "document_to_replace"
ANSWER_TO_CORRECT = "answer_to_correct"
# In the order the applicant reads them.
GROUPS = (MISSING_DOCUMENT, DOCUMENT_TO_REPLACE, ANSWER_TO_CORRECT)
DOCUMENT_GROUPS = frozenset({MISSING_DOCUMENT, DOCUMENT_TO_REPLACE})
# A code nobody placed yet: the form is where the applicant can act on anything else.
DEFAULT_GROUP = ANSWER_TO_CORRECT


def parse_finding_groups(lines: Iterable[str], name: str = GROUPS_FILE.name) -> dict[str, str]:
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if line.strip() and not line.startswith("#")]
    if not numbered or [c.strip() for c in numbered[0][1].split(",")] != ["code", "group"]:
        raise DefinitionError(f"{name}: the first row must be the header 'code,group'")
    groups: dict[str, str] = {}
    for (number, _), row in zip(numbered[1:], csv.reader(line for _, line in numbered[1:])):
        if len(row) != 2:
            raise DefinitionError(f"{name} line {number}: expected 2 columns, got {len(row)}")
        code, group = (value.strip() for value in row)
        if group not in GROUPS:
            raise DefinitionError(f"{name} line {number}: group must be one of {', '.join(GROUPS)}, got {group!r}")
        if code in groups:
            raise DefinitionError(f"{name} line {number}: code {code!r} is listed twice")
        groups[code] = group
    return groups


@cache
def finding_groups() -> dict[str, str]:
    return parse_finding_groups(GROUPS_FILE.read_text(encoding="utf-8").splitlines())


def group_of(code: str) -> str:
    return finding_groups().get(code, DEFAULT_GROUP)


def is_document_code(code: str) -> bool:
    return group_of(code) in DOCUMENT_GROUPS


T = TypeVar("T")


def by_group(findings: Iterable[T], code=lambda finding: finding.code) -> dict[str, list[T]]:
    """Findings under each group, in GROUPS order, each group in the findings' own order."""
    grouped: dict[str, list[T]] = {group: [] for group in GROUPS}
    for finding in findings:
        grouped[group_of(code(finding))].append(finding)
    return grouped
