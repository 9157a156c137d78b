"""Every service-level and abandon-rate definition on hand-built days, figures worked out
by hand in the comments (definitions in acd/definitions.py and acd/metrics.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import get_args

import pytest

from acd.definitions import Definitions
from acd.metrics import CallFacts, combine, summarize
from acd.states import AbandonBasis, ServiceLevelBasis
from foundation.settings import Settings

T0 = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)
SL = ServiceLevelBasis
AB = AbandonBasis


def call(outcome: str, wait: float, minute: int = 0) -> CallFacts:
    return CallFacts("citywide", T0 + timedelta(minutes=minute), outcome, wait_s=wait,
                     talk_s=120.0 if outcome == "answered" else 0.0)


# The day of issue 13: 19 callers; 8 answered (all within 30 s), 5 refused at join (no agent
# logged in), 5 timed out after 600 s, 1 abandoned after 45 s.
ANSWER_WAITS = (5, 8, 10, 15, 20, 22, 28, 30)  # sum 138 s
DAY_19 = ([call("answered", w, i) for i, w in enumerate(ANSWER_WAITS)]
          + [call("refused", 0, 20 + i) for i in range(5)]
          + [call("timeout", 600, 40 + i) for i in range(5)]
          + [call("abandoned", 45, 59)])


def test_the_19_call_day_by_every_definition() -> None:
    s = summarize(DAY_19, (30, 60), short_abandon_s=5)
    assert (s.offered, s.answered, s.refused, s.timed_out, s.abandoned) == (19, 8, 5, 5, 1)
    assert s.entered_queue == 14 and s.not_served == 6  # 5 timeouts + 1 abandon
    # service level in 30 s: 8 answered in time over...
    assert s.service_level(30, SL.ENTERED_QUEUE) == pytest.approx(8 / 14)  # 57.1 %
    assert s.service_level(30, SL.ANSWERED_ABANDONED) == pytest.approx(8 / 9)  # 88.9 %, the old
    assert s.service_level(30, SL.ANSWERED) == 1.0  # 100 %: flatters most
    assert s.service_level(30) == s.service_level(30, SL.ENTERED_QUEUE)  # the default
    # abandon rate over 19 - 0 short abandons
    assert s.abandon_rate(AB.NOT_SERVED) == pytest.approx(6 / 19)  # 31.6 %
    assert s.abandon_rate(AB.ABANDONED_ONLY) == pytest.approx(1 / 19)  # 5.3 %, the old
    assert s.abandon_rate() == s.abandon_rate(AB.NOT_SERVED)
    assert s.refused_rate == pytest.approx(5 / 19)  # 26.3 %, beside it
    # 58 % of the callers never reached anyone: not served + refused
    assert s.abandon_rate() + s.refused_rate == pytest.approx(11 / 19)
    assert round(100 * (s.abandon_rate() + s.refused_rate)) == 58
    assert s.asa_s == pytest.approx(138 / 8)  # 17.25 s

    data = s.as_dict()
    assert data["service_level"] == {"30": 0.5714, "60": 0.5714}
    assert (data["abandon_rate"], data["refused_rate"], data["not_served"]) == (0.3158, 0.2632, 6)
    narrow = s.as_dict(SL.ANSWERED_ABANDONED, AB.ABANDONED_ONLY)
    assert narrow["service_level"]["30"] == 0.8889 and narrow["abandon_rate"] == 0.0526
    assert {k: v for k, v in narrow.items() if k not in ("service_level", "abandon_rate")} == {
        k: v for k, v in data.items() if k not in ("service_level", "abandon_rate")}


def test_short_abandons_leave_every_denominator() -> None:
    # 2 answered (10 s, 40 s), 2 short abandons (1 s, 4 s), 1 abandon at 20 s, 1 exit empty
    s = summarize([call("answered", 10), call("answered", 40), call("abandoned", 1),
                   call("abandoned", 4), call("abandoned", 20), call("exit_empty", 70)],
                  (30,), short_abandon_s=5)
    assert (s.offered, s.short_abandoned, s.abandoned, s.exit_empty) == (6, 2, 1, 1)
    assert s.service_level(30, SL.ENTERED_QUEUE) == pytest.approx(1 / 4)  # 6 - 2 short
    assert s.service_level(30, SL.ANSWERED_ABANDONED) == pytest.approx(1 / 3)  # 2 + 1
    assert s.service_level(30, SL.ANSWERED) == pytest.approx(1 / 2)
    assert s.abandon_rate(AB.NOT_SERVED) == pytest.approx(2 / 4)  # abandon + exit empty
    assert s.abandon_rate(AB.ABANDONED_ONLY) == pytest.approx(1 / 4)


def test_each_outcome_counts_where_the_definitions_say() -> None:
    # one call of each kind, none answered in time except the first
    calls = [call("answered", 5), call("exit_key", 30), call("exit_empty", 30),
             call("timeout", 600), call("dropped", 12), call("callback", 90),
             call("refused", 0), call("abandoned", 50)]
    s = summarize(calls, (30,), short_abandon_s=5)
    # entered a queue: all but the refused one (7); only the first answered within 30 s
    assert s.service_level(30, SL.ENTERED_QUEUE) == pytest.approx(1 / 7)
    # answered + abandoned: the exits, timeout, drop and callback vanish
    assert s.service_level(30, SL.ANSWERED_ABANDONED) == pytest.approx(1 / 2)
    # not served: exit by key, exit empty, timeout, dropped, abandoned = 5 of 8 (the callback
    # is served by the callback, the refused call is reported beside)
    assert s.not_served == 5
    assert s.abandon_rate(AB.NOT_SERVED) == pytest.approx(5 / 8)
    assert s.abandon_rate(AB.ABANDONED_ONLY) == pytest.approx(1 / 8)
    assert s.refused_rate == pytest.approx(1 / 8)


def test_rates_of_combined_rollups_equal_the_whole_day() -> None:
    """Rollup parts (15-minute intervals) combine into the day's figures exactly."""
    parts = [summarize([c for c in DAY_19 if q * 15 <= c.entered_at.minute < (q + 1) * 15],
                       (30, 60), 5) for q in range(4)]
    whole = summarize(DAY_19, (30, 60), 5)
    combined = combine(parts, (30, 60))
    assert combined == whole
    for basis in SL:
        assert combined.service_level(30, basis) == whole.service_level(30, basis)
    for ab in AB:
        assert combined.abandon_rate(ab) == whole.abandon_rate(ab)


