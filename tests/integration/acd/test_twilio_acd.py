"""civic311 as the ACD on Twilio, against a fake of Twilio's cloud at the HTTP boundary
(tests/support/fake_twilio.py: a real HTTP REST server, and Twilio's webhooks signed with
twilio's RequestValidator). Time is a test clock, so a call's timeline is exact and can be
replayed as the AMI events Asterisk would send for it, through the Asterisk path."""

from __future__ import annotations

import io
import os
import threading
import time
import wave
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from flask import Flask
from sqlalchemy import select

from acd import live_store
from acd.agents import AgentTracker
from acd.models import AgentStateSpan, CallRecord, RingAttempt
from acd.normalizer import normalize
from acd.recorder import apply_events
from acd.twilio_acd.dispatch_jobs import Dispatcher
from acd.twilio_acd.models import TwilioAgent, TwilioRequest
from foundation.db import Database
from ivr.callback.models import CallbackRequest
from recordings.catalog import Paths, catalog
from recordings.models import Recording
from recordings.twilio_fetch import fetch_due
from tests.conftest import csrf_token, login
from tests.integration.ivr.test_twilio import write_menu
from tests.support.fake_twilio import FakeTwilioRest, Twilio, dial_of, fake_twilio_rest

AC, TOKEN, BASE = "AC" + "1" * 32, "test-twilio-token-5678", "https://311.civic.example"
SECRET = "a-secret-of-the-api-key-32-bytes-long"
T0 = datetime(2026, 12, 1, 15, 0, 0, tzinfo=UTC)
RECORD_FIELDS = ("queue", "entered_at", "answered_at", "ended_at", "wait_s", "talk_s",
                 "agent", "outcome", "exit_key", "hangup_side", "acw_s", "transfer_target")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def at(self, seconds: float) -> datetime:
        self.now = T0 + timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    import acd.twilio_acd.twiml_web
    import ivr.menu_twiml
    import recordings.twilio_fetch

    monkeypatch.setattr(ivr.menu_twiml, "utcnow", c)
    monkeypatch.setattr(acd.twilio_acd.twiml_web, "utcnow", c)
    monkeypatch.setattr(recordings.twilio_fetch, "utcnow", c)
    return c


@pytest.fixture
def cloud(app: Flask, clock: Clock) -> Iterator[tuple[Twilio, Dispatcher, FakeTwilioRest]]:
    settings = app.extensions["civic311.settings"]
    with fake_twilio_rest(AC, TOKEN) as (api, fake):
        settings.telephony_backend = "twilio"
        settings.twilio_auth_token, settings.public_base_url = TOKEN, BASE
        settings.twilio_account_sid, settings.twilio_api_base = AC, api
        settings.twilio_from_number = "+15550003110"
        write_menu(settings.data_dir, closed_today=False)
        db = app.extensions["civic311.db"]
        yield Twilio(app.test_client(), fake, BASE), Dispatcher(settings, db), fake


def command(db: Database, action: str, agent: str, queue: str | None = "citywide",
            reason: str = "") -> None:
    with db.session() as s:
        live_store.request_command(s, "test", action, agent, queue, reason,
                                   ["citywide", "sanitation"])


def reach_queue(tw: Twilio, sid: str) -> str:
    """The IVR: English (1), then an agent (0): the TwiML that queues the caller."""
    xml = tw.twiml("/twilio/voice", sid, From="+12125550999")
    assert "<Gather" in xml
    xml = tw.twiml("/twilio/gather?s=" + _next(xml), sid, Digits="1", From="+12125550999")
    return tw.twiml("/twilio/gather?s=" + _next(xml), sid, Digits="0", From="+12125550999")


def _next(xml: str) -> str:
    import re
    from html import unescape

    m = re.search(r'<Gather action="/twilio/gather\?s=([^"]+)"', xml)
    assert m, xml
    return unescape(m.group(1))


def record(db: Database, uid: str) -> dict[str, Any]:
    with db.session() as s:
        rec = s.scalar(select(CallRecord).where(CallRecord.uniqueid == uid))
        assert rec is not None, uid
        out = {f: getattr(rec, f) for f in RECORD_FIELDS}
        out["rings"] = [(r.agent, r.ring_ms, r.outcome) for r in s.scalars(
            select(RingAttempt).where(RingAttempt.call_id == rec.id).order_by(RingAttempt.id))]
        return out


