"""The normalizer on a real recorded AMI stream (tests/data/ami_mixed.txt)."""

from __future__ import annotations

from panoramisk.message import Message

from acd import events as ev
from acd.normalizer import AgentCalls, agent_of, normalize
from telephony.ami import flatten
from tests.support.ami_stream import flat_messages, messages


def domain() -> list[ev.DomainEvent]:
    return [d for d in (normalize(m) for m in flat_messages()) if d is not None]


def test_every_outcome_of_the_recording_is_typed() -> None:
    events = domain()
    kinds = {type(e) for e in events}
    assert {ev.CallerJoined, ev.CallAnswered, ev.CallCompleted, ev.CallAbandoned,
            ev.CallExited, ev.CallRefused, ev.AgentNoAnswer, ev.AsteriskBooted} <= kinds
    exits = sorted(e.outcome for e in events if isinstance(e, ev.CallExited))
    assert exits == ["exit_empty", "exit_key", "timeout"]
    (refused,) = [e for e in events if isinstance(e, ev.CallRefused)]
    assert refused.reason == "JOINEMPTY" and refused.queue == "citywide"


def test_ring_time_units_are_not_mixed() -> None:
    events = domain()
    noanswer = [e for e in events if isinstance(e, ev.AgentNoAnswer)]
    assert noanswer and all(e.ring_ms >= 1000 for e in noanswer)  # milliseconds
    answered = [e for e in events if isinstance(e, ev.CallAnswered)]
    assert answered and all(e.ring_s < 60 for e in answered)  # seconds


def test_agents_are_named_by_extension() -> None:
    assert agent_of({"Interface": "PJSIP/agent100"}) == "100"
    assert agent_of({"Interface": "PJSIP/agent100-webrtc"}) == "100"  # the browser phone
    assert agent_of({"MemberName": "Local/2000@agents"}) == "2000@agents"
    answered = [e for e in domain() if isinstance(e, ev.CallAnswered)]
    assert {e.agent for e in answered} == {"100"}


def test_times_come_from_asterisk_timestamps() -> None:
    events = domain()
    joined = [e for e in events if isinstance(e, ev.CallerJoined)]
    assert all(e.at.tzinfo is not None for e in joined)
    assert [e.at for e in joined] == sorted(e.at for e in joined)


def test_repeated_headers_and_junk_are_safe() -> None:
    assert flatten({"Uniqueid": ["1.1", "1.2"]}) == {"Uniqueid": "1.1"}
    parsed = Message.from_line("Event: AgentConnect\r\nQueue: q\r\nVariable: a=1\r\n"
                               "Variable: b=2\r\nHoldTime: 3")
    assert flatten(parsed) == {"Event": "AgentConnect", "Queue": "q", "Variable": "a=1",
                               "HoldTime": "3", "content": ""}  # keys keep Asterisk's case
    assert normalize({"Event": "QueueCallerJoin"}) is None  # missing fields: dropped whole
    assert normalize({"Event": "Newexten", "Uniqueid": "1"}) is None
    assert normalize({"Event": "UserEvent", "UserEvent": "SomethingElse"}) is None


def test_the_bridge_queues_only_events_someone_uses() -> None:
    """Events no dispatch entry maps are counted and dropped before they are copied; the
    rest are queued as plain dicts (OriginateResponse always: actions wait for it)."""
    import asyncio

    from acd.normalizer import DISPATCH
    from telephony.ami import AmiBridge

    async def feed() -> tuple[list[dict[str, str]], int]:
        bridge = AmiBridge("127.0.0.1", 1, "u", "s", wanted=DISPATCH.keys())
        for m in messages():
            bridge._on_event(bridge.manager, m)
        bridge._on_event(bridge.manager, {"Event": "OriginateResponse", "ActionID": "x"})
        queued = [m for _, m in bridge.events.items]
        return queued, bridge.skipped

    queued, skipped = asyncio.run(feed())
    names = [q["Event"] for q in queued]
    assert skipped == sum(1 for m in messages() if m["Event"] not in DISPATCH) > 0
    assert len(queued) + skipped == len(messages()) + 1
    assert "Hangup" not in names and names[-1] == "OriginateResponse"
    assert all(type(q) is dict for q in queued)


def test_an_agent_complete_without_its_caller_is_named_from_the_connect() -> None:
    """Asterisk sometimes sends AgentComplete with neither the caller's nor the agent's
    channel fields (their snapshots already gone); fields as seen from a real Asterisk.
    The call's end must still reach its record, not wait for reconciliation."""
    calls = AgentCalls()
    stream = [dict(m) for m in flat_messages()]
    complete = next(m for m in stream if m["Event"] == "AgentComplete")
    bare = {k: complete[k] for k in ("Event", "Privilege", "Timestamp", "Queue", "Interface",
                                     "MemberName", "HoldTime", "TalkTime", "Reason")}
    stream[stream.index(complete)] = bare
    resolved = [calls.resolve(d) for d in (normalize(m) for m in stream) if d is not None]
    ends = [e for e in resolved if isinstance(e, ev.CallCompleted)]
    assert ends and all(e.uniqueid for e in ends)
    first = next(e for e in ends if e.at == normalize(bare).at)  # type: ignore[union-attr]
    assert (first.uniqueid, first.agent, first.talk_s, first.hangup_side) == (
        complete["Uniqueid"], "100", 5, "agent")
    # no connect known (the daemon started mid-call): dropped, said, left to reconciliation
    assert AgentCalls().resolve(normalize(bare)) is None  # type: ignore[arg-type]
    assert normalize({**bare, "Queue": ""}) is not None and normalize(
        {k: v for k, v in bare.items() if k != "Queue"}) is None
