"""Monthly xlsx report per service: hand-computed figures and agreement with the stats page."""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl
import pandas as pd
import pytest

from mappings.routing import load_routing_table
from stats.figures import DECISIONS, build_figures, prepare, raw_by_month
from stats.load import load_dossiers
from stats.report import build_monthly_reports, decisions_of_month, file_name, nationalities_by_outcome, summarise
from tests.stats_fixtures import dossier, insert, small_fixture, synthetic, utc

CLOSED = "Service de la main-d'œuvre étrangère de l'Ariège"  # open = non in mappings/services.csv
OPEN = "Service de la main-d'œuvre étrangère de Paris"


HEADER_ROW = 5  # the report's title, service and month, a blank row, then each sheet's table


def sheet(content: bytes, name: str) -> pd.DataFrame:
    return pd.read_excel(io.BytesIO(content), sheet_name=name, header=HEADER_ROW - 1)


def summary_values(content: bytes) -> dict[str, int]:
    frame = sheet(content, "Synthèse")
    return dict(zip(frame.iloc[:, 0], frame.iloc[:, 1], strict=True))


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
    assert workbook["Refus"]["E6"].hyperlink.target == url
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
            values[k]
            for k in (
                "Acceptés, APT de moins de 3 mois",
                "Acceptés, APT de 3 mois ou plus",
                "Acceptés, durée de l'APT non renseignée",
            )
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
    assert header == "Décisions d'avril 2026"
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
    assert (row["Acceptés"], row["Refusés"]) == (
        (algeria["outcome"] == "accepted").sum(),
        (algeria["outcome"] == "refused").sum(),
    )


def test_a_service_not_open_gets_no_report_its_decisions_go_to_the_fallback_groupe(sessions):
    assert not load_routing_table().service_by_name(CLOSED).open and load_routing_table().service_by_name(OPEN).open
    decided = (utc("2026-03-02T10:00"), utc("2026-03-12T10:00"))
    insert(
        sessions,
        [
            dossier(1, "accepte", *decided, service=CLOSED, departement="09"),
            dossier(2, "refuse", *decided, service=None, departement=None),
            dossier(3, "accepte", *decided, service=OPEN, departement="75"),
        ],
    )
    with sessions() as session:
        reports = build_monthly_reports(session, "2026-03")
    fallback = load_routing_table().fallback_groupe
    assert sorted(reports) == sorted([fallback, OPEN])
    values = summary_values(reports[fallback])
    assert values["Acceptés, total"] == 1 and values["Refusés"] == 1


def book_of(content: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(content))


def test_every_sheet_says_whose_report_for_which_month_and_where_the_definitions_are(small):
    with small() as session:
        reports = build_monthly_reports(session, "2026-03")
    workbook = book_of(reports["Paris"])
    assert workbook.sheetnames == ["Synthèse", "Nationalités", "Refus", "Définitions"]
    for ws in workbook:
        assert ws["A1"].value == "Rapport mensuel des autorisations provisoires de travail – mars 2026"
        assert ws["A1"].font.bold
        assert ws["A2"].value == "Service : Paris"
        assert "mars 2026" in ws["A3"].value and "« Définitions »" in ws["A3"].value
    terms = {row[0]: row[1] for row in workbook["Définitions"].iter_rows(min_row=HEADER_ROW + 1, values_only=True)}
    assert {"Décision", "Date de décision", "APT de moins de 3 mois", "Classé sans suite", "Nationalité"} <= set(terms)
    assert "heure de Paris" in terms["Décision"]
    assert "À orienter manuellement" in terms["Service"]