def ami_record(db: Database, uid: str, events: list[dict[str, str]], wrapup_end_s: float
               ) -> dict[str, Any]:
    """What the Asterisk path (normalizer, recorder, agent tracker) records for ``events``."""
    domain = [d for m in events if (d := normalize(m)) is not None]
    tracker = AgentTracker({"citywide": 15})
    with db.session() as s:
        apply_events(s, domain)
        moves = [m for d in domain for m in tracker.apply(d)]
        moves += tracker.tick(T0 + timedelta(seconds=wrapup_end_s))
        live_store.record_moves(s, [m for m in moves if not hasattr(m, "state")])
    return record(db, uid)


def ami(event: str, at_s: float, **fields: str) -> dict[str, str]:
    return {"Event": event, "Timestamp": str((T0 + timedelta(seconds=at_s)).timestamp()),
            "Queue": "citywide", **fields}


def test_a_call_rings_one_agent_unanswered_then_another_as_asterisk_records_it(
        cloud: tuple[Twilio, Dispatcher, FakeTwilioRest], clock: Clock,
        database: Database) -> None:
    tw, dispatcher, fake = cloud
    clock.at(-200)
    command(database, "login", "102")
    dispatcher.run(clock.now)
    clock.at(-100)
    command(database, "login", "101")
    dispatcher.run(clock.now)  # 102 has been idle longest

    clock.at(0)
    xml = reach_queue(tw, "CA-acd-1")
    assert ">citywide</Enqueue>" in xml and 'waitUrl="/twilio/wait?lang=en"' in xml
    tw.enqueue("CA-acd-1", "citywide")
    clock.at(1)
    wait = tw.wait("CA-acd-1", "citywide")
    assert "You are caller number 1." in wait and "<Gather" in wait
    assert "You are caller number" not in tw.wait("CA-acd-1", "citywide")  # said once

    assert dispatcher.run(clock.at(2)) == 1
    assert dispatcher.run(clock.now) == 0  # a second run finds the caller offered
    assert len(fake.handled("dequeue")) == 1
    offer = tw.dequeued_url("CA-acd-1")
    dial = dial_of(tw.twiml(offer, "CA-acd-1", CallStatus="in-progress"))
    assert (dial["to"], dial["timeout"], dial["record"]) == ("agent102", "15",
                                                             "record-from-answer-dual")
    clock.at(17)  # 102 lets it ring: the caller goes back in line, at their place
    back = tw.twiml(dial["action"], "CA-acd-1", DialCallStatus="no-answer",
                    CallStatus="in-progress")
    assert ">citywide</Enqueue>" in back
    tw.enqueue("CA-acd-1", "citywide")
    tw.wait("CA-acd-1", "citywide")
    assert dispatcher.run(clock.at(18)) == 1
    dial = dial_of(tw.twiml(tw.dequeued_url("CA-acd-1"), "CA-acd-1",
                            CallStatus="in-progress"))
    assert dial["to"] == "agent101"
    clock.at(21)
    assert tw.post(dial["leg_statusCallback"], "CA-leg-2",
                   CallStatus="in-progress").status_code == 204
    clock.at(22)  # Twilio retries the callback: nothing changes
    assert tw.post(dial["leg_statusCallback"], "CA-leg-2",
                   CallStatus="in-progress").status_code == 204
    clock.at(81)  # the agent hangs up after 60 s: citywide asks the post-call survey
    assert "<Redirect method=\"POST\">/twilio/survey?q=citywide&amp;a=101</Redirect>" in (
        tw.twiml(dial["action"], "CA-acd-1", DialCallStatus="completed",
                 DialCallDuration="60", CallStatus="in-progress"))
    tw.twiml("/twilio/status", "CA-acd-1", CallStatus="completed")
    dispatcher.run(clock.at(97))  # wrap-up (15 s) over

    twilio = record(database, "CA-acd-1")
    asterisk = ami_record(database, "AMI-1", [
        ami("QueueCallerJoin", 0, Uniqueid="AMI-1", Position="1", CallerIDNum="+12125550999"),
        ami("AgentCalled", 2, Uniqueid="AMI-1", Interface="PJSIP/agent102"),
        ami("AgentRingNoAnswer", 17, Uniqueid="AMI-1", Interface="PJSIP/agent102",
            RingTime="15000"),
        ami("AgentCalled", 18, Uniqueid="AMI-1", Interface="PJSIP/agent101"),
        ami("AgentConnect", 21, Uniqueid="AMI-1", Interface="PJSIP/agent101", HoldTime="21",
            RingTime="3"),
        ami("AgentComplete", 81, Uniqueid="AMI-1", Interface="PJSIP/agent101",
            HoldTime="21", TalkTime="60", Reason="agent"),
    ], 97)
    assert twilio == asterisk
    assert (twilio["agent"], twilio["wait_s"], twilio["talk_s"], twilio["acw_s"]) == (
        "101", 21.0, 60.0, 15.0)
    with database.session() as s:
        spans = [(sp.state, sp.started_at) for sp in s.scalars(
            select(AgentStateSpan).where(AgentStateSpan.agent == "101")
            .order_by(AgentStateSpan.id))]
    assert spans == [("available", T0 - timedelta(seconds=100)),
                     ("ringing", T0 + timedelta(seconds=18)),
                     ("on_call", T0 + timedelta(seconds=21)),
                     ("wrapup", T0 + timedelta(seconds=81)),
                     ("available", T0 + timedelta(seconds=97))]


