"""Hold and attended transfers on the Twilio ACD against the Twilio simulator: the call moves
into a Conference at its first hold or consult, the desktop's actions reach the simulator as
the Participants requests Twilio documents, and every record (hold time included) equals
what the simulator saw, with conference callbacks sent twice and all of them replayed
backwards afterwards changing nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from acd.models import CallRecord
from acd.twilio_acd.models import TwilioEntry
from foundation.db import Database, utcnow
from telephony.twilio_sim import scenario as sc
from telephony.twilio_sim.cloud import Truth
from tests.integration.acd.test_twilio_sim import records, truth

SCENARIOS = Path(__file__).parent / "twilio_scenarios"
NAMED = {"referral:+12125550177": "ref-12125550177", "referral:+12125550188": "ref-12125550188",
         "referral:+12125550199": "ref-12125550199",
         "agent:102": "agent-102"}  # as acd/transfer.py names them


def with_hold(db: Database) -> dict[tuple[str, int], dict[str, Any]]:
    out = records(db)
    with db.session() as s:
        for r in s.scalars(select(CallRecord)):
            out[(r.uniqueid, r.leg)].update(hold_s=r.hold_s, transfer_kind=r.transfer_kind)
    return out


def seen(t: Truth) -> dict[str, Any]:
    return {**truth(t), "hold_s": t.hold_s, "transfer_kind": t.transfer_kind,
            "transfer_target": NAMED.get(t.transfer_target or "", t.transfer_target)}


def participants(rest: Any, kind: str, uid: str | None = None) -> list[dict[str, Any]]:
    return [r for r in rest.handled(kind) if uid is None or r["path"].endswith(f"/{uid}.json")]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_hold_and_attended_transfers_are_recorded_as_the_simulator_saw_them(
        app: Flask, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.twilio_sim import simulated

    plan = sc.load(SCENARIOS / "conference.yaml")
    with simulated(app, plan, monkeypatch, wrapup_s=5) as (sim, rest, worker):
        sim.run_until(500, tick=lambda now: worker.run(now))
        truths = {(t.uniqueid, t.leg): seen(t) for t in sim.truths()}
        assert {uid: t["outcome"] for (uid, _), t in truths.items()} == {
            c.sid: c.expect for c in plan.callers}
        assert with_hold(database) == truths
        side = {uid: (t["hangup_side"], t["transfer_kind"], t["transfer_target"])
                for (uid, _), t in truths.items()}
        assert side == {
            "CA-held-twice": ("agent", None, None),
            "CA-handed-over": ("transfer", "attended", "ref-12125550177"),
            "CA-consult-cancelled": ("agent", None, None),
            "CA-agent-hangs-up-to-hand-over": ("transfer", "attended", "ref-12125550199"),
            "CA-hangs-up-on-hold": ("caller", None, None),
            "CA-target-never-answers": ("agent", None, None)}
        held = {uid: t["hold_s"] for (uid, _), t in truths.items()}
        # from Twilio's hold to its unhold: 8 s asked, 7 held (the first hold waits a second
        # for the move into the room), then 5 s
        assert held["CA-held-twice"] == 12.0
        assert held["CA-hangs-up-on-hold"] > 0 and held["CA-handed-over"] > 0
        assert held["CA-target-never-answers"] >= 30  # the consult's ring-out, on hold
        assert all(c.ended is not None for c in sim.calls.values())
        assert not any(r.parts for r in sim.rooms.values())

        # what the desktop's actions were to Twilio: the REST calls it documents
        holds = [(r["form"].get("Hold"), "HoldUrl" in r["form"])
                 for r in participants(rest, "participant", "CA-held-twice")]
        assert holds == [("true", True), ("false", False), ("true", True), ("false", False)]
        made = rest.handled("participant-create")
        assert [(r["form"]["To"], r["form"]["EndConferenceOnExit"]) for r in made] == [
            ("+12125550177", "false"), ("+12125550188", "false"), ("+12125550199", "false"),
            ("client:agent102", "false")]
        assert all("/Conferences/CF" in r["path"] for r in made)
        assert len(rest.handled("participant-delete")) == 2  # Complete: the agent; Cancel: target
        moved = [r for r in rest.handled("redirect") if "/twilio/acd/room/" in r["form"]["Url"]]
        assert len(moved) == 6  # each call's agent leg into its room, once
        events = [form["StatusCallbackEvent"] for _, path, form, _ in sim.webhooks
                  if path.startswith("/twilio/acd/conference/")
                  and form.get("CallSid") == "CA-held-twice"]
        assert events.count("participant-hold") == 4  # twice each: Twilio's duplicates

        first = with_hold(database)
        for _, path, form, _ in reversed(sim.webhooks):  # every callback again, backwards
            sim.transport.post(path, form, sim.signer.compute_signature(sim.public_base + path,
                                                                         form))
        worker.run(sim.when(500))
        assert with_hold(database) == first


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_hold_callback_that_arrives_after_its_unhold_counts_once(
        app: Flask, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.twilio_sim import simulated

    plan = sc.parse({"agents": [{"id": "101", "queues": ["citywide"], "talk_s": 40}],
                     "callers": [{"sid": "CA-crossed", "at": 1, "hold": [[5, 6], [20, 4]],
                                  "late": ["conference"]}]})
    with simulated(app, plan, monkeypatch, wrapup_s=5) as (sim, _, worker):
        sim.run_until(60, tick=lambda now: worker.run(now))
        order = [form["StatusCallbackEvent"] for _, path, form, _ in sim.webhooks
                 if path.startswith("/twilio/acd/conference/")
                 and form["StatusCallbackEvent"].startswith("participant-")
                 and form["StatusCallbackEvent"] != "participant-join"
                 and form.get("CallSid") == "CA-crossed"]
        assert order[:4] == ["participant-unhold", "participant-hold"] * 2  # crossed
        truths = {(t.uniqueid, t.leg): seen(t) for t in sim.truths()}
        assert truths[("CA-crossed", 1)]["hold_s"] == 5.0 + 4.0
        assert with_hold(database) == truths


# ---- the room's edges, by its callbacks (signed as Twilio signs them) ---------------------

CONF = "CF" + "7" * 32
BASE = "https://311.civic.example"


@pytest.fixture
def ready(app: Flask, database: Database) -> Iterator[tuple[Any, int]]:
    """A connected call already in its room (both joined), agent 101's, and a signing
    client for the room's callbacks."""
    from acd.twilio_acd import queries as q
    from acd.twilio_acd.models import TwilioAgent, TwilioEntry
    from tests.support.fake_twilio import signed_post

    settings = app.extensions["civic311.settings"]
    settings.telephony_backend, settings.public_base_url = "twilio", BASE
    settings.twilio_auth_token, settings.twilio_account_sid = "conf-token", "AC" + "8" * 32
    now = utcnow()
    with database.session() as s:
        s.add(TwilioAgent(agent="101", device="", queues='{"citywide": [false, ""]}',
                          state="ringing", reason="", offer_entry=None))
        e = TwilioEntry(uniqueid="CA-in-room", queue="citywide", entered_at=now,
                        state=q.OFFERED, agent="101", offered_at=now, offers=1, tried="",
                        position=1)
        s.add(e)
        s.flush()
        q.connect(s, e, now, "CA-agent-leg")
        e.room_state, e.conference_sid = "ready", CONF
        entry_id = e.id
    client = app.test_client()

    def says(kind: str, call_sid: str, seq: int) -> int:
        return signed_post(client, "conf-token", BASE, f"/twilio/acd/conference/{entry_id}", {
            "AccountSid": settings.twilio_account_sid, "ConferenceSid": CONF,
            "FriendlyName": f"civic311-{entry_id}", "StatusCallbackEvent": kind,
            "CallSid": call_sid, "SequenceNumber": str(seq)}).status_code

    yield says, entry_id


