"""Interval history: aggregation, gaps and special days as NaN, CSV and call-record sources."""

from __future__ import annotations

import io
import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from workforce.history import (
    HistoryError,
    Interval,
    SpecialDay,
    build,
    from_call_records,
    read_csv,
    read_special_days,
)

T0 = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)  # a Monday


def test_csv_rows_and_aht():
    rows = read_csv(io.StringIO("interval_start,calls,aht_s\n2024-03-04T08:00:00Z,10,200\n"
                                "2024-03-04T08:15:00+00:00,0,\n"))
    assert rows[0] == Interval(T0, 10.0, 10.0, 2000.0)
    assert rows[1].calls == 0 and rows[1].handled == 0


@pytest.mark.parametrize("text", ["when,calls\nx,1\n", "interval_start,calls\nnope,1\n",
                                  "interval_start,calls\n2024-03-04T08:00Z,-1\n",
                                  "interval_start,calls\n2024-03-04T08:00Z,abc\n",
                                  "interval_start,calls\n2024-03-04T08:00Z,nan\n",
                                  "interval_start,calls,aht_s\n2024-03-04T08:00Z,3,-180\n",
                                  "interval_start,calls,aht_s\n2024-03-04T08:00Z,3,inf\n",
                                  "interval_start,calls\n"])
def test_csv_errors_are_clear(text):
    with pytest.raises(HistoryError):
        read_csv(io.StringIO(text))


def test_aggregates_to_the_interval_and_marks_gaps():
    rows = [Interval(T0 + timedelta(minutes=5 * i), 1.0) for i in range(6)]  # 08:00-08:25
    rows += [Interval(T0 + timedelta(days=2), 4.0)]  # Wednesday; this Tuesday missing = gap
    rows += [Interval(T0 + timedelta(days=8), 2.0)]  # next Tuesday: Tuesdays are open
    h = build(rows, 15, UTC)
    assert h.days[:3] == [date(2024, 3, 4), date(2024, 3, 5), date(2024, 3, 6)]
    assert h.days[-1] == date(2024, 3, 12) and h.season == 3
    assert h.gaps == [date(2024, 3, 5), date(2024, 3, 11)]
    assert h.calls[0].tolist() == [3.0, 3.0]
    assert np.isnan(h.calls[1]).all()  # a gap is unknown, not zero calls
    assert h.calls[2, 0] == 4.0 and np.isnan(h.calls[2, 1])  # missing slot of an observed day


def test_closed_weekdays_are_not_days():
    rows = [Interval(T0 + timedelta(days=d), 1.0) for d in range(14) if d % 7 < 5]
    h = build(rows, 60, UTC)
    assert h.season == 5 and len(h.days) == 10 and not h.gaps


def test_special_days_are_excluded_from_training():
    rows = [Interval(T0 + timedelta(days=d), 5.0) for d in range(7)]
    h = build(rows, 60, UTC, [SpecialDay(date(2024, 3, 6), "exclude", note="storm")])
    assert h.excluded == [date(2024, 3, 6)]
    assert np.isnan(h.calls[2]).all()


def test_local_time_slots():
    ny = ZoneInfo("America/New_York")
    rows = [Interval(datetime(2024, 3, 8, 13, 0, tzinfo=UTC), 1.0),  # 08:00 EST
            Interval(datetime(2024, 3, 11, 12, 0, tzinfo=UTC), 1.0)]  # 08:00 EDT
    h = build(rows, 30, ny)
    assert [s.isoformat() for s in h.slots] == ["08:00:00"]


def test_interval_must_divide_a_day():
    with pytest.raises(HistoryError):
        build([Interval(T0, 1.0)], 7, UTC)


def test_from_call_records_counts_offered_and_handle_time():
    recs = [(T0 + timedelta(minutes=1), "answered", 100.0, 20.0, 10.0),
            (T0 + timedelta(minutes=2), "abandoned", None, 0.0, 0.0),
            (T0 + timedelta(minutes=20), "answered", 200.0, 0.0, 0.0),
            (T0 + timedelta(hours=5), "answered", 1.0, 0.0, 0.0)]  # outside the window
    rows = from_call_records(recs, 15, T0, T0 + timedelta(minutes=45))
    assert [(r.calls, r.handled, r.handle_s) for r in rows] == [
        (2.0, 1.0, 120.0), (1.0, 1.0, 200.0), (0.0, 0.0, 0.0)]  # hold is inside the talk time


def test_special_days_csv():
    days = read_special_days(io.StringIO("date,kind,factor,note\n2024-07-04,override,0,closed\n"
                                         "2024-01-09,exclude,,storm\n"))
    assert days[0] == SpecialDay(date(2024, 7, 4), "override", 0.0, "closed")
    assert days[1].kind == "exclude" and math.isclose(days[1].factor, 1.0)
    for bad in ("date,kind\n2024-07-04,holiday\n", "date,kind\n07/04/2024,exclude\n",
                "date,kind,factor\n2024-07-04,override,-1\n",
                "date,kind,factor\n2024-07-04,override,nan\n"):
        with pytest.raises(HistoryError):
            read_special_days(io.StringIO(bad))
