"""Queue metrics against hand-computed tables (definitions in acd/metrics.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from acd.metrics import CallFacts, summarize

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def call(outcome: str, wait: float, talk: float = 0, acw: float = 0) -> CallFacts:
    return CallFacts("citywide", T0, outcome, wait_s=wait, talk_s=talk, acw_s=acw)


TABLE = [
    call("answered", 10, 200, 20), call("answered", 30, 100, 10), call("answered", 31, 150),
    call("answered", 61, 50), call("abandoned", 2), call("abandoned", 5), call("abandoned", 45),
    call("timeout", 600), call("exit_key", 12), call("refused", 0), call("callback", 40),
]


def test_counts_follow_the_industry_definitions() -> None:
    s = summarize(TABLE, (30, 60), short_abandon_s=5)
    assert s.offered == 11
    assert (s.answered, s.abandoned, s.short_abandoned) == (4, 2, 1)
    assert (s.timed_out, s.exit_key, s.refused, s.callback) == (1, 1, 1, 1)
    # default SL(T) = answered within T / (entered a queue - short abandons):
    # 11 offered - 1 refused - 1 short = 9 (was over answered + abandoned = 6)
    assert s.service_level(30) == pytest.approx(2 / 9)
    assert s.service_level(60) == pytest.approx(3 / 9)
    assert s.asa_s == pytest.approx((10 + 30 + 31 + 61) / 4)
    assert s.aht_s == pytest.approx((220 + 110 + 150 + 50) / 4)
    # default abandon rate = not served (2 abandoned + 1 timeout + 1 exit by key) over
    # offered - short (was abandoned only: 2 / 10)
    assert s.abandon_rate() == pytest.approx(4 / (11 - 1))
    assert s.refused_rate == pytest.approx(1 / 10)
    assert s.longest_wait_s == 600


def test_threshold_is_inclusive_and_short_abandon_exclusive() -> None:
    s = summarize([call("answered", 30), call("abandoned", 4.99), call("abandoned", 5)],
                  (30,), short_abandon_s=5)
    assert s.service_level(30) == 1 / 2  # 3 entered - 1 short
    assert (s.short_abandoned, s.abandoned) == (1, 1)


def test_empty_period_has_no_ratios() -> None:
    data = summarize([], (30, 60)).as_dict()
    assert data["offered"] == 0
    assert data["service_level"] == {"30": None, "60": None}
    assert data["asa_s"] is None and data["aht_s"] is None and data["abandon_rate"] is None


def test_live_calls_are_not_counted() -> None:
    assert summarize([call("", 3)]).offered == 0
