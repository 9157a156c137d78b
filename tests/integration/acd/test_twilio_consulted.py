"""The agent an attended transfer on Twilio consults is busy while consulted, against the
Twilio simulator: the dispatcher offers them no queued caller from the consult's start until
they leave (the simulator notes any device rung while it has a call), their state spans
say ringing then on the call, and an unanswered consult leaves them free again."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import select

from acd.models import AgentStateSpan
from foundation.db import Database
from telephony.twilio_sim import scenario as sc
from telephony.twilio_sim.cloud import Sim
from tests.integration.acd.test_twilio_conference import seen, with_hold
from tests.support.twilio_sim import T0


def spans(db: Database, agent: str) -> list[tuple[str, float, float | None]]:
    """The agent's states (seconds from the scenario's start), in order."""
    def s_of(at: datetime | None) -> float | None:
        return None if at is None else (at - T0).total_seconds()

    with db.session() as s:
        return [(r.state, s_of(r.started_at) or 0.0, s_of(r.ended_at))
                for r in s.scalars(select(AgentStateSpan).where(AgentStateSpan.agent == agent)
                                   .order_by(AgentStateSpan.started_at, AgentStateSpan.id))]


def room_events(sim: Sim, kind: str) -> list[tuple[float, str]]:
    """(time, CallSid) of the rooms' ``kind`` callbacks, each once (Twilio may repeat)."""
    out: list[tuple[float, str]] = []
    for at, path, form, _ in sim.webhooks:
        seen_once = (at, form.get("CallSid", "")) in out
        if path.startswith("/twilio/acd/conference/") and not seen_once \
                and form["StatusCallbackEvent"] == kind:
            out.append((at, form.get("CallSid", "")))
    return out


