"""The call-history generator: the shape of a 311 line, outcomes, and the record invariants
the recorder keeps (answered calls have an agent, answer time and wait; the others none)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from acd.history import QueueMix, generate
from acd.states import AgentState, CallOutcome

TZ = ZoneInfo("America/New_York")
QUEUES = [QueueMix("citywide", 0.5), QueueMix("sanitation", 0.25), QueueMix("noise", 0.25)]
AGENTS = [str(100 + i) for i in range(8)]


@pytest.fixture(scope="module")
def made():  # type: ignore[no-untyped-def]
    return generate(date(2026, 3, 2), 28, TZ, QUEUES, AGENTS, volume=400, seed=7)


def test_weekly_and_daily_shape(made) -> None:  # type: ignore[no-untyped-def]
    by_weekday = Counter(c["entered_at"].astimezone(TZ).weekday() for c in made.calls)
    by_hour = Counter(c["entered_at"].astimezone(TZ).hour for c in made.calls)
    assert max(by_weekday, key=lambda d: by_weekday[d]) == 0  # Monday peaks
    assert by_weekday[6] < 0.4 * by_weekday[0] and by_weekday[5] < 0.5 * by_weekday[0]
    assert max(by_hour, key=lambda h: by_hour[h]) in (9, 10, 11)  # the morning peak
    night = sum(by_hour[h] for h in (0, 1, 2, 3, 4, 5))
    assert night < 0.02 * len(made.calls)
    # Poisson arrivals: about 400 x sum(weekday factors) / 7 a day over four weeks
    assert 28 * 400 * 0.75 < len(made.calls) < 28 * 400 * 0.95


def test_outcomes_are_plausible(made) -> None:  # type: ignore[no-untyped-def]
    n = len(made.calls)
    out = Counter(c["outcome"] for c in made.calls)
    assert 0.75 < out[CallOutcome.ANSWERED] / n < 0.97
    assert 0.02 < out[CallOutcome.ABANDONED] / n < 0.15
    assert 0 < out[CallOutcome.REFUSED] / n < 0.08  # nobody logged in at night
    assert out[CallOutcome.CALLBACK] > 0
    short = sum(1 for c in made.calls if c["outcome"] == CallOutcome.ABANDONED
                and c["wait_s"] < 5)
    assert short > 0
    assert Counter(c["queue"] for c in made.calls)["citywide"] > 0.4 * n
    menu = [c for c in made.calls if c["ivr_path"]]
    assert 0.6 < len(menu) / n < 0.8  # most came through the 311 menu, as ivr.engine writes
    assert all(c["ivr_path"].endswith("agent" if c["queue"] == "citywide"
                                      else f">report>report:{c['queue']}") for c in menu)


def test_every_record_keeps_the_recorders_invariants(made) -> None:  # type: ignore[no-untyped-def]
    for c in made.calls:
        assert c["ended_at"] is not None and c["ended_at"] >= c["entered_at"]
        assert c["wait_s"] is not None and c["wait_s"] >= 0
        if c["outcome"] == CallOutcome.ANSWERED:
            assert c["agent"] in AGENTS and c["answered_at"] is not None
            assert c["answered_at"] - c["entered_at"] == timedelta(seconds=c["wait_s"])
            assert c["talk_s"] > 0 and c["ended_at"] > c["answered_at"]
            assert c["rings"][-1] == {"agent": c["agent"], "ring_ms": c["rings"][-1]["ring_ms"],
                                      "outcome": "connected", "at": c["answered_at"]}
            assert c["call_type"] is not None
        else:
            assert c["agent"] is None and c["answered_at"] is None and c["talk_s"] is None
            assert c["rings"] == [] and c["call_type"] is None
        if c["outcome"] == CallOutcome.REFUSED:
            assert c["wait_s"] == 0.0


def test_an_agent_takes_one_call_at_a_time_and_spans_tile_the_period(made) -> None:  # type: ignore[no-untyped-def]
    by_agent = defaultdict(list)
    for sp in made.spans:
        by_agent[sp["agent"]].append(sp)
    assert set(by_agent) == set(AGENTS)
    for spans in by_agent.values():
        spans.sort(key=lambda s: s["started_at"])
        for a, b in zip(spans, spans[1:], strict=False):
            assert a["ended_at"] == b["started_at"]  # contiguous, no overlap
        assert {s["state"] for s in spans} >= {AgentState.LOGGED_OUT, AgentState.AVAILABLE,
                                               AgentState.ON_CALL, AgentState.WRAPUP,
                                               AgentState.PAUSED}
    talk = defaultdict(list)
    for c in made.calls:
        if c["agent"]:
            talk[c["agent"]].append((c["answered_at"], c["ended_at"] + timedelta(
                seconds=c["acw_s"])))
    for calls in talk.values():
        calls.sort()
        assert all(b[0] > a[1] for a, b in zip(calls, calls[1:], strict=False))


def test_same_seed_same_past() -> None:
    a = generate(date(2026, 3, 2), 2, TZ, QUEUES, AGENTS, volume=200, seed=1)
    b = generate(date(2026, 3, 2), 2, TZ, QUEUES, AGENTS, volume=200, seed=1)
    c = generate(date(2026, 3, 2), 2, TZ, QUEUES, AGENTS, volume=200, seed=2)
    assert a.calls == b.calls and a.spans == b.spans
    assert a.calls != c.calls