def test_out_of_order_and_repeated_callbacks_change_nothing_twice(
        cloud: tuple[Twilio, Dispatcher, FakeTwilioRest], clock: Clock,
        database: Database) -> None:
    tw, dispatcher, fake = cloud
    clock.at(-10)
    command(database, "login", "101")
    dispatcher.run(clock.now)
    clock.at(0)
    reach_queue(tw, "CA-acd-2")
    tw.enqueue("CA-acd-2", "citywide")
    tw.wait("CA-acd-2", "citywide")
    dispatcher.run(clock.at(3))
    offer = tw.dequeued_url("CA-acd-2")
    dial = dial_of(tw.twiml(offer, "CA-acd-2", CallStatus="in-progress"))
    # the Dial action comes first (the answered callback is late): answered 40 s before
    clock.at(50)
    tw.twiml(dial["action"], "CA-acd-2", DialCallStatus="completed", DialCallDuration="40",
             CallStatus="completed")
    first = record(database, "CA-acd-2")
    assert (first["outcome"], first["agent"], first["wait_s"], first["talk_s"],
            first["hangup_side"]) == ("answered", "101", 10.0, 40.0, "caller")
    clock.at(51)
    tw.post(dial["leg_statusCallback"], "CA-leg", CallStatus="in-progress")  # late
    tw.twiml(dial["action"], "CA-acd-2", DialCallStatus="completed", DialCallDuration="40",
             CallStatus="completed")  # repeated
    tw.leave_queue("CA-acd-2", "citywide", "hangup")  # late and contradicting
    tw.twiml(offer, "CA-acd-2", CallStatus="in-progress")  # a stale offer re-fetched
    tw.twiml("/twilio/status", "CA-acd-2", CallStatus="completed")
    tw.twiml("/twilio/status", "CA-acd-2", CallStatus="completed")
    assert record(database, "CA-acd-2") == first
    dispatcher.run(clock.at(52))
    assert len(fake.handled("dequeue")) == 1  # nobody was offered twice


