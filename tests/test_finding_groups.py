"""The grouping of blocking findings (mappings/finding_groups.csv): validated at load, complete
over the rules, and the one grouping the DS annotations and the e-mails read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from mappings import finding_groups as groups
from mappings.checks import RULES
from mappings.procedure import DefinitionError
from mappings.target import DOCUMENT_CODES

CHECKS = Path(groups.__file__).with_name("checks.py")


def codes_by_severity() -> dict[str, set[str]]:
    """Every `Finding("code", SEVERITY, …)` written in the completeness rules (checks.RULES)."""
    found: dict[str, set[str]] = {"BLOCKING": set(), "WARNING": set()}
    rules = {rule.__name__ for rule in RULES}
    functions = [
        n
        for n in ast.parse(CHECKS.read_text(encoding="utf-8")).body
        if isinstance(n, ast.FunctionDef) and n.name in rules
    ]
    assert len(functions) == len(rules)
    for node in (inner for function in functions for inner in ast.walk(function)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Finding" and len(node.args) >= 2:
            code, severity = node.args[0], node.args[1]
            if isinstance(code, ast.Constant) and isinstance(severity, ast.Name):
                found[severity.id].add(code.value)
    return found


def test_every_blocking_code_of_the_checks_has_a_group():
    blocking = codes_by_severity()["BLOCKING"]
    assert "invalid_siret" in blocking and "missing_document" in blocking  # the scan reads the checks
    # Scope questions are for agents, never put to the applicant.
    scope = {code for code in blocking if code.startswith("out_of_scope")}
    assert "out_of_scope_nationality" in scope
    assert blocking - scope - set(groups.finding_groups()) == set()
    # And the table names no code the checks never write.
    literals = {
        n.value
        for n in ast.walk(ast.parse(CHECKS.read_text(encoding="utf-8")))
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }
    assert set(groups.finding_groups()) - literals == set()


def test_document_problems_are_document_groups_and_the_rest_answers():
    assert groups.group_of("missing_document") == groups.MISSING_DOCUMENT
    assert groups.group_of("file_too_large") == groups.DOCUMENT_TO_REPLACE
    assert groups.group_of("invalid_siret") == groups.ANSWER_TO_CORRECT
    assert groups.group_of("a_code_no_one_placed") == groups.ANSWER_TO_CORRECT
    # A condition of the APT is not something to correct (issue 19 item 3).
    assert {code for code, group in groups.finding_groups().items() if group == groups.CONDITION_NOT_MET} == {
        "job_outside_course",
        "permit_expired_at_start",
        "permit_not_yet_valid",
    }
    assert DOCUMENT_CODES == {
        "missing_document",
        "too_many_files",
        "file_type_not_allowed",
        "file_too_large",
        "empty_file",
    }


def test_by_group_keeps_the_groups_order_and_the_findings_order():
    grouped = groups.by_group(
        ["job_outside_course", "invalid_siret", "empty_file", "missing_document", "file_too_large"], code=str
    )
    assert list(grouped) == list(groups.GROUPS)
    assert grouped == {
        "missing_document": ["missing_document"],
        "document_to_replace": ["empty_file", "file_too_large"],
        "answer_to_correct": ["invalid_siret"],
        "condition_not_met": ["job_outside_course"],
    }


@pytest.mark.parametrize(
    "lines, message",
    [
        (["code,group,advice", "missing_document,lost,"], "line 2: group must be one of"),
        (
            ["code,group,advice", "empty_file,document_to_replace,", "empty_file,answer_to_correct,"],
            "line 3: code 'empty_file' is listed twice",
        ),
        (["# comment", "code,group,advice", "empty_file"], "line 3: expected 3 columns"),
        (["code,group"], "header"),
    ],
)
def test_a_wrong_table_fails_at_load_naming_the_line(lines, message):
    with pytest.raises(DefinitionError, match=message):
        groups.parse_finding_groups(lines)
