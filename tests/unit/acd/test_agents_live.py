"""Agent states, the live board and the additive metrics (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from acd import events as ev
from acd.agents import AgentTracker, Transition, WrapupEnded
from acd.definitions import Definitions
from acd.live import LiveBoard, queue_tiles
from acd.metrics import CallFacts, Span, agent_stats, combine, summarize

T = datetime(2026, 11, 22, 14, 0, tzinfo=UTC)


def at(s: float) -> datetime:
    return T + timedelta(seconds=s)


def member(s: float, kind: str, queue: str = "citywide", agent: str = "100", paused: bool = False,
           reason: str = "", status: int = 1, in_call: bool = False) -> ev.MemberState:
    return ev.MemberState(at(s), queue, agent, kind, paused, reason, status, in_call)


def states(moves: list[Transition | WrapupEnded]) -> list[tuple[str, str]]:
    return [(m.state, m.reason) for m in moves if isinstance(m, Transition)]


def test_a_call_with_wrapup_then_pause() -> None:
    t = AgentTracker({"citywide": 10})
    assert states(t.apply(member(0, "added"))) == [("available", "")]
    assert states(t.apply(ev.AgentRinging(at(5), "u1", "citywide", "100"))) == [("ringing", "")]
    assert states(t.apply(ev.CallAnswered(at(7), "u1", "citywide", "100", 3, 2))) == [
        ("on_call", "")]
    assert states(t.apply(ev.CallCompleted(at(67), "u1", "citywide", "100", 3, 60, "agent"))) == [
        ("wrapup", "")]
    assert t.tick(at(70)) == []  # the 10 s wrap-up runs on
    moves = t.tick(at(77))
    assert states(moves) == [("available", "")]
    assert [m for m in moves if isinstance(m, WrapupEnded)] == [WrapupEnded("100", "u1", 10.0)]
    assert states(t.apply(member(80, "paused", paused=True, reason="lunch"))) == [
        ("paused", "lunch")]
    assert states(t.apply(member(90, "removed"))) == [("logged_out", "")]


def test_a_call_answered_during_wrapup_ends_it_early() -> None:
    t = AgentTracker({}, default_wrapup_s=30)
    t.apply(member(0, "added"))
    t.apply(ev.CallAnswered(at(1), "u1", "citywide", "100", 0, 1))
    t.apply(ev.CallCompleted(at(11), "u1", "citywide", "100", 0, 10, "caller"))
    moves = t.apply(ev.CallAnswered(at(15), "u2", "citywide", "100", 0, 1))
    assert WrapupEnded("100", "u1", 4.0) in moves
    assert states(moves) == [("on_call", "")]


def test_paused_only_when_paused_in_every_queue() -> None:
    t = AgentTracker({})
    t.apply(member(0, "added", "citywide"))
    t.apply(member(0, "added", "noise"))
    assert states(t.apply(member(1, "paused", "citywide", paused=True, reason="break"))) == []
    assert states(t.apply(member(2, "paused", "noise", paused=True, reason="break"))) == [
        ("paused", "break")]


def test_snapshot_drops_what_ended_unseen_and_knows_busy_phones() -> None:
    t = AgentTracker({})
    t.apply(member(0, "added", agent="100"))
    t.apply(member(0, "added", agent="101"))
    t.begin_snapshot()
    t.apply(member(5, "member", agent="101", status=2, in_call=True))
    moves = t.apply(ev.SnapshotDone(at(5)))
    assert ("logged_out", "") in states(moves)  # 100 left while nobody watched
    assert t.agents["101"].state == "on_call"
    assert states(t.apply(member(9, "status", agent="101", status=1))) == [("available", "")]


def test_live_board_waiting_callers_and_tiles() -> None:
    b = LiveBoard(["citywide"], {})
    b.apply([member(0, "added"), member(0, "added", agent="101", paused=True, reason="lunch"),
             ev.CallerJoined(at(1), "u1", "u1", "c", "citywide", 1, "555", ""),
             ev.CallerJoined(at(2), "u2", "u2", "c", "citywide", 2, "556", "")])
    v = b.version
    b.apply([ev.CallAbandoned(at(9), "u1", "citywide", 1, 1, 8)])
    assert b.version == v + 1
    doc = b.doc()
    assert [c["uniqueid"] for c in doc["queues"]["citywide"]] == ["u2"]
    today = {"citywide": summarize([CallFacts("citywide", T, "answered", 10),
                                    CallFacts("citywide", T, "abandoned", 8)])}
    (tile,) = queue_tiles(doc, today, ["citywide"], Definitions(thresholds_s=(30,)))
    assert (tile["waiting"], tile["agents"]["available"], tile["agents"]["paused"]) == (1, 1, 1)
    assert tile["oldest_since"] == at(2).isoformat()
    assert tile["service_level"]["30"] == 0.5 and tile["abandon_rate"] == 0.5
    before = b.version
    b.apply([ev.CallerJoined(at(3), "u3", "u3", "c", "noise", 1, "", "")])  # a new queue
    assert b.version == before + 1 and "u3" in str(b.doc()["queues"]["noise"])
    b.begin_snapshot()
    b.apply([ev.WaitingCaller(at(20), "u2", "citywide", 1, 18, "556"), ev.SnapshotDone(at(20))])
    assert list(b.waiting["noise"]) == [] and list(b.waiting["citywide"]) == ["u2"]


def test_combine_equals_summarizing_everything() -> None:
    calls = [CallFacts("q", T, o, w, 60, 0, 5) for o, w in (
        ("answered", 3), ("answered", 45), ("abandoned", 2), ("abandoned", 70), ("timeout", 300),
        ("refused", 0), ("answered", 61), ("dropped", 12))]
    whole = summarize(calls, (30, 60), 5)
    parts = combine([summarize(calls[:3], (30, 60), 5), summarize(calls[3:], (30, 60), 5)],
                    (30, 60))
    assert parts == whole
    assert whole.dropped == 1 and whole.offered == 8
    assert combine([], (30,)).service_level(30) is None


def test_agent_stats_clip_spans_to_the_period() -> None:
    spans = [Span("100", "available", at(-600), at(600)), Span("100", "on_call", at(600), at(900)),
             Span("100", "paused", at(900), None)]
    calls = [CallFacts("q", at(590), "answered", 10, 300, 0, 30, "100"),
             CallFacts("q", at(100), "abandoned", 10)]
    (s,) = agent_stats(calls, spans, at(0), at(1200))
    assert s.seconds_in == {"available": 600, "on_call": 300, "paused": 300}
    assert s.answered == 1 and s.aht_s == 330
    assert s.occupancy == pytest.approx(300 / 900)
