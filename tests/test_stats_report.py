"""Monthly xlsx report per service: hand-computed figures and agreement with the stats page."""
from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from stats.figures import DECISIONS, build_figures, prepare, raw_by_month
from stats.load import load_dossiers
from mappings.routing import load_routing_table
from stats.report import build_monthly_reports, decisions_of_month, file_name, nationalities_by_outcome, summarise
from tests.stats_fixtures import dossier, insert, small_fixture, synthetic, utc

CLOSED = "Service de la main-d'œuvre étrangère de l'Ariège"  # open = non in mappings/services.csv
OPEN = "Service de la main-d'œuvre étrangère de Paris"


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
    assert nationalities.to_dict("records") == [
        {"Nationalité": "Algérie", "Acceptés": 0, "Refusés": 1, "Classés sans suite": 0, "Total": 1},
        {"Nationalité": "Total", "Acceptés": 0, "Refusés": 1, "Classés sans suite": 0, "Total": 1},
    ]


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


def test_the_summary_header_names_the_month_in_french(small):
    with small() as session:
        reports = build_monthly_reports(session, "2026-04")
    header = sheet(reports["Paris"], "Synthèse").columns[0]
    assert header == "Décisions de avril 2026"
    assert "2026-04" not in header


def test_file_names_transliterate_accents():
    assert file_name("2026-11", CLOSED) == "rapport-2026-11-service-de-la-main-d-oeuvre-etrangere-de-l-ariege.xlsx"
    assert file_name("2026-11", "Île-de-France") == "rapport-2026-11-ile-de-france.xlsx"
    assert file_name("2026-11", "***") == "rapport-2026-11-service.xlsx"


def test_nationalities_are_split_by_outcome_with_the_others_summed(sessions):
    insert(sessions, synthetic(600))
    with sessions() as session:
        decisions = decisions_of_month(prepare(load_dossiers(session)), "2026-03")
    table = nationalities_by_outcome(decisions, count=3)
    assert list(table.columns) == ["Nationalité", "Acceptés", "Refusés", "Classés sans suite", "Total"]
    body, others, total = table.iloc[:3], table.iloc[3], table.iloc[4]
    assert others["Nationalité"] == "Autres nationalités (2)" and total["Nationalité"] == "Total"
    assert (table["Acceptés"] + table["Refusés"] + table["Classés sans suite"] == table["Total"]).all()
    assert body["Total"].is_monotonic_decreasing
    assert total["Total"] == len(decisions) == body["Total"].sum() + others["Total"]
    algeria = decisions[decisions["nationality_name"] == "Algérie"]
    row = table[table["Nationalité"] == "Algérie"].iloc[0]
    assert (row["Acceptés"], row["Refusés"]) == ((algeria["outcome"] == "accepted").sum(), (algeria["outcome"] == "refused").sum())


def test_a_service_not_open_gets_no_report_its_decisions_go_to_the_fallback_groupe(sessions):
    assert not load_routing_table().service_by_name(CLOSED).open and load_routing_table().service_by_name(OPEN).open
    decided = (utc("2026-03-02T10:00"), utc("2026-03-12T10:00"))
    insert(sessions, [
        dossier(1, "accepte", *decided, service=CLOSED, departement="09"),
        dossier(2, "refuse", *decided, service=None, departement=None),
        dossier(3, "accepte", *decided, service=OPEN, departement="75"),
    ])
    with sessions() as session:
        reports = build_monthly_reports(session, "2026-03")
    fallback = load_routing_table().fallback_groupe
    assert sorted(reports) == sorted([fallback, OPEN])
    values = summary_values(reports[fallback])
    assert values["Acceptés, total"] == 1 and values["Refusés"] == 1
