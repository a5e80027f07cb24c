"""Every `docs/<file>.md#<anchor>` the code and its data cite exists (the "why" must be reachable from a clone)."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITATION = re.compile(r"docs/([\w-]+\.md)#([\w-]+)")
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