def requests_sent(db: Database) -> list[tuple[str, str, dict[str, str]]]:
    import json

    from acd.twilio_acd.models import TwilioRequest

    prefix = f"Conferences/{CONF}"
    with db.session() as s:
        return [(r.method, r.path.removeprefix(prefix), json.loads(r.form))
                for r in s.scalars(select(TwilioRequest).order_by(TwilioRequest.id))]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_consult_cancelled_while_it_rings_removes_the_target_when_they_answer(
        database: Database, ready: tuple[Any, int]) -> None:
    from acd.twilio_acd import conference

    says, entry_id = ready
    with database.session() as s:
        assert conference.consult(s, "101", "912125550177", "+13115550311", BASE, utcnow()
                                  ) == "consulting ref-12125550177"
        assert conference.cancel(s, "101", BASE, utcnow()) == "consult cancelled"
    from acd.live_store import CommandError

    with database.session() as s, pytest.raises(CommandError, match="still ringing"):
        conference.consult(s, "101", "102", "+13115550311", BASE, utcnow())
    assert says("participant-join", "CA-target", 5) == 204  # they answer after all
    assert says("participant-join", "CA-target", 5) == 204  # and Twilio says it twice
    sent = [(method, path, form.get("To") or form.get("Hold") or form.get("EndConferenceOnExit"))
            for method, path, form in requests_sent(database)]
    assert sent == [
        ("POST", "/Participants/CA-in-room.json", "true"),  # the caller held for the consult
        ("POST", "/Participants/CA-agent-leg.json", "false"),
        ("POST", "/Participants.json", "+12125550177"),
        ("POST", "/Participants/CA-in-room.json", "false"),  # Cancel: back to the caller
        ("POST", "/Participants/CA-agent-leg.json", "true"),
        ("DELETE", "/Participants/CA-target.json", None)]  # removed when they joined, once
    with database.session() as s:
        e = s.get(TwilioEntry, entry_id)
        assert e is not None and e.consult_state == "cancelled" and e.state == "connected"
        conference.target_ended(s, entry_id, "completed", BASE, utcnow())
        assert e.consult_state == ""


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_agent_hanging_up_while_the_target_rings_ends_the_room(
        database: Database, ready: tuple[Any, int]) -> None:
    from acd.twilio_acd import conference

    says, entry_id = ready
    with database.session() as s:
        conference.consult(s, "101", "102", "+13115550311", BASE, utcnow())
    assert says("participant-hold", "CA-in-room", 4) == 204
    for _ in range(2):  # Twilio retried it
        assert says("participant-leave", "CA-agent-leg", 6) == 204
    assert says("participant-unhold", "CA-in-room", 5) == 204  # late, and after the end
    with database.session() as s:
        rec = s.scalars(select(CallRecord).where(CallRecord.uniqueid == "CA-in-room")).one()
        assert (rec.outcome, rec.hangup_side, rec.transfer_kind, rec.agent) == (
            "answered", "agent", None, "101")
        e = s.get(TwilioEntry, entry_id)
        assert e is not None and e.state == "done" and e.held_since is None  # closed at the end
    ends = [form for method, path, form in requests_sent(database) if path == ".json"]
    assert ends == [{"Status": "completed"}]  # the caller is not left on hold with nobody


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_forged_room_callbacks_and_actions_without_a_call_change_nothing(
        app: Flask, database: Database, ready: tuple[Any, int]) -> None:
    from acd.live_store import CommandError
    from acd.twilio_acd import conference

    says, entry_id = ready
    client = app.test_client()
    forged = client.post(f"/twilio/acd/conference/{entry_id}", data={
        "StatusCallbackEvent": "participant-leave", "CallSid": "CA-in-room",
        "ConferenceSid": CONF}, headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"})
    assert forged.status_code == 403
    with database.session() as s:
        with pytest.raises(CommandError, match="no call"):
            conference.hold(s, "102", True, BASE, utcnow())
        with pytest.raises(CommandError, match="no consult to complete"):
            conference.complete(s, "101", utcnow())
        with pytest.raises(CommandError, match="cannot be reached"):
            conference.consult(s, "101", "9", "", BASE, utcnow())
        e = s.get(TwilioEntry, entry_id)
        assert e is not None and e.state == "connected" and e.consult_state == ""
    assert requests_sent(database) == []


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_caller_sent_to_the_room_of_an_agent_who_hung_up_is_not_left_there(
        app: Flask, database: Database, ready: tuple[Any, int]) -> None:
    from acd.twilio_acd import conference
    from acd.twilio_acd.dispatch_jobs import Dispatcher
    from tests.support.fake_twilio import fake_twilio_rest

    says, entry_id = ready
    settings = app.extensions["civic311.settings"]
    with database.session() as s:
        e = s.get(TwilioEntry, entry_id)
        assert e is not None
        e.room_state, e.conference_sid = "", None  # still bridged by the Dial
        assert conference.hold(s, "101", True, BASE, utcnow()) == "holding"
    with fake_twilio_rest(settings.twilio_account_sid, "conf-token") as (api, fake):
        settings.twilio_api_base = api
        fake.fail_next(400)  # the agent's leg is not in progress any more
        Dispatcher(settings, database).send(utcnow())
        assert says("participant-join", "CA-in-room", 1) == 204  # the caller followed
        assert says("participant-join", "CA-in-room", 1) == 204  # (twice)
        assert [(m, p, f) for m, p, f in requests_sent(database)][1:] == [
            ("POST", ".json", {"Status": "completed"})]  # the room ends, once


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_dial_action_retried_once_the_caller_is_in_the_room_ends_nothing(
        app: Flask, database: Database, ready: tuple[Any, int]) -> None:
    from tests.support.fake_twilio import signed_post

    _, entry_id = ready
    settings = app.extensions["civic311.settings"]
    resp = signed_post(app.test_client(), "conf-token", BASE, f"/twilio/acd/dialed/{entry_id}?o=1",
                       {"AccountSid": settings.twilio_account_sid, "CallSid": "CA-in-room",
                        "CallStatus": "in-progress", "DialCallStatus": "completed",
                        "DialCallSid": "CA-agent-leg", "DialCallDuration": "12"})
    assert resp.status_code == 200
    assert f">civic311-{entry_id}</Conference>" in resp.get_data(as_text=True)
    with database.session() as s:
        e = s.get(TwilioEntry, entry_id)
        assert e is not None and e.state == "connected"
        rec = s.scalars(select(CallRecord).where(CallRecord.uniqueid == "CA-in-room")).one()
        assert rec.ended_at is None


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_hold_that_twilio_fails_is_sent_again_by_the_outbox(
        app: Flask, database: Database, ready: tuple[Any, int]) -> None:
    from datetime import timedelta

    from acd.twilio_acd import conference
    from acd.twilio_acd.dispatch_jobs import Dispatcher
    from tests.support.fake_twilio import fake_twilio_rest

    settings = app.extensions["civic311.settings"]
    with database.session() as s:
        conference.hold(s, "101", True, BASE, utcnow())
    with fake_twilio_rest(settings.twilio_account_sid, "conf-token") as (api, fake):
        settings.twilio_api_base = api
        worker = Dispatcher(settings, database)
        fake.fail_next(503)
        assert worker.send(utcnow()) == 0  # Twilio is down: kept, tried again later
        assert worker.send(utcnow() + timedelta(seconds=30)) == 1
        assert [(r["status"], r["form"].get("Hold")) for r in fake.requests] == [
            (503, "true"), (200, "true")]
