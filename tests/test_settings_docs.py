"""The README's settings tables and `.env.example` say what core/settings.py declares."""

import io
import re
import tokenize
from pathlib import Path

from core.settings import declared_settings, load_settings
from core.settings_docs import ENV_EXAMPLE, README, env_example, readme_with_tables

ROOT = Path(__file__).resolve().parents[1]
VARIABLE = re.compile(r"\b(?:WIF|DS|SMTP|SENTRY)_[A-Z0-9_]*[A-Z0-9]\b")
# Python 3.12 splits f-strings into parts.
TEXT_TOKENS = (tokenize.STRING, tokenize.COMMENT, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING))
SOURCES = ("core", "connector", "jobs", "mail", "mappings", "notifications", "sandbox", "stats", "validity", "scripts")


def _without_fields(text: str) -> str:
    """An f-string's text without its {expressions}, which are code."""
    return re.sub(r"\{[^{}]*\}", "", text) if re.match(r"[rbRB]*[fF]", text) else text


def test_the_readme_tables_are_the_declarations():
    text = README.read_text(encoding="utf-8")
    assert readme_with_tables(text) == text, "run `python -m core.settings_docs` and commit README.md"


def test_env_example_is_the_declarations():
    assert ENV_EXAMPLE.read_text(encoding="utf-8") == env_example(), (
        "run `python -m core.settings_docs` and commit .env.example"
    )


def test_each_value_of_env_example_is_accepted():
    declared = {setting.variable: setting for _, setting in declared_settings()}
    lines = [line for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    values = dict(line.split("=", 1) for line in lines)
    assert set(values) <= set(declared)
    for variable, value in values.items():
        declared[variable].read({variable: value})
    load_settings({**values, "DS_API_TOKEN": "a-token"})


def test_no_variable_is_named_that_is_not_declared():
    """A setting read outside core/settings.py, or a stale name in the README, shows up here."""
    declared = {setting.variable for _, setting in declared_settings()}
    # Variables of other programs the README mentions, and the tests' own.
    others = {"TEST_DATABASE_URL"}
    texts = {"README.md": README.read_text(encoding="utf-8")}
    for path in (path for folder in SOURCES for path in (ROOT / folder).rglob("*.py")):
        tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
        # Strings and comments only: a Python constant such as DS_TYPE_NAMES is no variable.
        texts[path.relative_to(ROOT).as_posix()] = "\n".join(
            _without_fields(token.string) for token in tokens if token.type in TEXT_TOKENS
        )
    named = {(name, where) for where, text in texts.items() for name in VARIABLE.findall(text)}
    assert sorted((name, where) for name, where in named if name not in declared | others) == []