def test_nothing_to_count_has_no_rate() -> None:
    only_refused = summarize([call("refused", 0)], (30,))
    assert only_refused.service_level(30, SL.ENTERED_QUEUE) is None
    assert only_refused.abandon_rate() == 0 and only_refused.refused_rate == 1
    shorts = summarize([call("abandoned", 1)], (30,), short_abandon_s=5)
    for basis in SL:
        assert shorts.service_level(30, basis) is None
    assert shorts.abandon_rate() is None and shorts.refused_rate is None


def test_the_definitions_object_names_each_choice() -> None:
    d = Definitions().as_dict()
    assert d["service_level"]["name"] == "entered_queue"  # type: ignore[index]
    assert d["service_level"]["thresholds_s"] == [30, 60]  # type: ignore[index]
    assert d["abandon_rate"]["name"] == "not_served"  # type: ignore[index]
    assert d["abandon_rate"]["outcomes"] == [  # type: ignore[index]
        "abandoned", "timeout", "exit_key", "exit_empty", "dropped"]
    assert d["refused_rate"]["name"] == "refused_at_join"  # type: ignore[index]
    assert d["short_abandon"]["threshold_s"] == 5  # type: ignore[index]
    narrow = Definitions(SL.ANSWERED, AB.ABANDONED_ONLY, 8, (20,)).as_dict()
    assert narrow["service_level"]["name"] == "answered"  # type: ignore[index]
    assert narrow["service_level"]["formula"] == "answered within T / answered"  # type: ignore[index]
    assert narrow["abandon_rate"]["outcomes"] == ["abandoned"]  # type: ignore[index]
    assert "under 8 s" in narrow["short_abandon"]["formula"]  # type: ignore[index]


def test_settings_offer_exactly_the_named_definitions() -> None:
    fields = Settings.model_fields
    assert set(get_args(fields["service_level_definition"].annotation)) == {b.value for b in SL}
    assert set(get_args(fields["abandon_rate_definition"].annotation)) == {b.value for b in AB}
