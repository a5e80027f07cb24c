"""The README's settings tables and `.env.example`, written from the declarations of core/settings.py.

`python -m core.settings_docs` rewrites both after a declaration changed;
tests/test_settings_docs.py fails while they differ from what it would write.
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

from core.settings import Setting, declared_settings

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
ENV_EXAMPLE = ROOT / ".env.example"

# The README's two tables: the sections each lists.
TABLES = {
    "connection": ("", "ds", "sync", "push"),
    "beyond": ("mail", "notify", "schedule", "validity", "pages", "webhooks", "observability"),
}
SECTION_TITLES = {
    "": "Database",
    "ds": "DS",
    "sync": "Sync",
    "push": "Writing back to DS",
    "mail": "E-mail",
    "notify": "Notifications and digest",
    "schedule": "Scheduler (wif schedule)",
    "validity": "Public validity check (wif serve)",
    "pages": "Public pages (statistics site and validity check): DSFR, mandatory pages, links",
    "webhooks": "DS webhooks (served by wif serve under /webhooks: a hint to fetch a dossier now; "
    "the poll stays the truth)",
    "observability": "Error reporting",
}
BEGIN = "<!-- settings:{name}: generated from core/settings.py by `python -m core.settings_docs`, do not edit -->"
END = "<!-- /settings:{name} -->"


def _default_cell(declared: Setting) -> str:
    return f"`{declared.default}`" if declared.default else "empty"


def readme_table(name: str) -> str:
    rows = ["| variable | default | values | meaning |", "|---|---|---|---|"]
    rows += [
        f"| `{declared.variable}` | {_default_cell(declared)} | {declared.parser.accepts} | {declared.description} |"
        for section, declared in declared_settings()
        if section in TABLES[name]
    ]
    return "\n".join(rows)


def readme_with_tables(text: str) -> str:
    for name in TABLES:
        pattern = re.compile(re.escape(BEGIN.format(name=name)) + r"\n.*?" + re.escape(END.format(name=name)), re.S)
        block = f"{BEGIN.format(name=name)}\n{readme_table(name)}\n{END.format(name=name)}"
        if not pattern.search(text):
            raise ValueError(f"README.md has no settings:{name} block")
        text = _replace_literally(pattern, block, text)
    return text


def _replace_literally(pattern: re.Pattern[str], replacement: str, text: str) -> str:
    """Each match replaced by `replacement` as it is (a backslash in it is no group reference)."""
    return pattern.sub(lambda _match: replacement, text)


def env_example() -> str:
    lines = [
        "# Generated from core/settings.py by `python -m core.settings_docs`: change the declarations, not this file.",
        "# Copy to .env (never commit it) or set these in the deployment's environment.",
        "# An empty or unset variable takes its default (the commented-out value).",
    ]
    current = None
    for section, declared in declared_settings():
        if section != current:
            lines += ["", f"# --- {SECTION_TITLES[section]}"]
            current = section
        text = f"{declared.description} [{declared.parser.accepts}]".replace("`", "")
        lines += textwrap.wrap(
            text, width=110, initial_indent="# ", subsequent_indent="# ", break_on_hyphens=False, break_long_words=False
        )
        if declared.example is None:
            lines.append(f"# {declared.variable}={declared.default}")
        else:
            lines.append(f"{declared.variable}={declared.example}")
    return "\n".join(lines) + "\n"


def main() -> int:
    README.write_text(readme_with_tables(README.read_text(encoding="utf-8")), encoding="utf-8")
    ENV_EXAMPLE.write_text(env_example(), encoding="utf-8")
    print("README.md and .env.example written from core/settings.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
