"""DS date-times on the wire: ISO 8601 with an offset; the model keeps aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_ds_datetime(value: str | None) -> datetime | None:
    """DS sends ISO 8601 with an offset; the model stores aware UTC."""
    if not value:
        return None
    return ds_datetime(value)


def ds_datetime(value: str) -> datetime:
    """A date DS always gives, as aware UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_ds_datetime(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
