"""Monthly xlsx report per service: hand-computed figures and agreement with the stats page."""
from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from stats.figures import DECISIONS, build_figures, prepare, raw_by_month
from stats.load import load_dossiers
from stats.report import build_monthly_reports, decisions_of_month, summarise
from tests.stats_fixtures import insert, small_fixture, synthetic, utc


def sheet(content: bytes, name: str) -> pd.DataFrame:
    return pd.read_excel(io.BytesIO(content), sheet_name=name)


def summary_values(content: bytes) -> dict[str, int]:
    frame = sheet(content, "Synthèse")
    return dict(zip(frame.iloc[:, 0], frame.iloc[:, 1]))


@pytest.fixture
def small(sessions):
    insert(sessions, small_fixture())
    return sessions


def test_april_splits_accepted_by_apt_length(small):
    with small() as session:
        reports = build_monthly_reports(session, "2026-04")
    assert list(reports) == ["Paris"]
    values = summary_values(reports["Paris"])
    # Dossier 1 (decided 1 April Paris time): APT 1 April → 30 June, under 3 months.
    # Dossier 8: APT 15 April → 15 July, exactly 3 months.
    assert values["Acceptés, APT de moins de 3 mois"] == 1
    assert values["Acceptés, APT de 3 mois ou plus"] == 1
    assert values["Refusés"] == 0
    assert values["Total des décisions"] == 2


def test_march_lists_refused_dossiers_with_links(small):
    with small() as session:
        reports = build_monthly_reports(session, "2026-03", ds_host="https://demarche.numerique.gouv.fr/")
    assert sorted(reports) == ["Lyon", "Paris"]
    assert summary_values(reports["Lyon"])["Classés sans suite"] == 1
    refused = sheet(reports["Paris"], "Refus")
    assert refused["Dossier"].tolist() == [2]
    url = "https://demarche.numerique.gouv.fr/procedures/1/dossiers/2"
    assert refused["Lien"].tolist() == [url]
    workbook = openpyxl.load_workbook(io.BytesIO(reports["Paris"]))
    assert workbook["Refus"]["D2"].hyperlink.target == url
    nationalities = sheet(reports["Paris"], "Nationalités")
    assert nationalities.to_dict("records") == [{"Nationalité": "Algérie", "Décisions": 1}]


def test_report_has_no_personal_data(small):
    with small() as session:
        reports = build_monthly_reports(session, "2026-03")
    for content in reports.values():
        workbook = openpyxl.load_workbook(io.BytesIO(content))
        text = " ".join(str(c.value) for ws in workbook for row in ws.iter_rows() for c in row)
        assert "Nomtest" not in text and "@example.test" not in text


def test_reports_agree_with_the_stats_page(sessions):
    insert(sessions, synthetic(600))
    month = "2026-03"
    with sessions() as session:
        reports = build_monthly_reports(session, month)
        frame = load_dossiers(session)
    totals = {"accepted": 0, "refused": 0, "closed": 0}
    for content in reports.values():
        values = summary_values(content)
        assert values["Acceptés, total"] == sum(
            values[k] for k in ("Acceptés, APT de moins de 3 mois", "Acceptés, APT de 3 mois ou plus",
                                "Acceptés, durée de l'APT non renseignée")
        )
        totals["accepted"] += values["Acceptés, total"]
        totals["refused"] += values["Refusés"]
        totals["closed"] += values["Classés sans suite"]
    page = build_figures(frame, utc("2026-11-15T12:00")).by_month
    raw = raw_by_month(prepare(frame), pd.Period("2026-11", freq="M"))
    for measure in DECISIONS:
        assert totals[measure] == raw.at[month, measure]
        if not page.hidden.at[month, measure]:
            assert totals[measure] == page.values.at[month, measure]
    assert not page.hidden.at[month, "accepted"], "the fixture should publish March's acceptances"


def test_summary_counts_missing_apt_dates_apart(small):
    with small() as session:
        prepared = prepare(load_dossiers(session))
    april = decisions_of_month(prepared, "2026-04").copy()
    april["apt_end"] = pd.NaT
    summary = summarise(april)
    assert (summary.accepted_short, summary.accepted_long, summary.accepted_unknown_length) == (0, 0, 2)
