"""The same menu through the Twilio blueprint, with real signatures from the twilio package."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from twilio.request_validator import RequestValidator

from acd.models import CallRecord, RingAttempt
from center.worker import collect_jobs
from crm_bridge.models import ServiceType
from crm_bridge.seed import seed_catalog
from crm_bridge.tickets import service
from crm_bridge.tickets.draft import TicketDraft
from foundation.db import Database, utcnow
from ivr import knowledge
from ivr.callback import twilio_jobs as twilio_callbacks
from ivr.callback.models import CallbackRequest
from ivr.menu import DEFAULT_MENU
from ivr.models import IvrCall, IvrNotice
from tests.support.fake_remote import serve_fake_twilio

TOKEN = "test-twilio-token-1234"
BASE = "https://311.civic.example"


@pytest.fixture
def twilio_app(app: Flask) -> Flask:
    settings = app.extensions["civic311.settings"]
    settings.twilio_auth_token = TOKEN
    settings.public_base_url = BASE
    settings.twilio_account_sid, settings.twilio_from_number = "AC1", "+15550003110"
    write_menu(settings.data_dir, closed_today=False)
    return app


def write_menu(data_dir: Path, closed_today: bool) -> None:
    menu = yaml.safe_load(DEFAULT_MENU.read_text())
    if closed_today:
        menu["hours"]["holidays"] = [utcnow().astimezone(ZoneInfo(menu["timezone"])).date()]
    else:
        menu["hours"]["always_open"] = True
    path = Path(data_dir) / "ivr" / "menu.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(menu, allow_unicode=True))


class Caller:
    """Plays Twilio: follows <Gather action> URLs, signing every request."""

    def __init__(self, client: FlaskClient, sid: str, number: str = "+12125550999") -> None:
        self.client, self.sid, self.number = client, sid, number
        self.next_url: str | None = None

    def post(self, path: str, **form: str) -> Any:
        params = {"CallSid": self.sid, "From": self.number, "AccountSid": "AC1", **form}
        sig = RequestValidator(TOKEN).compute_signature(BASE + path, params)
        return self.client.post(path, data=params, headers={"X-Twilio-Signature": sig})

    def twiml(self, path: str, **form: str) -> str:
        resp = self.post(path, **form)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        xml = resp.get_data(as_text=True)
        m = re.search(r'<Gather action="([^"]+)"', xml)
        self.next_url = unescape(m.group(1)) if m else None
        return xml

    def start(self) -> str:
        return self.twiml("/twilio/voice")

    def press(self, digits: str) -> str:
        assert self.next_url, "no Gather to answer"
        return self.twiml(self.next_url, Digits=digits)

    def hang_up(self) -> None:
        assert self.post("/twilio/status", CallStatus="completed").status_code == 204


def row(db: Database, sid: str) -> IvrCall:
    with db.session() as s:
        r = s.scalar(select(IvrCall).where(IvrCall.uniqueid == sid))
        assert r is not None
        s.expunge(r)
        return r


def test_status_lookup_faq_report_and_invalid_keys(twilio_app: Flask,
                                                   database: Database) -> None:
    with database.session() as s:
        seed_catalog(s, None)
        ticket = service.open_ticket(
            s, TicketDraft(
                "pothole", description="deep hole", address="1 Main St",
                attributes={"size": "large"}, first_name="Ann", phone="+12125550000"
            )).number
    client = twilio_app.test_client()

    status = Caller(client, "CA-status")
    xml = status.start()
    assert "For English, press 1." in xml and "Para español, oprima 2." in xml
    status.press("1")
    assert "please enter your service request number" in status.press("1").lower()
    bad = ticket[:-1] + str((int(ticket[-1]) + 1) % 10)
    assert "That number does not look right." in status.press(bad + "#")
    xml = status.press(ticket + "#")
    assert " ".join(ticket) in xml and "It is handled by" in xml
    assert "Ann" not in xml and "1 Main St" not in xml and "555" not in xml
    status.hang_up()
    r = row(database, "CA-status")
    assert (r.source, r.option, r.outcome, r.ticket_number, r.lookups) == (
        "twilio", "status", "contained", ticket, 2)
    assert r.ivr_path == "menu:start>lang:en>status>lookup:typo>lookup:found"

    faq = Caller(client, "CA-faq")
    faq.start()
    faq.press("1")
    faq.press("2")
    assert "Alternate side parking is suspended" in faq.press("2")
    faq.hang_up()
    assert row(database, "CA-faq").outcome == "contained"

    report = Caller(client, "CA-report")
    report.start()
    report.press("2")
    report.press("3")
    xml = report.press("2")
    assert "<Enqueue" in xml and ">transportation</Enqueue>" in xml
    assert 'language="es-MX"' in xml and 'waitUrl="/twilio/wait?lang=es"' in xml
    held = report.post("/twilio/wait?lang=es", QueuePosition="3", CurrentQueueSize="5",
                       QueueTime="30").get_data(as_text=True)
    assert "Usted es la llamada número 3." in held and "<Pause" in held
    assert report.post("/twilio/enqueued?q=transportation", QueueResult="bridged",
                       QueueTime="12", QueueSid="QU1").status_code == 200
    report.hang_up()
    with database.session() as s:
        rec = s.scalar(select(CallRecord).where(CallRecord.uniqueid == "CA-report"))
        assert rec is not None
        assert (rec.source, rec.queue, rec.outcome, rec.wait_s) == (
            "twilio", "transportation", "answered", 12.0)
        assert rec.ivr_path == "menu:start>lang:es>report>report:transportation"
        assert rec.answered_at is not None and rec.ended_at is not None
        assert rec.talk_s is not None
    assert row(database, "CA-report").outcome == "agent"

    wrong = Caller(client, "CA-wrong")
    wrong.start()
    wrong.press("1")
    wrong.press("9")
    wrong.press("")  # timeout: Twilio posts no digits (actionOnEmptyResult)
    xml = wrong.press("*")
    assert ">citywide</Enqueue>" in xml
    assert wrong.post("/twilio/enqueued?q=citywide", QueueResult="hangup",
                      QueueTime="40").status_code == 200
    with database.session() as s:
        rec = s.scalar(select(CallRecord).where(CallRecord.uniqueid == "CA-wrong"))
        assert rec is not None and (rec.outcome, rec.wait_s) == ("abandoned", 40.0)


def call_record(db: Database, sid: str) -> dict[str, Any]:
    with db.session() as s:
        rec = s.scalar(select(CallRecord).where(CallRecord.uniqueid == sid))
        assert rec is not None
        return {c.key: getattr(rec, c.key) for c in CallRecord.__table__.columns}


def test_repeated_or_late_callbacks_change_a_record_once(twilio_app: Flask,
                                                         database: Database) -> None:
    client = twilio_app.test_client()
    answered = Caller(client, "CA-twice")
    answered.start()
    answered.press("1")
    assert ">citywide</Enqueue>" in answered.press("0")
    bridged = {"QueueResult": "bridged", "QueueTime": "7"}
    assert answered.post("/twilio/enqueued?q=citywide", **bridged).status_code == 200
    first = call_record(database, "CA-twice")
    assert (first["source"], first["outcome"], first["wait_s"], first["agent"],
            first["hangup_side"], first["ended_at"]) == ("twilio", "answered", 7.0, None, None,
                                                         None)
    assert first["answered_at"] == first["entered_at"] + timedelta(seconds=7)
    assert answered.post("/twilio/enqueued?q=citywide", **bridged).status_code == 200
    assert answered.post("/twilio/enqueued?q=citywide", QueueResult="hangup",
                         QueueTime="9").status_code == 200  # late and contradicting
    assert call_record(database, "CA-twice") == first
    answered.hang_up()
    ended = call_record(database, "CA-twice")
    assert ended["ended_at"] is not None and ended["talk_s"] is not None
    assert ended["talk_s"] == (ended["ended_at"] - ended["answered_at"]).total_seconds()
    assert {k: v for k, v in ended.items() if k not in ("ended_at", "talk_s")} == {
        k: v for k, v in first.items() if k not in ("ended_at", "talk_s")}
    answered.hang_up()
    assert answered.post("/twilio/status", CallStatus="canceled").status_code == 204
    assert call_record(database, "CA-twice") == ended

    gone = Caller(client, "CA-gone")
    gone.start()
    gone.press("1")
    gone.press("0")
    assert gone.post("/twilio/enqueued?q=citywide", QueueResult="hangup",
                     QueueTime="15").status_code == 200
    left = call_record(database, "CA-gone")
    assert (left["outcome"], left["wait_s"], left["hangup_side"]) == ("abandoned", 15.0, None)
    assert left["ended_at"] == left["entered_at"] + timedelta(seconds=15)
    assert gone.post("/twilio/enqueued?q=citywide", QueueResult="hangup",
                     QueueTime="15").status_code == 200
    gone.hang_up()
    gone.hang_up()
    assert call_record(database, "CA-gone") == left
    with database.session() as s:  # the edge reports no ring attempts
        assert s.scalar(select(func.count()).select_from(RingAttempt)) == 0


def test_notice_and_after_hours(twilio_app: Flask, database: Database) -> None:
    client = twilio_app.test_client()
    with database.session() as s:
        now = utcnow()
        s.add(IvrNotice(text="Snow emergency: move cars off Main Street.", created_by="sup",
                        created_at=now, expires_at=now + timedelta(minutes=5)))
    xml = Caller(client, "CA-n").start()
    assert xml.index("Snow emergency") < xml.index("For English, press 1.")
    write_menu(twilio_app.extensions["civic311.settings"].data_dir, closed_today=True)
    night = Caller(client, "CA-night")
    night.start()
    assert "Our agents are available" in night.press("1")
    xml = night.press("1")
    assert "We will call you back" in xml and "<Hangup" in xml
    assert row(database, "CA-night").outcome == "callback"
    vm = Caller(client, "CA-vm")
    vm.start()
    vm.press("2")
    xml = vm.press("2")
    assert "<Record" in xml and "/twilio/recorded?lang=es" in xml
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE9"
    assert "Adiós" in vm.post("/twilio/recorded?lang=es", RecordingUrl=url,
                              RecordingDuration="12").get_data(as_text=True)
    left = row(database, "CA-vm")
    assert (left.outcome, left.voicemail, left.voicemail_s) == ("voicemail", url, 12.0)


def test_a_recorded_notice_is_played_from_a_public_url(twilio_app: Flask,
                                                       database: Database) -> None:
    audio = b"RIFF-not-checked-here"  # stored as converted; served as is
    with database.session() as s:
        now = utcnow()
        notice = IvrNotice(text="Heat advisory.", created_by="sup", created_at=now,
                           expires_at=now + timedelta(minutes=5), audio=audio, audio_s=3.0)
        s.add(notice)
        s.flush()
        url = f"{BASE}/twilio/notices/{notice.id}.wav"
    client = twilio_app.test_client()
    xml = Caller(client, "CA-rec").start()
    assert f"<Play>{url}</Play>" in xml and "Heat advisory." not in xml
    assert xml.index("<Play>") < xml.index("For English, press 1.")
    fetched = client.get(url.removeprefix(BASE))  # Twilio fetches it unsigned
    assert (fetched.status_code, fetched.data) == (200, audio)


def test_forged_or_missing_signatures_get_403_and_change_nothing(twilio_app: Flask,
                                                                 database: Database) -> None:
    client = twilio_app.test_client()
    params = {"CallSid": "CA-forged", "From": "+12125550999"}
    assert client.post("/twilio/voice", data=params).status_code == 403
    forged = RequestValidator("wrong-token").compute_signature(BASE + "/twilio/voice", params)
    assert client.post("/twilio/voice", data=params,
                       headers={"X-Twilio-Signature": forged}).status_code == 403
    good = RequestValidator(TOKEN).compute_signature(BASE + "/twilio/voice", params)
    assert client.post("/twilio/voice", data={**params, "From": "+19995550000"},
                       headers={"X-Twilio-Signature": good}).status_code == 403  # tampered
    assert client.post("/twilio/enqueued?q=citywide", data={**params, "QueueResult": "bridged"},
                       headers={"X-Twilio-Signature": good}).status_code == 403  # other URL
    http = RequestValidator(TOKEN).compute_signature(
        BASE.replace("https", "http") + "/twilio/voice", params)
    assert client.post("/twilio/voice", data=params,
                       headers={"X-Twilio-Signature": http}).status_code == 403
    with database.session() as s:
        assert s.scalar(select(func.count(IvrCall.id))) == 0
        assert s.scalar(select(func.count(CallRecord.id))) == 0
    twilio_app.extensions["civic311.settings"].twilio_auth_token = None
    assert client.post("/twilio/voice", data=params,
                       headers={"X-Twilio-Signature": good}).status_code == 403


def test_a_faq_answer_comes_from_the_agents_knowledge_base(
        twilio_app: Flask, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """FAQ 1 of the city menu is the catalog's missed-collection FAQ: what the agent desktop
    shows is what callers hear, and an edit of the catalog changes both."""
    with database.session() as s:
        seed_catalog(s, None)
        trash = s.scalar(select(ServiceType).where(ServiceType.code == "missed-collection"))
        assert trash is not None
        first_text = trash.faq
    monkeypatch.setattr(knowledge, "TTL_S", 0)  # the app's catalog answers are never stale
    client = twilio_app.test_client()

    def hear_faq_1(sid: str, language: str) -> str:
        caller = Caller(client, sid)
        caller.start()
        caller.press(language)
        caller.press("2")
        xml = caller.press("1")
        caller.hang_up()
        return unescape(xml)

    assert first_text and first_text in hear_faq_1("CA-kb-1", "1")
    assert "Saque los materiales" in hear_faq_1("CA-kb-es", "2")  # Spanish: from the menu
    with database.session() as s:
        s.execute(update(ServiceType).where(ServiceType.code == "missed-collection")
                  .values(faq="Collection moves one day later in a holiday week."))
    assert "Collection moves one day later in a holiday week." in hear_faq_1("CA-kb-2", "1")
    with database.session() as s:  # an admin empties it: FAQ 1 is no longer offered
        s.execute(update(ServiceType).where(ServiceType.code == "missed-collection")
                  .values(faq=""))
    caller = Caller(client, "CA-kb-3")
    caller.start()
    caller.press("1")
    menu = caller.press("2")
    assert "For parking rules, press 2." in menu and "collection, press 1" not in menu
    assert "Sorry, I did not get that." in caller.press("1")


def test_an_after_hours_callback_is_placed_through_twilio(twilio_app: Flask,
                                                          database: Database) -> None:
    """Booked after hours, due at the next opening; the worker asks Twilio's REST API (a real
    local HTTP server here) to call; the answered call joins the queue; an unanswered or
    refused one is tried again later."""
    settings = twilio_app.extensions["civic311.settings"]
    write_menu(settings.data_dir, closed_today=True)
    client = twilio_app.test_client()
    for sid, number in (("CA-cb1", "+12125550771"), ("CA-cb2", "+12125550772")):
        night = Caller(client, sid, number)
        night.start()
        night.press("1")
        assert "We will call you back" in night.press("1")
    with database.session() as s:
        rows = {r.number: (r.id, r.due_at, r.dial, r.state)
                for r in s.scalars(select(CallbackRequest))}
    assert set(rows) == {"+12125550771", "+12125550772"}
    (id1, due, dial, state), (id2, *_) = rows["+12125550771"], rows["+12125550772"]
    assert (dial, state) == ("twilio", "requested") and due > utcnow()
    assert twilio_callbacks.place_due(settings, database, due - timedelta(seconds=1)) == 0
    assert "ivr.twilio_callbacks" in {j.id for j in collect_jobs(settings, database)}

    with serve_fake_twilio() as (api, received):
        settings.twilio_api_base = api
        assert twilio_callbacks.place_due(settings, database, due) == 2
    calls = {r["To"]: r for r in received}
    assert calls["+12125550771"]["From"] == "+15550003110"
    assert calls["+12125550771"]["Url"] == f"{BASE}/twilio/callback/{id1}"
    assert calls["+12125550771"]["path"] == "/2010-04-01/Accounts/AC1/Calls.json"
    assert calls["+12125550771"]["auth"] == ("AC1", TOKEN)

    answered = Caller(client, "CA-out1", "+15550003110")
    xml = answered.twiml(f"/twilio/callback/{id1}")
    assert "returning your call" in xml and "<Enqueue" in xml and ">citywide</Enqueue>" in xml
    # Twilio asks again (it did not get the answer in time): the same call, the same answer
    assert answered.twiml(f"/twilio/callback/{id1}") == xml
    stranger = Caller(client, "CA-out9", "+15550003110")  # another call for the same request
    assert stranger.post(f"/twilio/callback/{id1}").get_data(as_text=True).count("Enqueue") == 0
    busy = Caller(client, "CA-out2", "+15550003110")
    assert busy.post(f"/twilio/callback/{id2}/status", CallStatus="no-answer").status_code == 204
    with database.session() as s:
        one, two = s.get(CallbackRequest, id1), s.get(CallbackRequest, id2)
        assert one is not None and two is not None
        assert (one.state, one.attempts) == ("connected", 1)
        assert (two.state, two.attempts) == ("requested", 1) and two.due_at > utcnow()
        retry_at = two.due_at

    settings.twilio_api_base = "http://127.0.0.1:9"  # Twilio unreachable: counted, kept
    assert twilio_callbacks.place_due(settings, database, retry_at) == 0
    with database.session() as s:
        two = s.get(CallbackRequest, id2)
        assert two is not None and (two.state, two.attempts) == ("requested", 2)


def test_a_callback_twilio_refuses_never_stops_the_others(twilio_app: Flask,
                                                          database: Database) -> None:
    """Among due callbacks, one to a number Twilio refuses (400, code 21211): the others are
    placed, that one fails at once with Twilio's reason, and is never retried."""
    from ivr.callback import queries as store

    settings = twilio_app.extensions["civic311.settings"]
    now = utcnow()
    ids = {number: store.book(database, f"orig-{i}", "citywide", number, "twilio", "en",
                              now - timedelta(minutes=5 - i)).id
           for i, number in enumerate(("+12125550781", "anonymous", "+12125550782"))}
    with serve_fake_twilio() as (api, received):
        settings.twilio_api_base = api
        assert twilio_callbacks.place_due(settings, database, now) == 2
        assert sorted(r["To"] for r in received) == ["+12125550781", "+12125550782"]
        assert twilio_callbacks.place_due(settings, database, now + timedelta(minutes=1)) == 0
        assert len(received) == 2  # the refused one is not tried again
    with database.session() as s:
        rows = {n: s.get(CallbackRequest, i) for n, i in ids.items()}
    bad = rows["anonymous"]
    assert bad is not None and (bad.state, bad.attempts) == ("failed", 1)
    assert "21211" in bad.detail and bad.ended_at is not None
    assert [(r.state, r.attempts) for n, r in rows.items() if r and n != "anonymous"] == \
        [("calling", 1)] * 2