def test_abandon_timeout_exit_key_empty_and_refused_end_as_on_asterisk(
        cloud: tuple[Twilio, Dispatcher, FakeTwilioRest], clock: Clock,
        database: Database) -> None:
    tw, dispatcher, fake = cloud
    clock.at(0)
    xml = reach_queue(tw, "CA-refused")  # nobody logged in: refused at join
    assert "<Enqueue" not in xml and "<Hangup" in xml
    command(database, "login", "101")
    command(database, "pause", "101", None, "break")
    dispatcher.run(clock.now)
    assert "<Enqueue" not in reach_queue(tw, "CA-refused-paused")  # everyone paused
    command(database, "unpause", "101", None)
    dispatcher.run(clock.now)

    for sid in ("CA-gone", "CA-late", "CA-key", "CA-empty"):
        clock.at(1)
        assert "<Enqueue" in reach_queue(tw, sid)
        tw.enqueue(sid, "citywide")
        tw.wait(sid, "citywide")
    command(database, "pause", "101", None, "lunch")
    dispatcher.run(clock.now)  # paused first: nobody is offered
    with database.session() as s:  # the wallboard's and the agent console's live board
        _, doc = live_store.board(s)
    assert [c["uniqueid"] for c in doc["queues"]["citywide"]] == [
        "CA-gone", "CA-late", "CA-key", "CA-empty"]
    assert [(a["agent"], a["state"], a["reason"]) for a in doc["agents"]] == [
        ("101", "paused", "lunch")]
    clock.at(9)
    tw.leave_queue("CA-gone", "citywide", "hangup")
    assert "<Leave" in tw.twiml("/twilio/wait/key?lang=en", "CA-key", Digits="2")
    assert "Goodbye" in tw.leave_queue("CA-key", "citywide", "leave")
    clock.at(300)
    assert "<Leave" not in tw.wait("CA-empty", "citywide")  # a paused agent keeps the line
    command(database, "logout", "101", None)
    dispatcher.run(clock.now)
    assert "<Leave" in tw.wait("CA-empty", "citywide")  # nobody logged in any more
    tw.leave_queue("CA-empty", "citywide", "leave")
    clock.at(601)  # citywide's timeout_s is 600
    assert "<Leave" in tw.wait("CA-late", "citywide")
    assert "Goodbye" in tw.leave_queue("CA-late", "citywide", "leave")
    got = {sid: (r["outcome"], r["wait_s"], r["exit_key"]) for sid in (
        "CA-refused", "CA-refused-paused", "CA-gone", "CA-key", "CA-late", "CA-empty")
        for r in [record(database, sid)]}
    assert got == {"CA-refused": ("refused", 0.0, None),
                   "CA-refused-paused": ("refused", 0.0, None),
                   "CA-gone": ("abandoned", 8.0, None), "CA-key": ("exit_key", 8.0, "2"),
                   "CA-late": ("timeout", 600.0, None), "CA-empty": ("exit_empty", 299.0, None)}
    assert fake.handled("dequeue") == []  # a paused agent is never offered a call
    with database.session() as s:
        reasons = [sp.reason for sp in s.scalars(select(AgentStateSpan).where(
            AgentStateSpan.state == "paused").order_by(AgentStateSpan.id))]
    assert reasons == ["break", "lunch"]


def test_a_failing_dequeue_is_retried_and_a_hopeless_one_never_loses_the_caller(
        cloud: tuple[Twilio, Dispatcher, FakeTwilioRest], clock: Clock,
        database: Database) -> None:
    tw, dispatcher, fake = cloud
    clock.at(-10)
    command(database, "login", "101")
    dispatcher.run(clock.now)
    clock.at(0)
    reach_queue(tw, "CA-retry")
    tw.enqueue("CA-retry", "citywide")
    tw.wait("CA-retry", "citywide")
    fake.fail_next(503, 500)
    dispatcher.run(clock.at(1))  # offered; the dequeue fails (503)
    dispatcher.run(clock.at(1.5))  # not due yet (1 s backoff)
    assert [r["status"] for r in fake.requests] == [503]
    dispatcher.run(clock.at(2.1))  # second attempt: 500
    dispatcher.run(clock.at(4.2))  # third: accepted
    assert [r["status"] for r in fake.requests] == [503, 500, 200]
    dial = dial_of(tw.twiml(tw.dequeued_url("CA-retry"), "CA-retry", CallStatus="in-progress"))
    assert dial["to"] == "agent101"

    reach_queue(tw, "CA-hopeless")
    tw.enqueue("CA-hopeless", "citywide")
    tw.wait("CA-hopeless", "citywide")
    command(database, "login", "102")
    fake.fail_next(*[503] * 5)
    dispatcher.run(clock.at(10))
    for t in (11, 13, 17, 25, 41, 80):  # attempts 2-5 (1, 2, 4, 8 s apart), then anew
        dispatcher.run(clock.at(t))
    with database.session() as s:
        statuses = [r.status for r in s.scalars(select(TwilioRequest).order_by(TwilioRequest.id))]
    assert statuses[-2:] == ["failed", "done"]  # given up, then offered again and sent
    assert len(fake.handled("dequeue")) == 2
    dial = dial_of(tw.twiml(tw.dequeued_url("CA-hopeless"), "CA-hopeless",
                            CallStatus="in-progress"))
    assert dial["to"] == "agent102"