def consult_ends(sim: Sim) -> list[tuple[float, str, str]]:
    """(time, CallStatus, CallSid) of the consults' status callbacks (their legs' ends)."""
    return [(at, form["CallStatus"], form["CallSid"]) for at, path, form, _ in sim.webhooks
            if path.startswith("/twilio/acd/consult/")]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_consulted_agent_takes_no_queued_caller_until_they_leave(
        app: Flask, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """101 consults 102 and hands over; a caller arriving while 102 is rung waits for 101
    (after the transfer and its wrap-up) rather than ringing 102, who talks on with the
    first caller for 40 s."""
    from tests.support.twilio_sim import simulated

    plan = sc.parse({
        "agents": [{"id": "101", "queues": ["citywide"], "login_at": 0, "ring_s": 2,
                    "talk_s": 60},
                   {"id": "102", "queues": ["citywide"], "login_at": 1, "ring_s": 2,
                    "talk_s": 40}],
        "callers": [{"sid": "CA-handed-to-102", "at": 5,
                     "consult": {"after": 5, "to": "agent:102", "talk": 8,
                                 "then": "complete"}},
                    {"sid": "CA-arrives-meanwhile", "at": 14}]})
    with simulated(app, plan, monkeypatch, wrapup_s=5) as (sim, rest, worker):
        sim.run_until(150, tick=lambda now: worker.run(now))
        assert sim.double_booked == []  # no device rang while it had a call
        truths = {(t.uniqueid, t.leg): seen(t) for t in sim.truths()}
        first, second = truths[("CA-handed-to-102", 1)], truths[("CA-arrives-meanwhile", 1)]
        assert (first["agent"], first["hangup_side"], first["transfer_kind"],
                first["transfer_target"]) == ("101", "transfer", "attended", "agent-102")
        assert second["agent"] == "101" and second["rang"] == []  # 102 was never offered it
        assert with_hold(database) == truths  # the records as the simulator saw the calls

        made = rest.handled("participant-create")
        assert [r["form"]["To"] for r in made] == ["client:agent102"]
        ((_, _, leg),) = consult_ends(sim)  # 102's leg, its end
        (joined_at,) = [at for at, sid in room_events(sim, "participant-join") if sid == leg]
        (left_at,) = [at for at, sid in room_events(sim, "participant-leave") if sid == leg]
        states = spans(database, "102")
        assert [s for s, _, _ in states] == ["available", "ringing", "on_call", "available"]
        _, (_, rung_at, answered_at), (_, on_at, off_at), (_, free_at, _) = states
        assert rung_at < second["entered_at"] < answered_at, states  # the caller came meanwhile
        assert on_at == answered_at == joined_at and off_at == free_at == left_at
        assert left_at - joined_at > 40  # the consult's talk, then the caller's with 102


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_consult_nobody_answers_leaves_the_agent_free_again(
        app: Flask, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """102 lets 101's consult ring out (30 s): the caller who came meanwhile rings 102 only
    after that (and, unanswered there too, is 101's once 101 is free)."""
    from tests.support.twilio_sim import simulated

    plan = sc.parse({
        "agents": [{"id": "101", "queues": ["citywide"], "login_at": 0, "ring_s": 2,
                    "talk_s": 70},
                   {"id": "102", "queues": ["citywide"], "login_at": 1, "ring_s": None}],
        "callers": [{"sid": "CA-consults", "at": 5,
                     "consult": {"after": 3, "to": "agent:102", "then": "complete"}},
                    {"sid": "CA-waits", "at": 14}]})
    with simulated(app, plan, monkeypatch, wrapup_s=5) as (sim, _, worker):
        sim.run_until(200, tick=lambda now: worker.run(now))
        assert sim.double_booked == []
        ((missed_at, status, _),) = consult_ends(sim)
        assert status == "no-answer"
        truths = {(t.uniqueid, t.leg): seen(t) for t in sim.truths()}
        waits = truths[("CA-waits", 1)]
        assert waits["agent"] == "101" and waits["rang"] and waits["rang"][0][0] == "102"
        assert with_hold(database) == truths
        states = spans(database, "102")
        assert [s for s, _, _ in states[:3]] == ["available", "ringing", "available"]
        assert states[1][2] == missed_at  # free again at the consult's no-answer
        assert states[3][0] == "ringing" and states[3][1] >= missed_at  # then offered CA-waits


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_an_agent_whose_phone_is_taken_cannot_be_consulted(database: Database) -> None:
    """102 is ringing for a queued caller: 101's consult of them fails (their device would
    ring twice) and changes nothing; once free, the consult takes them, and while it does
    the dispatcher cannot offer them a caller."""
    from acd.live_store import CommandError
    from acd.twilio_acd import conference
    from acd.twilio_acd import queries as q
    from acd.twilio_acd.models import TwilioAgent, TwilioEntry
    from foundation.db import utcnow

    base, now = "https://311.civic.example", utcnow()
    with database.session() as s:
        for agent in ("101", "102"):
            s.add(TwilioAgent(agent=agent, device="", queues='{"citywide": [false, ""]}',
                              state="available", reason="", idle_since=now))
        mine = TwilioEntry(uniqueid="CA-mine", queue="citywide", entered_at=now,
                           state=q.OFFERED, agent="101", offered_at=now, offers=1, tried="",
                           position=1)
        waiting = TwilioEntry(uniqueid="CA-next", queue="citywide", entered_at=now,
                              queue_sid="QU" + "1" * 32, state=q.WAITING, tried="", position=1)
        s.add_all([mine, waiting])
        s.flush()
        q.connect(s, mine, now, "CA-agent-leg")
        mine.room_state, mine.conference_sid = "ready", "CF" + "7" * 32
        assert q.offer(s, waiting.id, "102", now, f"{base}/twilio/acd/offer/{waiting.id}", now)
        waiting_id = waiting.id
    with database.session() as s, pytest.raises(CommandError, match="agent 102 is busy"):
        conference.consult(s, "101", "102", "+13115550311", base, utcnow())
    with database.session() as s:
        e = q.connected_call(s, "101")
        assert e is not None and e.consult_state == "" and e.consult is None
        offered = s.get(TwilioEntry, waiting_id)
        assert offered is not None
        q.release(s, offered, utcnow(), rang=True)  # 102 let it ring: free again
    with database.session() as s:
        assert conference.consult(s, "101", "102", "+13115550311", base, utcnow()
                                  ) == "consulting agent-102"
    with database.session() as s:
        row = s.get(TwilioAgent, "102")
        assert row is not None and row.state == "ringing" and row.consult_entry is not None
        assert q.free_agents(s) == []  # nobody to offer the waiting caller to
        assert not q.offer(s, waiting_id, "102", utcnow(), f"{base}/x", utcnow())
