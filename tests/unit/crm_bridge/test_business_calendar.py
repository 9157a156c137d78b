from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crm_bridge.tickets.business_calendar import (
    BusinessCalendar,
    SlaPolicy,
    SlaUnit,
    city_holidays,
    next_check_at,
    stage_for,
    us_federal_holidays,
)

NY = ZoneInfo("America/New_York")
CAL = BusinessCalendar(tz=NY, holidays=city_holidays(range(2025, 2028)))


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def test_federal_holidays_observed() -> None:
    h = us_federal_holidays(2026)
    assert date(2026, 7, 3) in h  # July 4th 2026 is a Saturday
    assert date(2026, 11, 26) in h  # Thanksgiving
    assert date(2026, 1, 19) in h  # MLK day
    assert len(h) == 11


def test_business_hours_skip_night_weekend_and_holiday() -> None:
    # Friday 2026-07-02 16:00 + 4 business hours: 1h Thu... Friday 3 July is observed holiday.
    start = ny(2026, 7, 2, 16, 0)  # Thursday
    due = CAL.due(SlaPolicy(SlaUnit.BUSINESS_HOURS, 4), start)
    assert due == ny(2026, 7, 6, 11, 0)  # Monday 11:00 (1h Thu, Fri holiday, weekend)


def test_business_days_and_calendar_days() -> None:
    start = ny(2026, 3, 2, 10, 0)  # Monday
    assert CAL.due(SlaPolicy(SlaUnit.BUSINESS_DAYS, 5), start) == ny(2026, 3, 9, 10, 0)
    assert CAL.due(SlaPolicy(SlaUnit.CALENDAR_DAYS, 3), start) == start + timedelta(days=3)


def test_opened_after_hours_starts_next_morning() -> None:
    due = CAL.due(SlaPolicy(SlaUnit.BUSINESS_HOURS, 2), ny(2026, 3, 2, 22, 0))
    assert due == ny(2026, 3, 3, 10, 0)


def test_dst_change_does_not_stretch_a_day() -> None:
    # 2026-03-08 is the spring-forward Sunday; working day is still 9h on both sides
    sec = CAL.business_seconds(ny(2026, 3, 6, 8, 0), ny(2026, 3, 9, 17, 0))
    assert sec == 2 * 9 * 3600


def test_subtract_is_inverse_of_add() -> None:
    start = ny(2026, 5, 20, 15, 30)
    later = CAL.add_business_seconds(start, 20 * 3600)
    assert CAL.add_business_seconds(later, -20 * 3600) == start


def test_hold_extends_due_by_working_time_on_hold() -> None:
    pol = SlaPolicy(SlaUnit.BUSINESS_HOURS, 8)
    due = CAL.due(pol, ny(2026, 3, 2, 8, 0))
    assert due == ny(2026, 3, 2, 16, 0)
    new = CAL.extend_for_hold(pol, due, ny(2026, 3, 2, 9, 0), ny(2026, 3, 2, 11, 0))
    assert new == ny(2026, 3, 3, 9, 0)


def test_fraction_and_stages() -> None:
    pol = SlaPolicy(SlaUnit.CALENDAR_DAYS, 4)
    opened = datetime(2026, 1, 1, tzinfo=UTC)
    due = CAL.due(pol, opened)
    assert CAL.fraction_used(pol, due, opened + timedelta(days=3)) == pytest.approx(0.75)
    assert stage_for(0.5) == 0 and stage_for(0.75) == 1 and stage_for(1.0) == 2
    assert stage_for(1.49) == 2 and stage_for(1.5) == 3
    assert next_check_at(CAL, pol, due, 0) == opened + timedelta(days=3)
    assert next_check_at(CAL, pol, due, 1) == due
    assert next_check_at(CAL, pol, due, 2) == due + timedelta(days=2)


def test_describe() -> None:
    assert SlaPolicy(SlaUnit.BUSINESS_DAYS, 3).describe() == "3 business days"
    assert SlaPolicy(SlaUnit.CALENDAR_DAYS, 1).describe() == "1 day"
