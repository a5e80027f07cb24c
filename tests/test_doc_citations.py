"""Every `docs/<file>.md#<anchor>` the code and its data cite exists (the "why" must be reachable from a clone)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITATION = re.compile(r"docs/([\w-]+\.md)#([\w-]+)")
DOCUMENT = re.compile(r"docs/([\w-]+\.md)")
# Files a clone does not have: the why is cited from docs/, in the project's own words.
OUTSIDE = re.compile(r"NOTES §|RULES\.md|shared/apt/RULES")
SOURCES = ("connector", "core", "jobs", "mail", "mappings", "notifications", "sandbox", "stats", "validity")


def anchors(document: Path) -> set[str]:
    """GitHub's anchors: a heading lower-cased, punctuation dropped, spaces as dashes."""
    headings = re.findall(r"^#+\s+(.+?)\s*$", document.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_every_cited_anchor_exists():
    missing = []
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in (".py", ".yaml", ".csv", ".json", ".graphql", ".html", ".txt") or not path.is_file():
                continue
            for file_name, anchor in CITATION.findall(path.read_text(encoding="utf-8", errors="replace")):
                document = ROOT / "docs" / file_name
                if not document.exists() or anchor not in anchors(document):
                    missing.append(f"{path.relative_to(ROOT)}: docs/{file_name}#{anchor}")
    assert missing == []


def sources():
    for folder in SOURCES + ("bench", "scripts"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in (".py", ".yaml", ".csv", ".json", ".graphql", ".html", ".txt") and path.is_file():
                yield path


def test_every_cited_document_exists():
    missing = {
        f"{path.relative_to(ROOT)}: docs/{name}"
        for path in sources()
        for name in DOCUMENT.findall(path.read_text(encoding="utf-8", errors="replace"))
        if not (ROOT / "docs" / name).exists()
    }
    assert sorted(missing) == []


def test_nothing_cites_files_a_clone_does_not_have():
    """The shared notes and rules are not in the repository: the code cites docs/, which a clone has."""
    citing = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sources()
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert citing == []
