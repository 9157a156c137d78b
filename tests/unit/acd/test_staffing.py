"""Occupancy and calls per agent against hand-computed values (definitions in acd/metrics.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from acd.metrics import AgentStats, Span, seconds_by_agent, staffing

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)


def at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


SPANS = [
    # 100: staffed 600 + 10 + 300 + 60 + 2030 = 3000 s, handling 300 + 60 = 360 s
    Span("100", "available", at(-600), at(600)),  # clipped to 600 s
    Span("100", "ringing", at(600), at(610)),
    Span("100", "on_call", at(610), at(910)),
    Span("100", "wrapup", at(910), at(970)),
    Span("100", "paused", at(970), at(1570)),  # neither handling nor staffed
    Span("100", "available", at(1570), None),  # still open: runs to the end, 2030 s
    # 101: staffed 1200 + 300 + 900 = 2400 s, handling 1500 s; logged out after 2400 s
    Span("101", "on_call", at(0), at(1200)),
    Span("101", "wrapup", at(1200), at(1500)),
    Span("101", "available", at(1500), at(2400)),
    # 102: staffed 1800 s, answered nothing; 103: paused all along (never staffed)
    Span("102", "available", at(0), at(1800)),
    Span("103", "paused", at(-60), at(3700)),
    Span("104", "available", at(-900), at(-1)),  # before the period: not there at all
]
ANSWERED = {("citywide", "100"): 1, ("citywide", "101"): 2, ("noise", "101"): 1}


def test_seconds_are_clipped_to_the_period() -> None:
    seconds = seconds_by_agent(SPANS, T0, T1)
    assert seconds["100"] == {"available": 2630, "ringing": 10, "on_call": 300, "wrapup": 60,
                              "paused": 600}
    assert seconds["103"] == {"paused": 3600}
    assert "104" not in seconds


def test_all_queues_count_every_staffed_agent() -> None:
    s = staffing(ANSWERED, seconds_by_agent(SPANS, T0, T1))
    assert (s.answered, s.agents) == (4, 2)
    assert (s.handle_s, s.staffed_s) == (360 + 1500, 3000 + 2400 + 1800)
    assert s.occupancy == pytest.approx(1860 / 7200)
    assert s.calls_per_agent == 2.0
    assert s.as_dict() == {"occupancy": 0.2583, "calls_per_agent": 2.0, "agents_answering": 2}


def test_one_queue_counts_the_agents_who_answered_it() -> None:
    seconds = seconds_by_agent(SPANS, T0, T1)
    city = staffing(ANSWERED, seconds, "citywide")
    assert (city.answered, city.agents) == (3, 2)
    assert city.occupancy == pytest.approx(1860 / 5400)
    assert city.calls_per_agent == 1.5
    noise = staffing(ANSWERED, seconds, "noise")
    assert (noise.answered, noise.agents) == (1, 1)
    assert noise.occupancy == pytest.approx(1500 / 2400)
    assert noise.calls_per_agent == 1.0


def test_nothing_answered_or_staffed_has_no_ratios() -> None:
    s = staffing(ANSWERED, seconds_by_agent(SPANS, T0, T1), "potholes")
    assert s.as_dict() == {"occupancy": None, "calls_per_agent": None, "agents_answering": 0}
    idle = staffing({}, {"103": {"paused": 3600.0}})
    assert idle.occupancy is None and idle.calls_per_agent is None


def test_agent_page_uses_the_same_occupancy() -> None:
    # ringing is staffed time, not handle time: (300 + 60) / (600 + 10 + 300 + 60)
    a = AgentStats("100", 1, 300, 60, {"available": 600, "ringing": 10, "on_call": 300,
                                       "wrapup": 60, "paused": 900})
    assert a.occupancy == pytest.approx(360 / 970)
    assert AgentStats("103", 0, 0, 0, {"paused": 60}).occupancy is None
