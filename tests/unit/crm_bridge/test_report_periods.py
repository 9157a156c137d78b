"""Which period a scheduled report covers and when it falls due, in the city's zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from crm_bridge.scheduled.periods import Frequency, Period, latest_due

NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(("frequency", "now", "period", "due"), [
    # daily: yesterday, from the send hour on; before it, the day before yesterday
    (Frequency.DAILY, datetime(2026, 3, 4, 7, 0, tzinfo=NY),
     Period(date(2026, 3, 3), date(2026, 3, 3)), datetime(2026, 3, 4, 7, tzinfo=NY)),
    (Frequency.DAILY, datetime(2026, 3, 4, 6, 59, tzinfo=NY),
     Period(date(2026, 3, 2), date(2026, 3, 2)), datetime(2026, 3, 3, 7, tzinfo=NY)),
    # weekly: Monday to Sunday before the last Monday's send
    (Frequency.WEEKLY, datetime(2026, 3, 4, 12, tzinfo=NY),
     Period(date(2026, 2, 23), date(2026, 3, 1)), datetime(2026, 3, 2, 7, tzinfo=NY)),
    (Frequency.WEEKLY, datetime(2026, 3, 2, 6, tzinfo=NY),  # Monday before the hour
     Period(date(2026, 2, 16), date(2026, 2, 22)), datetime(2026, 2, 23, 7, tzinfo=NY)),
    # monthly: the month before the 1st; February of a leap year and the turn of the year
    (Frequency.MONTHLY, datetime(2028, 3, 1, 7, tzinfo=NY),
     Period(date(2028, 2, 1), date(2028, 2, 29)), datetime(2028, 3, 1, 7, tzinfo=NY)),
    (Frequency.MONTHLY, datetime(2027, 1, 1, 6, tzinfo=NY),
     Period(date(2026, 11, 1), date(2026, 11, 30)), datetime(2026, 12, 1, 7, tzinfo=NY)),
    (Frequency.MONTHLY, datetime(2027, 1, 15, tzinfo=NY),
     Period(date(2026, 12, 1), date(2026, 12, 31)), datetime(2027, 1, 1, 7, tzinfo=NY)),
])
def test_latest_due(frequency: Frequency, now: datetime, period: Period, due: datetime) -> None:
    assert latest_due(frequency, now, 7) == (period, due)


def test_due_hour_is_city_time_across_dst() -> None:
    # 8 March 2026: clocks go forward in New York; the send is still 07:00 local (11:00 UTC)
    _, due = latest_due(Frequency.DAILY, datetime(2026, 3, 9, 12, tzinfo=NY), 7)
    assert due.utcoffset() is not None and due.hour == 7
    assert due.astimezone(ZoneInfo("UTC")).hour == 11


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        latest_due(Frequency.DAILY, datetime(2026, 3, 4, 7), 7)  # noqa: DTZ001


def test_label() -> None:
    p = Period(date(2026, 2, 1), date(2026, 2, 28))
    assert p.days == 28 and p.label(Frequency.MONTHLY) == "February 2026"
