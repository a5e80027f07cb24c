"""The README keeps its promises: its commands exist and CI runs its test command."""

import re
from pathlib import Path

from jobs.cli import VERBS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def first_code_block() -> list[str]:
    block = re.search(r"```sh\n(.*?)```", README, re.S).group(1)
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_readme_opens_with_the_main_job_and_the_test_command():
    main_job, tests = first_code_block()
    assert main_job.endswith("wif sync")
    assert "pytest" in tests


def test_ci_runs_the_readme_test_command():
    test_command = first_code_block()[1].split("&&")[-1].strip()
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_ci_installs_what_the_readme_installs():
    ci = (ROOT / ".ci" / "run").read_text()
    for block in first_code_block():
        for step in block.split("&&"):
            if step.strip().startswith(("npm ", ".venv/bin/pip ")):
                assert step.strip() in ci, step


def test_every_command_is_documented():
    for verb in VERBS:
        assert f"`wif {verb}" in README, verb


def test_every_setting_the_code_reads_is_documented():
    documented = README + (ROOT / ".env.example").read_text()
    read = set()
    for package in ("core", "connector", "mail", "notifications", "jobs", "stats", "validity", "mappings"):
        for path in (ROOT / package).rglob("*.py"):
            read |= set(re.findall(r"[\"'`]((?:DS|WIF|SMTP|SENTRY)_[A-Z_]+)[\"'`]", path.read_text()))
    read.discard("WIF_DIGEST_DAYS_")  # a prefix: the states are documented one by one
    missing = sorted(name for name in read if name not in documented)
    assert missing == []
