from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def parse_ds_datetime(value: str | None) -> datetime | None:
    """DS sends ISO 8601 with an offset; the model stores aware UTC."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def format_ds_datetime(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


# Months, days and delays that people read are counted in Paris time.
PARIS = ZoneInfo("Europe/Paris")


def paris_today() -> date:
    return datetime.now(PARIS).date()


def previous_month(day: date) -> str:
    """YYYY-MM of the month before `day`."""
    return (day.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
