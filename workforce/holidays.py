"""US federal holidays (the observed day), the usual special days of a US city's 311 center."""

from __future__ import annotations

from datetime import date, timedelta


def _nth(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th given weekday (0 = Monday) of a month; n = -1 for the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    """A Saturday holiday is observed on Friday, a Sunday one on Monday."""
    return day + timedelta(days={5: -1, 6: 1}.get(day.weekday(), 0))


def us_federal_holidays(year: int) -> list[tuple[date, str]]:
    """(observed date, name) of the eleven federal holidays of ``year``, in date order."""
    days = [
        (_observed(date(year, 1, 1)), "New Year's Day"),
        (_nth(year, 1, 0, 3), "Martin Luther King Jr. Day"),
        (_nth(year, 2, 0, 3), "Washington's Birthday"),
        (_nth(year, 5, 0, -1), "Memorial Day"),
        (_observed(date(year, 6, 19)), "Juneteenth"),
        (_observed(date(year, 7, 4)), "Independence Day"),
        (_nth(year, 9, 0, 1), "Labor Day"),
        (_nth(year, 10, 0, 2), "Columbus Day"),
        (_observed(date(year, 11, 11)), "Veterans Day"),
        (_nth(year, 11, 3, 4), "Thanksgiving Day"),
        (_observed(date(year, 12, 25)), "Christmas Day"),
    ]
    return sorted(days)
