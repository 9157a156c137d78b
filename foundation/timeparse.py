"""The one reader of a date or date-time someone typed (CLI option, query parameter, form).

The rule, everywhere:
- a value with an offset (``2026-11-22T09:00-05:00``, ``...Z``) is that instant;
- a value without one is read on the clock of whoever typed it: machine interfaces (the CLI,
  ``/api/``, Open311) read it as UTC; pages, whose date and time pickers give the city's wall
  clock, pass ``naive_zone=settings.timezone``;
- a bare date used as the end of a range (``end_of_day=True``) means the end of that day.
Bad input raises ``ValueError`` naming the value.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DATE_ONLY_LEN = len("2026-11-22")


def parse_instant(value: str, *, naive_zone: str = "UTC", end_of_day: bool = False) -> datetime:
    """ISO 8601 date or date-time -> aware UTC datetime (rule in the module docstring)."""
    text = value.strip() if isinstance(value, str) else ""
    try:
        dt = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 date/time: {value!r}") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(naive_zone))
    if end_of_day and len(text) == DATE_ONLY_LEN:
        dt += timedelta(days=1)
    return dt.astimezone(UTC)


def city_day(day: date, zone: str) -> tuple[datetime, datetime]:
    """The UTC bounds [start, end) of one calendar day in the city's time zone."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(), tz)
    end = datetime.combine(day + timedelta(days=1), time(), tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def city_today(zone: str, now: datetime) -> tuple[datetime, datetime]:
    """Midnight to midnight of the city's day at ``now``, as datetimes in the city's zone."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    start = datetime.combine(local.date(), time(0), tzinfo=tz)
    return start, datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=tz)
