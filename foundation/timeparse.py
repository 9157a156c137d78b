"""The one reader of a date or date-time someone typed (CLI option, query parameter, form).

The rule, everywhere:
- a value with an offset (``2026-11-22T09:00-05:00``, ``...Z``) is that instant;
- a value without one is read on the clock of whoever typed it: machine interfaces (the CLI,
  ``/api/``, Open311) read it as UTC; pages, whose date and time pickers give the city's wall
  clock, pass ``naive_zone=settings.timezone``;
- a bare date used as the end of a range (``end_of_day=True``) means the end of that day.
Bad input raises ``ValueError`` naming the value; so does a year outside ``YEARS`` (year 1
and year 9999 cannot move by a day or a time zone without overflowing, which was a 500).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DATE_ONLY_LEN = len("2026-11-22")
YEARS = (1900, 9000)  # the years anyone may ask about; beyond them datetime arithmetic overflows


def _in_years(day: date, value: str) -> None:
    if not YEARS[0] <= day.year <= YEARS[1]:
        raise ValueError(f"{value!r} is out of range: years {YEARS[0]} to {YEARS[1]}")


def parse_day(value: str) -> date:
    """``YYYY-MM-DD`` -> date, within ``YEARS``."""
    text = value.strip() if isinstance(value, str) else ""
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"not a date (YYYY-MM-DD): {value!r}") from exc
    _in_years(day, value)
    return day


def parse_instant(value: str, *, naive_zone: str = "UTC", end_of_day: bool = False) -> datetime:
    """ISO 8601 date or date-time -> aware UTC datetime (rule in the module docstring)."""
    text = value.strip() if isinstance(value, str) else ""
    try:
        dt = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 date/time: {value!r}") from exc
    _in_years(dt.date(), value)
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
