from stats import format as fr


def test_french_numbers():
    assert fr.integer(1234) == "1\u202f234"
    assert fr.integer(1234567) == "1\u202f234\u202f567"
    assert fr.percent(12.5) == "12,5\u202f%"
    assert fr.decimal(2.25, 1) in ("2,2", "2,3")


def test_french_months():
    assert fr.month_label("2026-11") == "novembre 2026"
    assert fr.month_label("2026-02") == "février 2026"


def test_cells():
    assert fr.cell(3.0, "count", hidden=True) == "masqué"
    assert fr.cell(float("nan"), "percent", hidden=True) == "masqué"  # a rate from a hidden count is hidden too
    assert fr.cell(12.0, "days", hidden=False) == "12"
    assert fr.cell(float("nan"), "days", hidden=False) == "–"
    assert fr.cell(4321.0, "count", hidden=False) == "4\u202f321"


def test_short_month_labels_for_chart_axes():
    assert fr.short_month_label("2025-12") == "déc. 2025"
    assert fr.short_month_label("2026-01") == "janv. 2026"
    assert fr.short_month_label("2026-06") == "juin 2026"
