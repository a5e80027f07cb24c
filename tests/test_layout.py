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


def test_every_package_is_copied_into_the_image():
    # No Docker engine runs here: this is what keeps the image's COPY lines honest.
    copied = set(re.findall(r"^COPY (\w+) \1$", (ROOT / "Dockerfile").read_text(), re.M))
    assert copied == set(PACKAGES)


def test_the_wheel_ships_every_module_and_data_file(tmp_path):
    """A non-editable install (the Docker image's `pip install .`) gets every tracked file of every package:
    subpackages (jobs.verbs, connector.push) and data (GraphQL documents, YAML, CSV, templates) included."""
    import shutil
    import subprocess
    import sys
    import zipfile

    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    # Built from a copy of the tracked files: a build/ folder left in the checkout would hide a missing package.
    source = tmp_path / "source"
    for path in tracked:
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / path, source / path)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    in_packages = [path for path in tracked if path.split("/")[0] in PACKAGES]
    assert sorted(path for path in in_packages if path not in shipped) == []
