"""`wif stats` and `wif report` write their files from the configured database."""

from __future__ import annotations

import argparse

import openpyxl
import pytest

from core.db import Database
from core.settings import DSSettings, Settings
from jobs.verbs import report as report_command
from jobs.verbs import stats as stats_command
from tests.stats_fixtures import insert, small_fixture


def parse(module, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    module.configure(parser)
    return parser.parse_args(argv)


@pytest.fixture
def sessions(database_url):
    """The commands' own schema (migrations), filled by the tests."""
    with Database(database_url) as database:
        yield database.sessions


def run(module, args, settings):
    with Database(settings.database_url) as database:
        result = module.run(args, settings, database)
    print(*result.lines, sep="\n")
    return result.exit_code


def test_wif_stats_writes_the_site(sessions, database_url, tmp_path):
    insert(sessions, small_fixture())
    args = parse(stats_command, ["--out", str(tmp_path / "site")])
    assert run(stats_command, args, Settings(database_url=database_url)) == 0
    assert (tmp_path / "site" / "index.html").exists() and (tmp_path / "site" / "stats.json").exists()


def test_wif_report_writes_one_file_per_service(sessions, database_url, tmp_path):
    insert(sessions, small_fixture())
    args = parse(report_command, ["--month", "2026-03", "--out", str(tmp_path)])
    settings = Settings(
        database_url=database_url, ds=DSSettings(api_url="https://demarche.numerique.gouv.fr/api/v2/graphql")
    )
    assert run(report_command, args, settings) == 0
    assert sorted(p.name for p in tmp_path.glob("*.xlsx")) == [
        "rapport-2026-03-lyon.xlsx",
        "rapport-2026-03-paris.xlsx",
    ]
    workbook = openpyxl.load_workbook(tmp_path / "rapport-2026-03-paris.xlsx")
    refusals = workbook["Refus"]
    link_header = next(cell for row in refusals.iter_rows() for cell in row if cell.value == "Lien")
    first_link = refusals.cell(row=link_header.row + 1, column=link_header.column)
    assert first_link.value.startswith("https://demarche.numerique.gouv.fr/procedures/1/dossiers/")
    assert first_link.hyperlink.target == first_link.value


def test_report_month_must_be_year_dash_month():
    with pytest.raises(SystemExit):
        parse(report_command, ["--month", "2026-13"])


def test_dry_runs_write_nothing(sessions, database_url, tmp_path, capsys):
    insert(sessions, small_fixture())
    settings = Settings(database_url=database_url)
    assert run(stats_command, parse(stats_command, ["--out", str(tmp_path / "site"), "--dry-run"]), settings) == 0
    assert (
        run(
            report_command,
            parse(report_command, ["--month", "2026-03", "--out", str(tmp_path / "r"), "--dry-run"]),
            settings,
        )
        == 0
    )
    assert not (tmp_path / "site").exists() and not (tmp_path / "r").exists()
    assert "rapport-2026-03-paris.xlsx" in capsys.readouterr().out
