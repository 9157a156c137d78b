"""US federal holidays, observed dates (checked against the OPM calendars)."""

from __future__ import annotations

from datetime import date

from workforce.holidays import us_federal_holidays


def test_2024_observed_dates():
    assert [d for d, _ in us_federal_holidays(2024)] == [
        date(2024, 1, 1), date(2024, 1, 15), date(2024, 2, 19), date(2024, 5, 27),
        date(2024, 6, 19), date(2024, 7, 4), date(2024, 9, 2), date(2024, 10, 14),
        date(2024, 11, 11), date(2024, 11, 28), date(2024, 12, 25)]


def test_weekend_holidays_move_to_the_nearest_weekday():
    days = dict((name, d) for d, name in us_federal_holidays(2021))
    assert days["Independence Day"] == date(2021, 7, 5)  # a Sunday -> Monday
    assert days["Christmas Day"] == date(2021, 12, 24)  # a Saturday -> Friday
    assert days["Juneteenth"] == date(2021, 6, 18)
    assert dict((n, d) for d, n in us_federal_holidays(2026))["Memorial Day"] == date(2026, 5, 25)
