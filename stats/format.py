"""French number and date formats for the page (no locale dependency)."""

from __future__ import annotations

import math

import pandas as pd

from core.french import MONTHS, SHORT_MONTHS

THIN_SPACE = "\u202f"  # espace fine insécable: thousands separator and before "%"
# A hidden count reads the same whether it was under the threshold or hidden to protect one
# that was: « < 5 » would be false for the second kind.
HIDDEN = "masqué"


def is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def integer(value) -> str:
    return f"{int(value):,}".replace(",", THIN_SPACE)


def decimal(value, digits: int = 1) -> str:
    whole, _, fraction = f"{float(value):,.{digits}f}".partition(".")
    text = whole.replace(",", THIN_SPACE)
    return f"{text},{fraction}" if fraction else text


def percent(value) -> str:
    return f"{decimal(value)}{THIN_SPACE}%"


def month_label(month: str | pd.Period) -> str:
    period = pd.Period(month, freq="M")
    return f"{MONTHS[period.month - 1]} {period.year}"


def short_month_label(month: str | pd.Period) -> str:
    """« janv. 2026 »: the abbreviation of the French typographic rules, and the whole year."""
    period = pd.Period(month, freq="M")
    return f"{SHORT_MONTHS[period.month - 1]} {period.year}"


def days(value) -> str:
    return f"{integer(value)} jour{'s' if value > 1 else ''}"


def cell(value, kind: str, hidden: bool) -> str:
    """Text of a table cell: "masqué" when suppressed (a count, or a figure computed from one), "–" when there is
    nothing to compute."""
    if hidden:
        return HIDDEN
    if is_missing(value):
        return "–"
    if kind in ("count", "days"):
        return integer(value)
    if kind == "percent":
        return percent(value)
    return decimal(value)
