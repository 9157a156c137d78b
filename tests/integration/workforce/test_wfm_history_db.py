"""Interval history from the system's own call records (acd CallRecord), SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import sqlalchemy as sa

from acd.models import CallRecord
from workforce import models, queries
from workforce.history import SpecialDay, build, from_call_records

TZ = ZoneInfo("America/Chicago")
DAY = datetime(2024, 3, 4, tzinfo=TZ)  # a Monday; CST (UTC-6)


def call(n: int, at: datetime, outcome: str | None, queue: str = "citywide",
         talk_s: float | None = None, hold_s: float = 0.0, acw_s: float = 0.0) -> dict:
    return {"uniqueid": f"u{n}", "queue": queue, "entered_at": at.astimezone(UTC),
            "outcome": outcome, "wait_s": 3.0, "talk_s": talk_s, "hold_s": hold_s,
            "acw_s": acw_s, "source": "test"}


def test_offered_calls_and_handle_time_per_interval(database):
    at = DAY + timedelta(hours=9)
    rows = [
        call(1, at + timedelta(minutes=1), "answered", talk_s=150, hold_s=20, acw_s=30),
        call(2, at + timedelta(minutes=7), "abandoned"),
        call(3, at + timedelta(minutes=14, seconds=59), "refused"),  # offered, never queued
        call(4, at + timedelta(minutes=15), "answered", talk_s=100),
        call(5, at + timedelta(minutes=16), None),  # still live: offered, no handle time yet
        call(6, at + timedelta(minutes=20), "callback"),
        call(7, at + timedelta(minutes=2), "answered", queue="spanish", talk_s=999),
        call(8, at + timedelta(minutes=45), "answered", talk_s=60),  # past the window
    ]
    with database.session() as s:
        s.execute(sa.insert(CallRecord), rows)
    start, end = at, at + timedelta(minutes=45)
    with database.session() as s:
        recs = queries.call_history(s, "citywide", start, end)
        everyone = queries.call_history(s, None, start, end)
    assert len(recs) == 6 and len(everyone) == 7
    got = from_call_records(recs, 15, start, end)
    assert [r.start for r in got] == [start, start + timedelta(minutes=15),
                                      start + timedelta(minutes=30)]
    assert [(r.calls, r.handled, r.handle_s) for r in got] == [
        (3.0, 1.0, 180.0), (3.0, 1.0, 100.0), (0.0, 0.0, 0.0)]  # talk (hold in it) + ACW
    h = build(got, 30, TZ)
    assert h.slots == [time(9, 0), time(9, 30)] and h.days == [date(2024, 3, 4)]
    assert h.calls.tolist() == [[6.0, 0.0]]  # a quiet interval is zero calls, not a gap
    assert h.handle_s[0, 0] / h.handled[0, 0] == 140.0  # AHT of the answered calls


def test_weeks_of_records_on_the_city_grid_with_a_storm_day(database):
    rng = np.random.default_rng(5)
    rows, n = [], 0
    for d in range(21):
        day = DAY + timedelta(days=d)
        if day.weekday() >= 5:
            continue  # closed at weekends
        for hour in (8, 9, 10):
            for _ in range(int(rng.integers(3, 8)) * (4 if d == 9 else 1)):  # Wed 13th: storm
                n += 1
                rows.append(call(n, day + timedelta(hours=hour, minutes=float(rng.uniform(0, 59))),
                                 "answered", talk_s=180))
    with database.session() as s:
        s.execute(sa.insert(CallRecord), rows)
        recs = queries.call_history(s, "citywide", DAY, DAY + timedelta(days=21))
    intervals = from_call_records(recs, 60, DAY, DAY + timedelta(days=21))
    storm = SpecialDay(date(2024, 3, 13), "exclude", note="ice storm")
    h = build(intervals, 60, TZ, [storm])
    assert h.season == 7  # every day of the window has rows (zero-call ones too)...
    open_hours = h.calls[:, 8:11]
    assert np.nansum(open_hours) == n - sum(1 for r in rows if r["entered_at"].astimezone(TZ)
                                            .date() == storm.day)
    assert h.excluded == [storm.day] and np.isnan(h.calls[h.days.index(storm.day)]).all()
    # ...and the zone is the city's: 08:00 local, across the DST change of 10 March
    assert h.slots[8] == time(8) and h.calls[h.days.index(date(2024, 3, 18)), 8] > 0


def test_past_forecast_compared_on_its_own_intervals_in_a_half_hour_zone(database):
    from workforce.planning import compare

    nl = ZoneInfo("America/St_Johns")  # UTC-2:30 in summer: hours start at :30 UTC
    day = datetime(2024, 7, 2, tzinfo=nl)
    starts = [day + timedelta(hours=h) for h in (8, 9, 10)]
    with database.session() as s:
        f = models.WfmForecast(queue="citywide", method="weekday_average", interval_minutes=60,
                              starts_at=starts[0], ends_at=starts[-1])
        f.intervals = [models.WfmForecastInterval(interval_start=st, calls=2.0) for st in starts]
        s.add(f)
        s.execute(sa.insert(CallRecord), [
            call(1, day + timedelta(hours=8, minutes=5), "answered", talk_s=100),
            call(2, day + timedelta(hours=8, minutes=55), "abandoned"),
            call(3, day + timedelta(hours=9, minutes=40), "answered", talk_s=100),
            call(4, day + timedelta(hours=7, minutes=59), "answered", talk_s=100),  # before
        ])
    with database.session() as s:
        f = s.scalars(sa.select(models.WfmForecast)).one()
        cmp = compare(s, f, now=day + timedelta(hours=10, minutes=30))
    assert cmp.actual[:2].tolist() == [2.0, 1.0] and np.isnan(cmp.actual[2])  # 10:00 not over
    assert cmp.intervals == 2 and cmp.wape == (0 + 1) / 3 and cmp.bias == (4 - 3) / 3
