"""The one rule for reading a date or date-time someone typed (CLI option, query parameter).

An ISO 8601 value with an offset means that instant. A value without an offset is read in
UTC, everywhere: the CLI, the JSON API and the report pages; a page that means "the city's
day" converts with ``city_day`` explicitly. Bad input raises ``ValueError`` with the value.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def parse_instant(value: str) -> datetime:
    """ISO 8601 date or date-time -> aware UTC datetime; no offset means UTC."""
    try:
        dt = datetime.fromisoformat(value.strip())
    except (ValueError, AttributeError) as exc:
        raise ValueError(f"not an ISO 8601 date/time: {value!r}") from exc
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def city_day(day: date, zone: str) -> tuple[datetime, datetime]:
    """The UTC bounds [start, end) of one calendar day in the city's time zone."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(), tz)
    end = datetime.combine(day + timedelta(days=1), time(), tz)
    return start.astimezone(UTC), end.astimezone(UTC)
