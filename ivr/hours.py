"""Business hours and holidays in the city's time zone (pure: the clock is an argument)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ivr.menu import Menu


def is_open(menu: Menu, at: datetime) -> bool:
    """True when agents answer at ``at`` (timezone-aware) under the menu's hours."""
    if at.tzinfo is None:
        raise ValueError("is_open needs a timezone-aware datetime")
    if menu.always_open:
        return True
    local = at.astimezone(ZoneInfo(menu.timezone))
    if local.date() in menu.holidays:
        return False
    span = menu.hours.get(local.weekday())
    return span is not None and span[0] <= local.time().replace(tzinfo=None) < span[1]


def next_open(menu: Menu, at: datetime, horizon_days: int = 31) -> datetime:
    """``at`` when open, else the next moment agents answer (holidays skipped); ``at`` again
    when nothing opens within the horizon (a menu closed for a month calls back at once)."""
    if is_open(menu, at):
        return at
    tz = ZoneInfo(menu.timezone)
    local = at.astimezone(tz)
    for days in range(horizon_days + 1):
        day = (local + timedelta(days=days)).date()
        span = menu.hours.get(day.weekday())
        if span is None or day in menu.holidays:
            continue
        opens = datetime.combine(day, span[0], tz)
        if opens > at:
            return opens
    return at
