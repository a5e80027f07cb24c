"""The layout is the architecture: each package imports only what it may.

Every `import` and `from … import` of the project's own packages is read
from the source (inside functions too, where hidden cycles live), so a
forbidden dependency fails here, not in a newcomer's head.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "connector", "mappings", "mail", "notifications", "stats", "validity", "jobs", "sandbox")

# What each package may import of the others (itself always).
ALLOWED = {
    "core": set(),  # the application core: imported by the others, imports none of them
    "connector": {"core"},  # the DS adapter: HTTP, GraphQL, sync, push delivery; no APT rule
    "mappings": {"core"},  # the APT domain: data files and pure functions
    "mail": {"core"},  # SMTP or .eml delivery and its outbox
    "notifications": {"core", "mail", "mappings"},
    "stats": {"core", "mail", "mappings", "notifications"},
    "validity": {"core", "mappings", "mail"},  # mail: the team's alert goes through the outbox
    "jobs": set(PACKAGES) - {"jobs"},  # the verbs wire everything together
    "sandbox": set(),  # a fake DS: it must not know what the connector assumes
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_only_what_it_may(package):
    forbidden = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        wrong = imported_packages(path) - ALLOWED[package] - {package}
        if wrong:
            forbidden[str(path.relative_to(ROOT))] = sorted(wrong)
    assert forbidden == {}


def test_the_rule_catches_an_import_inside_a_function(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from mappings.routing import route\n    import jobs.cli\n")
    assert imported_packages(module) == {"mappings", "jobs"}


def test_every_package_of_the_project_has_a_rule():
    on_disk = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert on_disk == set(PACKAGES)


def test_every_package_is_installed_and_shipped():
    # No Docker engine runs here: this is what keeps the image honest.
    import tomllib

    installed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    copied = set(re.findall(r"^COPY (\w+) \1$", (ROOT / "Dockerfile").read_text(), re.M))
    assert installed == set(PACKAGES)
    assert copied == set(PACKAGES)