def test_a_caller_who_hangs_up_before_the_dequeue_is_sent_is_never_dequeued(
        cloud: tuple[Twilio, Dispatcher, FakeTwilioRest], clock: Clock,
        database: Database) -> None:
    tw, dispatcher, fake = cloud
    command(database, "login", "101")
    dispatcher.run(clock.at(-5))
    clock.at(0)
    reach_queue(tw, "CA-404")
    tw.enqueue("CA-404", "citywide")
    tw.wait("CA-404", "citywide")
    fake.fail_next(503)
    dispatcher.run(clock.at(1))
    qsid = fake.queue_sid("citywide")
    with fake.lock:  # the caller hangs up; Twilio's Enqueue action is lost
        fake.members[qsid].clear()
    dispatcher.run(clock.at(3))  # Twilio answers 404: the offer is released at once
    assert [r["status"] for r in fake.requests] == [503, 404]
    with fake.lock:  # say Twilio still had it: dequeued, but then never a callback
        fake.members[qsid].append("CA-404")
    dispatcher.run(clock.at(4))
    assert fake.requests[-1]["status"] == 200
    with database.session() as s:
        assert s.get(TwilioAgent, "101").state == "ringing"  # type: ignore[union-attr]
    dispatcher.run(clock.at(4 + 136))  # no word from Twilio: the agent is not stuck
    with database.session() as s:
        assert s.get(TwilioAgent, "101").state == "available"  # type: ignore[union-attr]
    tw.twiml("/twilio/status", "CA-404", CallStatus="completed")
    rec = record(database, "CA-404")
    assert (rec["outcome"], rec["wait_s"]) == ("abandoned", 140.0)
    requests_made = len(fake.requests)
    dispatcher.run(clock.at(200))
    assert len(fake.requests) == requests_made


def test_agent_token_device_transfer_and_outbound(
        cloud: tuple[Twilio, Dispatcher, FakeTwilioRest], clock: Clock, app: Flask,
        database: Database, users: dict[str, str]) -> None:
    tw, dispatcher, fake = cloud
    settings = app.extensions["civic311.settings"]
    settings.twilio_api_key_sid, settings.twilio_api_key_secret = "SK" + "2" * 32, SECRET
    settings.twilio_twiml_app_sid = "AP" + "3" * 32
    agent = app.test_client()
    login(agent, users["agent"])
    got = agent.get("/api/v1/twilio/token").get_json()
    claims = jwt.decode(got["token"], SECRET, algorithms=["HS256"])
    assert claims["grants"]["identity"] == "agent100"
    assert claims["grants"]["voice"] == {"incoming": {"allow": True}, "outgoing": {
        "application_sid": settings.twilio_twiml_app_sid}}
    assert abs(claims["exp"] - time.time() - settings.twilio_token_ttl_s) < 30  # short-lived
    assert (claims["iss"], claims["sub"]) == (settings.twilio_api_key_sid, AC)
    other = app.test_client()
    login(other, users["supervisor"])
    assert other.get("/api/v1/twilio/token").status_code == 403

    headers = {"X-CSRFToken": csrf_token(agent, "/agent/console")}
    assert agent.post("/api/v1/twilio/device", json={"number": "555"},
                      headers=headers).status_code == 400
    assert agent.post("/api/v1/twilio/device", json={"number": "+12125550100"},
                      headers=headers).status_code == 200
    command(database, "login", "100")
    dispatcher.run(clock.at(-1))
    clock.at(0)
    reach_queue(tw, "CA-xfer")
    tw.enqueue("CA-xfer", "citywide")
    tw.wait("CA-xfer", "citywide")
    dispatcher.run(clock.at(1))
    dial = dial_of(tw.twiml(tw.dequeued_url("CA-xfer"), "CA-xfer", CallStatus="in-progress"))
    assert dial["to"] == "+12125550100"  # the agent's PSTN number rings
    clock.at(4)
    tw.post(dial["leg_statusCallback"], "CA-leg", CallStatus="in-progress")
    clock.at(30)
    resp = agent.post("/api/v1/twilio/transfer", json={"number": "+12125550177"},
                      headers=headers)
    assert resp.status_code == 202
    dispatcher.run(clock.now)
    redirect = fake.handled("redirect")
    assert [r["path"].rsplit("/", 1)[-1] for r in redirect] == ["CA-xfer.json"]
    url = redirect[0]["form"]["Url"].removeprefix(BASE)
    assert "<Number>+12125550177</Number>" in tw.twiml(url, "CA-xfer")
    rec = record(database, "CA-xfer")
    assert (rec["outcome"], rec["agent"], rec["talk_s"], rec["hangup_side"],
            rec["transfer_target"]) == ("answered", "100", 26.0, "transfer", "ref-12125550177")
    assert agent.post("/api/v1/twilio/transfer", json={"number": "+12125550177"},
                      headers=headers).status_code == 409

    out = tw.twiml("/twilio/acd/outbound", "CA-out", From="client:agent100",
                   To="+12125550188")
    assert 'callerId="+15550003110"' in out and "<Number>+12125550188</Number>" in out
    assert tw.post("/twilio/acd/outbound", "CA-out", From="client:agent100",
                   To="911; drop").status_code == 400
    forged = tw.client.post("/twilio/acd/leg/1?o=1", data={"CallStatus": "in-progress"},
                            headers={"X-Twilio-Signature": "forged"})
    assert forged.status_code == 403


