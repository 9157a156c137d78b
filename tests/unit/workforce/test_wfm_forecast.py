"""Forecast methods, backtest selection, AHT forecast and accuracy on small synthetic grids."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from workforce.forecast import backtest, choose, make_forecast, wape_bias
from workforce.history import Interval, SpecialDay, build
from workforce.methods import METHODS

T0 = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday
SHAPE = [0.5, 1.0, 1.5, 1.0]  # four hourly slots 08:00-11:00


def weeks_of(n_weeks: int, level=lambda d: 100.0, aht=180.0, weekdays=range(7)):
    rows = []
    for d in range(7 * n_weeks):
        day = T0 + timedelta(days=d)
        if day.weekday() not in weekdays:
            continue
        total = level(d) * (1.3 if day.weekday() == 0 else 1.0)
        for j, share in enumerate(SHAPE):
            calls = total * share / sum(SHAPE)
            rows.append(Interval(day + timedelta(hours=8 + j), calls, calls, calls * aht))
    return rows


def test_wape_and_bias():
    a, f = np.array([[10.0, 20.0, np.nan]]), np.array([[12.0, 18.0, 5.0]])
    assert wape_bias(a, f) == pytest.approx((4 / 30, 0.0, 2, 30.0))


def test_every_method_recovers_a_clean_weekly_pattern():
    h = build(weeks_of(10), 60, UTC)
    for name, method in METHODS.items():
        fc = method(h.calls, h.season, 14)
        assert fc.shape == (14, 4)
        assert wape_bias(h.calls[-14:], fc)[0] < 0.02, name


def test_backtest_picks_a_method_that_follows_the_trend():
    h = build(weeks_of(12, level=lambda d: 100.0 + 3 * d), 60, UTC)
    acc = {a.method: a for a in backtest(h, horizon_weeks=2, origins=2)}
    assert acc["seasonal_naive"].bias < -0.05  # last week's level lags a rising trend
    best = choose(list(acc.values()))
    assert acc[best].wape < acc["seasonal_naive"].wape


def test_forecast_rows_cover_open_days_and_carry_aht():
    h = build(weeks_of(8, weekdays=range(5)), 60, UTC)
    fc = make_forecast(h, 7, origins=1, horizon_weeks=2)
    assert fc.days == [date(2024, 2, 26) + timedelta(days=i) for i in range(5)]
    rows = fc.rows()
    assert len(rows) == 5 * 4 and rows[0][0] == datetime(2024, 2, 26, 8, tzinfo=UTC)
    assert all(aht == pytest.approx(180.0) for _, _, aht in rows)
    assert fc.chosen_accuracy() is not None and fc.method in METHODS
    monday = sum(c for t, c, _ in rows if t.weekday() == 0)
    assert monday == pytest.approx(130.0, rel=0.02)


def test_gaps_and_special_days_do_not_drag_the_forecast_down():
    rows = [r for r in weeks_of(8) if r.start.date() != date(2024, 2, 19)]  # a gap Monday
    storm = SpecialDay(date(2024, 2, 12), "exclude")
    rows = [Interval(r.start, r.calls * (5 if r.start.date() == storm.day else 1)) for r in rows]
    h = build(rows, 60, UTC, [storm])
    fc = make_forecast(h, 7, method="seasonal_naive")
    monday = fc.calls[fc.days.index(date(2024, 2, 26))]
    assert monday.sum() == pytest.approx(130.0)


def test_override_scales_a_future_day():
    h = build(weeks_of(6), 60, UTC)
    closed = SpecialDay(date(2024, 2, 13), "override", 0.0, "holiday")
    fc = make_forecast(h, 7, method="weekday_average", special=[closed])
    assert fc.calls[fc.days.index(closed.day)].sum() == 0.0
    assert fc.calls.sum() > 0


def test_unknown_method_is_refused():
    h = build(weeks_of(3), 60, UTC)
    with pytest.raises(ValueError, match="unknown method"):
        make_forecast(h, 7, method="crystal_ball")


def test_backtest_reports_progress_up_to_its_real_total():
    h = build(weeks_of(4), 60, UTC)  # room for only one of the three 2-week origins asked for
    seen = []
    acc = backtest(h, horizon_weeks=2, origins=3,
                   progress=lambda name, done, total: seen.append((name, done, total)))
    total = len(METHODS)  # methods × the one cut that fits
    assert {t for _, _, t in seen} == {total}
    assert seen[-1] == (list(METHODS)[-1], total, total)
    assert [d for _, d, _ in seen] == sorted(d for _, d, _ in seen)
    assert {name for name, _, _ in seen} == set(METHODS) == {a.method for a in acc}


def test_a_method_that_fails_is_left_out_of_the_choice():
    def broken(y, m, h):
        raise np.linalg.LinAlgError("singular")

    h = build(weeks_of(6, level=lambda d: 100.0 + 2 * d), 60, UTC)
    acc = backtest(h, {"broken": broken, "seasonal_naive": METHODS["seasonal_naive"],
                       "weekday_average": METHODS["weekday_average"]}, horizon_weeks=1,
                   origins=2)
    by = {a.method: a for a in acc}
    assert np.isnan(by["broken"].wape) and by["broken"].intervals == 0
    assert choose(acc) in ("seasonal_naive", "weekday_average")


def test_every_forecast_carries_an_accuracy_report():
    h = build(weeks_of(8), 60, UTC)
    fc = make_forecast(h, 7, method="holt_winters", origins=1, horizon_weeks=2)
    assert fc.method == "holt_winters"
    assert {a.method for a in fc.accuracy} == {"holt_winters", "seasonal_naive"}
    assert fc.chosen_accuracy().intervals == 14 * 4


def test_short_history_forecasts_without_a_backtest():
    h = build(weeks_of(2), 60, UTC)  # two weeks: too short to hold any week out
    fc = make_forecast(h, 7)
    assert fc.accuracy == [] and fc.method == "weekday_average"
    assert fc.calls.sum() == pytest.approx(7 * 100 + 30)


def test_backtest_reaches_as_far_ahead_as_the_history_allows():
    h = build(weeks_of(5), 60, UTC)  # 4 weeks ahead needs 6 weeks: 3 weeks ahead fits
    fc = make_forecast(h, 7, method="weekday_average")
    assert fc.chosen_accuracy().intervals == 3 * 7 * 4