def test_every_sheet_prints_on_a4_landscape_one_page_wide_with_its_headings_on_each_page(small):
    with small() as session:
        reports = build_monthly_reports(session, "2026-03")
    for ws in book_of(reports["Paris"]):
        assert ws.page_setup.orientation == "landscape"
        assert int(ws.page_setup.paperSize) == 9  # A4 in the OOXML paper sizes
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert (int(ws.page_setup.fitToWidth), int(ws.page_setup.fitToHeight)) == (1, 0)
        assert ws.print_title_rows == f"$1:${HEADER_ROW}"
        assert ws.freeze_panes == f"A{HEADER_ROW + 1}"
        headers = [c for c in ws[HEADER_ROW] if c.value is not None]
        assert headers and all(c.font.bold for c in headers)
        last = headers[-1].column_letter
        assert ws.auto_filter.ref == f"A{HEADER_ROW}:{last}{ws.max_row}"


def test_columns_are_as_wide_as_what_they_show(small):
    """« Départeme », « 10/11/202 »: a column narrower than its header or its dates prints cut."""
    with small() as session:
        reports = build_monthly_reports(session, "2026-03")
    for ws in book_of(reports["Paris"]):
        if ws.title == "Définitions":
            continue
        for column in ws.iter_cols(min_row=HEADER_ROW):
            shown = [c.value.strftime("%d/%m/%Y") if c.is_date else str(c.value) for c in column if c.value is not None]
            width = ws.column_dimensions[column[0].column_letter].width
            assert width >= max(len(text) for text in shown), (ws.title, column[0].value, width)


def test_refusals_show_real_dates_and_departement_names(small):
    with small() as session:
        reports = build_monthly_reports(session, "2026-03")
    ws = book_of(reports["Paris"])["Refus"]
    assert [c.value for c in ws[HEADER_ROW]] == ["Dossier", "Département", "Date de dépôt", "Date de décision", "Lien"]
    number, departement, deposited, decided, _ = ws[HEADER_ROW + 1]
    assert number.value == 2 and number.data_type == "n"
    assert departement.value == "75 – Paris"
    # Dossier 2: deposited 5 March 10:00 UTC, refused 15 March 10:00 UTC (11:00 in Paris).
    assert deposited.is_date and deposited.value == datetime(2026, 3, 5) and deposited.number_format == "dd/mm/yyyy"
    assert decided.is_date and decided.value == datetime(2026, 3, 15) and decided.number_format == "dd/mm/yyyy"


def test_a_decision_late_in_the_evening_is_dated_by_its_day_in_paris(sessions):
    insert(sessions, [dossier(1, "refuse", utc("2026-03-01T09:00"), utc("2026-03-31T22:30"), departement="02")])
    with sessions() as session:
        reports = build_monthly_reports(session, "2026-04")
    ws = book_of(reports["Paris"])["Refus"]
    assert ws.cell(HEADER_ROW + 1, 2).value == "02 – Aisne"
    assert ws.cell(HEADER_ROW + 1, 4).value == datetime(2026, 4, 1)


def test_nationalities_with_as_many_decisions_follow_french_alphabetical_order(sessions):
    names = [
        ("VN", "Viêt Nam"),
        ("US", "États-Unis"),
        ("IT", "Italie"),
        ("IS", "Islande"),
        ("IE", "Irlande"),
        ("ES", "Espagne"),
        ("IN", "Inde"),
        ("MH", "Îles Marshall"),
    ]
    decided = (utc("2026-03-02T10:00"), utc("2026-03-12T10:00"))
    insert(
        sessions,
        [dossier(n, "accepte", *decided, nationality=name) for n, name in enumerate(names, start=1)]
        + [dossier(20 + n, "refuse", *decided, nationality=("DZ", "Algérie")) for n in range(2)],
    )
    with sessions() as session:
        reports = build_monthly_reports(session, "2026-03")
    table = sheet(reports["Paris"], "Nationalités")
    assert table["Nationalité"].tolist() == [
        "Algérie",
        "Espagne",
        "États-Unis",
        "Îles Marshall",
        "Inde",
        "Irlande",
        "Islande",
        "Italie",
        "Viêt Nam",
        "Total",
    ]