def wav(seconds: float, channels: int = 2) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x01\x00" * channels * int(8000 * seconds))
    return buf.getvalue()


def test_the_dual_channel_recording_is_fetched_into_the_catalog(
        cloud: tuple[Twilio, Dispatcher, FakeTwilioRest], clock: Clock, app: Flask,
        database: Database, tmp_path: Path) -> None:
    tw, dispatcher, fake = cloud
    settings = app.extensions["civic311.settings"]
    command(database, "login", "101")
    dispatcher.run(clock.at(-1))
    clock.at(0)
    reach_queue(tw, "CA-rec")
    tw.enqueue("CA-rec", "citywide")
    tw.wait("CA-rec", "citywide")
    dispatcher.run(clock.at(1))
    dial = dial_of(tw.twiml(tw.dequeued_url("CA-rec"), "CA-rec", CallStatus="in-progress"))
    assert (dial["recordingStatusCallback"], dial["record"]) == (
        "/twilio/recording", "record-from-answer-dual")
    tw.post(dial["leg_statusCallback"], "CA-leg", CallStatus="in-progress")
    clock.at(9)
    tw.twiml(dial["action"], "CA-rec", DialCallStatus="completed", DialCallDuration="8",
             CallStatus="completed")
    paths = Paths(tmp_path / "data", tmp_path / "spool")
    ended = T0 + timedelta(seconds=9)
    with database.session() as s:  # no word from Twilio yet: the catalog waits
        assert not catalog(s, paths, ["citywide"], ended + timedelta(seconds=30))
    fake.recordings["RE" + "7" * 32] = wav(8.0)
    url = f"{settings.twilio_api_base}/2010-04-01/Accounts/{AC}/Recordings/RE{'7' * 32}"
    for _ in range(2):  # Twilio retries its callback: one fetch
        assert tw.post("/twilio/recording", "CA-rec", RecordingSid="RE" + "7" * 32,
                       RecordingUrl=url, RecordingStatus="completed",
                       RecordingChannels="2").status_code == 204
    assert tw.post("/twilio/recording", "CA-rec", RecordingUrl="https://evil.example/x",
                   RecordingStatus="completed").status_code == 400
    fake.fail_next(503)
    assert fetch_due(settings, database, paths.incoming, ended + timedelta(seconds=31)) == 0
    with database.session() as s:  # still on its way: not called missing
        assert not catalog(s, paths, ["citywide"], ended + timedelta(seconds=35))
    assert fetch_due(settings, database, paths.incoming, ended + timedelta(seconds=45)) == 1
    fetched = paths.incoming / "CA-rec.wav"
    os.utime(fetched, (ended.timestamp() + 45, ended.timestamp() + 45))  # the test's clock
    with database.session() as s:
        counts = catalog(s, paths, ["citywide"], ended + timedelta(seconds=60))
        rec = s.scalar(select(Recording).where(Recording.uniqueid == "CA-rec"))
        assert rec is not None
        assert (counts["ok"], rec.status, rec.agent, rec.talk_s) == (1, "ok", "101", 8.0)
        assert rec.duration_s == pytest.approx(8.0) and rec.path
    assert (paths.absolute(rec.path).stat().st_mode & 0o777) == 0o600


