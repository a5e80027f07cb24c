"""The clock: aware UTC for what is stored, Paris time for what people read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


# Months, days and delays that people read are counted in Paris time.
PARIS = ZoneInfo("Europe/Paris")


def paris_today() -> date:
    return datetime.now(PARIS).date()


def previous_month(day: date) -> str:
    """YYYY-MM of the month before `day`."""
    return (day.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
