"""The Twilio simulator's scenario files and TwiML reader (telephony/twilio_sim)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from telephony.twilio_sim import scenario as sc
from telephony.twilio_sim import twiml

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_scenarios_load() -> None:
    demo = sc.load(ROOT / "telephony" / "twilio_sim" / "scenarios" / "demo.yaml")
    assert demo.demo is not None and demo.demo.calls_per_minute > 0
    assert {a.agent for a in demo.agents} >= {"101", "102"}
    acceptance = sc.load(ROOT / "tests" / "integration" / "acd" / "twilio_scenarios"
                         / "acceptance.yaml")
    assert {c.expect for c in acceptance.callers} >= {
        "refused", "answered", "abandoned", "exit_key", "timeout", "exit_empty"}


@pytest.mark.parametrize(("raw", "says"), [
    ({"callers": [{"sid": "XX1"}]}, "starts with CA"),
    ({"callers": [{"sid": "CA1"}, {"sid": "CA1"}]}, "share a sid"),
    ({"agents": [{"id": "101"}]}, "queues"),
    ({"agents": [{"id": "101", "queues": ["q"], "ring_s": [5, 1]}]}, "low, high"),
    ({"callers": [{"sid": "CA1", "duplicate": ["bogus"]}]}, "bogus"),
    ({"demo": {"mix": []}}, "mix is empty"),
    ({"caller": []}, "unknown scenario keys"),
    ({"callers": [{"sid": "CA1", "hold": [[5]]}]}, r"\[after_s, for_s\]"),
    ({"callers": [{"sid": "CA1", "consult": {"after": 5, "to": "queue:noise"}}]},
     "agent:|referral:"),
    ({"callers": [{"sid": "CA1", "consult": {"to": "agent:102", "then": "transfer"}}]},
     "complete, cancel, hangup"),
    ({"callers": [{"sid": "CA1", "consult": {"to": "agent:102", "when": 3}}]},
     "after, to, talk, then"),
])
def test_a_bad_scenario_says_what_is_wrong(raw: dict[str, object], says: str) -> None:
    with pytest.raises(sc.ScenarioError, match=says):
        sc.parse(raw)


def test_holds_and_a_consult_are_read_from_a_caller() -> None:
    conference = sc.load(ROOT / "tests" / "integration" / "acd" / "twilio_scenarios"
                         / "conference.yaml")
    by_sid = {c.sid: c for c in conference.callers}
    assert by_sid["CA-held-twice"].hold == ((10.0, 8.0), (30.0, 5.0))
    assert by_sid["CA-held-twice"].duplicate == frozenset({"conference"})
    assert by_sid["CA-handed-over"].consult == sc.Consult(10.0, "referral:+12125550177", 6.0,
                                                         "complete")


def test_a_demo_caller_is_drawn_from_the_mix() -> None:
    demo = sc.parse({"demo": {"calls_per_minute": 6, "mix": [
        {"weight": 1, "keys": ["1", "0"], "patience_s": [10, 20],
         "queue_key": [[3, 4], "2"]}]}}).demo
    assert demo is not None
    c = sc.demo_caller(demo, "CA9", 12.0, random.Random(1))
    assert (c.sid, c.at, c.keys, c.queue) == ("CA9", 12.0, ("1", "0"), "citywide")
    assert c.patience_s is not None and 10 <= c.patience_s <= 20
    assert c.queue_key is not None and 3 <= c.queue_key[0] <= 4 and c.queue_key[1] == "2"


def test_twiml_is_read_as_its_verbs() -> None:
    verbs = twiml.parse('<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/a" '
                        'timeout="4"><Say>Press 1.</Say></Gather><Enqueue waitUrl="/w">'
                        'citywide</Enqueue></Response>')
    assert [(v.name, v.text) for v in verbs] == [("Gather", ""), ("Enqueue", "citywide")]
    assert verbs[0].attrs == {"action": "/a", "timeout": "4"}
    assert twiml.words(verbs) == "Press 1."
    assert twiml.parse("") == []
    with pytest.raises(twiml.TwimlError):
        twiml.parse("<Html/>")