def test_key_1_books_a_callback_and_two_dispatchers_at_once_offer_a_caller_once(
        cloud: tuple[Twilio, Dispatcher, FakeTwilioRest], clock: Clock, app: Flask,
        database: Database) -> None:
    tw, dispatcher, fake = cloud
    command(database, "login", "101")
    command(database, "pause", "101", None, "break")
    command(database, "unpause", "101", None)
    dispatcher.run(clock.at(-1))
    clock.at(0)
    reach_queue(tw, "CA-cb")
    tw.enqueue("CA-cb", "citywide")
    tw.wait("CA-cb", "citywide")
    clock.at(5)
    assert "<Leave" in tw.twiml("/twilio/wait/key?lang=en", "CA-cb", Digits="1")
    assert "we will call you back" in tw.leave_queue("CA-cb", "citywide", "leave")
    assert record(database, "CA-cb")["outcome"] == "callback"
    with database.session() as s:
        booked = s.scalar(select(CallbackRequest).where(
            CallbackRequest.original_uniqueid == "CA-cb"))
        assert booked is not None and (booked.number, booked.dial) == ("+12125550999",
                                                                       "twilio")

    reach_queue(tw, "CA-twice")
    tw.enqueue("CA-twice", "citywide")
    tw.wait("CA-twice", "citywide")
    other = Dispatcher(app.extensions["civic311.settings"], database)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(d: Dispatcher) -> None:
        start.wait()
        try:
            d.run(clock.at(6))
        except BaseException as exc:  # a lost race must never be an error either
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(d,)) for d in (dispatcher, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(fake.handled("dequeue")) == 1
    with database.session() as s:
        assert len(list(s.scalars(select(TwilioRequest)))) == 1


def test_a_restart_mid_call_loses_nothing(
        cloud: tuple[Twilio, Dispatcher, FakeTwilioRest], clock: Clock, app: Flask,
        database: Database) -> None:
    """Every fact of the ACD is in the database: a new web app and a new worker (a restart
    of civic311 between two callbacks) carry the call on to the same record."""
    from center.web import create_app

    tw, dispatcher, fake = cloud
    settings = app.extensions["civic311.settings"]
    command(database, "login", "101")
    dispatcher.run(clock.at(-1))
    clock.at(0)
    reach_queue(tw, "CA-restart")
    tw.enqueue("CA-restart", "citywide")
    tw.wait("CA-restart", "citywide")
    dispatcher.run(clock.at(2))
    dial = dial_of(tw.twiml(tw.dequeued_url("CA-restart"), "CA-restart",
                            CallStatus="in-progress"))
    clock.at(5)
    tw.post(dial["leg_statusCallback"], "CA-leg", CallStatus="in-progress")
    fresh = create_app(settings, database)
    fresh.config.update(TESTING=True)
    tw2, worker2 = Twilio(fresh.test_client(), fake, BASE), Dispatcher(settings, database)
    clock.at(35)
    tw2.twiml(dial["action"], "CA-restart", DialCallStatus="completed", DialCallDuration="30",
              CallStatus="in-progress")
    worker2.run(clock.at(51))
    rec = record(database, "CA-restart")
    assert (rec["outcome"], rec["agent"], rec["wait_s"], rec["talk_s"], rec["acw_s"],
            rec["hangup_side"]) == ("answered", "101", 5.0, 30.0, 15.0, "agent")
