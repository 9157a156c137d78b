"""Headless Chromium on the agent console of a Twilio center: the Voice SDK served from our
own static files loads, and the desktop's phone adapter (center/static/twilio-phone.js),
driven with a stand-in for the SDK's Device (its signalling and media need Twilio's cloud),
answers an offered call and transfers it; the transfer reaches the fake Twilio REST server
as the Calls redirect Twilio expects. The console's Hold, Resume, Consult and Complete
buttons reach it as the Conference Participants requests Twilio documents (the room's
callbacks played as Twilio sends them, signed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from acd.twilio_acd.dispatch_jobs import Dispatcher
from acd.twilio_acd.models import TwilioAgent, TwilioEntry
from foundation.db import Database, utcnow
from foundation.settings import Settings
from foundation.users import create_user
from tests.browser.conftest import start_web, stop_web
from tests.conftest import TEST_PASSWORD, make_database
from tests.support.fake_twilio import fake_twilio_rest

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
AC, TOKEN, BASE = "AC" + "4" * 32, "browser-twilio-token", "https://311.civic.example"
FAKE_DEVICE = """
class FakeDevice {
  constructor(token) { this.token = token; this.handlers = {}; FakeDevice.last = this; }
  on(name, fn) { this.handlers[name] = fn; }
  emit(name, arg) { this.handlers[name](arg); }
  async register() { this.emit("registered"); }
}
class FakeCall {
  constructor() {
    this.parameters = {From: "+12125550999"}; this.handlers = {}; this.accepted = false;
  }
  on(name, fn) { this.handlers[name] = fn; }
  accept() { this.accepted = true; }
  disconnect() { this.handlers.disconnect(); }
}
"""


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    yield from make_database("postgres", tmp_path)


def connected_call(db: Database, uniqueid: str, device: str = "",
                   agent_leg: str | None = None) -> int:
    """Agent 100 (user agent1) talking on the queue call ``uniqueid``; its entry's id."""
    now = utcnow()
    with db.session() as s:
        create_user(s, "agent1", TEST_PASSWORD, "agent", agent_ext="100")
        s.add(TwilioAgent(agent="100", device=device, queues='{"citywide": [false, ""]}',
                          state="on_call", reason="", on_call=uniqueid))
        entry = TwilioEntry(uniqueid=uniqueid, queue="citywide", entered_at=now,
                            state="connected", agent="100", offered_at=now, answered_at=now,
                            offers=1, tried="", position=1, agent_leg=agent_leg)
        s.add(entry)
        s.flush()
        return entry.id


def twilio_env(tmp_path: Path, api: str) -> dict[str, str]:
    """The web process's environment for a Twilio center on the fake REST server ``api``."""
    return {"CIVIC311_DATA_DIR": str(tmp_path / "data"), "CIVIC311_TELEPHONY_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": AC, "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": BASE,
            "CIVIC311_TWILIO_API_BASE": api}


def twilio_settings(tmp_path: Path, api: str, **more: Any) -> Settings:
    """The worker's settings for the same center."""
    return Settings(twilio_account_sid=AC, twilio_auth_token=TOKEN, public_base_url=BASE,
                    twilio_api_base=api, telephony_backend="twilio", data_dir=tmp_path / "data",
                    **more)


def agent_page(chromium: Any, base: str, path: str) -> Any:
    """A page logged in as agent1, on ``path``."""
    page = chromium.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "agent1")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{base}{path}")
    return page


def test_the_desktop_answers_and_transfers_a_twilio_call(db: Database, tmp_path: Path,
                                                         chromium: Any) -> None:
    connected_call(db, "CA-browser")
    with fake_twilio_rest(AC, TOKEN) as (api, fake):
        env = {**twilio_env(tmp_path, api), "TWILIO_API_KEY_SID": "SK" + "5" * 32,
               "TWILIO_API_KEY_SECRET": "an-api-key-secret-long-enough-for-hs256"}
        proc, base = start_web(None, db, tmp_path / "web.log", env)
        try:
            page = agent_page(chromium, base, "/agent/console")
            page.wait_for_selector("#twilio-phone")
            # the real SDK, from /static/vendor/ (npm), is loaded and offers its Device
            assert page.evaluate("typeof Twilio.Device") == "function"
            page.add_script_tag(content=FAKE_DEVICE + "window.FakeDevice = FakeDevice;"
                                "window.FakeCall = FakeCall;")
            result = page.evaluate("""async () => {
              const states = [];
              const phone = new TwilioPhone({Device: FakeDevice, onState: s => states.push(s),
                csrf: document.querySelector('meta[name="csrf-token"]').content});
              await phone.start();
              const call = new FakeCall();
              FakeDevice.last.emit("incoming", call);
              phone.answer();
              const moved = await phone.transfer("+12125550177");
              return {states, accepted: call.accepted, token: FakeDevice.last.token.length,
                      moved};
            }""")
            assert result["states"] == ["ready", "offered", "on_call"]
            assert result["accepted"] is True and result["token"] > 100
            assert result["moved"]["transfer_to"] == "+12125550177"
            page.close()
        finally:
            stop_web(proc)
        Dispatcher(twilio_settings(tmp_path, api), db).send(utcnow())
        redirect = fake.handled("redirect")
        assert [r["path"].rsplit("/", 1)[-1] for r in redirect] == ["CA-browser.json"]
        assert redirect[0]["form"]["Url"].startswith(
            f"{BASE}/twilio/acd/transfer?number=%2B12125550177&from=")


def twilio_says(base: str, path: str, form: dict[str, str]) -> int:
    """A conference callback from Twilio to the running web server, signed for BASE."""
    import requests
    from twilio.request_validator import RequestValidator

    form = {"AccountSid": AC, **form}
    sig = RequestValidator(TOKEN).compute_signature(BASE + path, form)
    return requests.post(base + path, data=form, headers={"X-Twilio-Signature": sig},
                         timeout=10).status_code


def test_the_consoles_hold_and_consult_buttons_reach_twilio_as_participant_requests(
        db: Database, tmp_path: Path, chromium: Any) -> None:
    entry_id = connected_call(db, "CA-browser", agent_leg="CA-agent-leg")
    conf, events = "CF" + "6" * 32, f"/twilio/acd/conference/{entry_id}"
    with fake_twilio_rest(AC, TOKEN) as (api, fake):
        worker = Dispatcher(twilio_settings(tmp_path, api, twilio_from_number="+13115550311"),
                            db)
        proc, base = start_web(None, db, tmp_path / "web.log", twilio_env(tmp_path, api))
        try:
            page = agent_page(chromium, base, "/agent/console")

            def click(button: str, says: str) -> None:
                page.evaluate("document.getElementById('phone-result').textContent = ''")
                page.click(button)
                page.wait_for_function(f"document.getElementById('phone-result').textContent"
                                       f" === {says!r}", timeout=10_000)

            click("#phone-hold", "holding")  # the call moves into its room first
            worker.send(utcnow())
            assert [(r["path"].rsplit("/", 1)[-1], r["form"]["Url"]) for r in
                    fake.handled("redirect")] == [
                ("CA-agent-leg.json", f"{BASE}/twilio/acd/room/{entry_id}?side=agent")]
            for seq, sid in ((1, "CA-agent-leg"), (2, "CA-browser")):
                assert twilio_says(base, events, {
                    "ConferenceSid": conf, "FriendlyName": f"civic311-{entry_id}",
                    "StatusCallbackEvent": "participant-join", "CallSid": sid,
                    "SequenceNumber": str(seq)}) == 204
            worker.send(utcnow())
            click("#phone-resume", "resuming")
            page.fill("#phone-target", "+12125550177")
            click("#phone-consult", "pending")  # the desktop's attended-transfer command
            worker.run(utcnow())
            assert twilio_says(base, events, {
                "ConferenceSid": conf, "FriendlyName": f"civic311-{entry_id}",
                "StatusCallbackEvent": "participant-join", "CallSid": "CA-target",
                "SequenceNumber": "3"}) == 204
            click("#phone-complete", "handing over to ref-12125550177")
            worker.send(utcnow())
            page.close()
        finally:
            stop_web(proc)
    prefix = f"/2010-04-01/Accounts/{AC}/Conferences/{conf}/Participants"
    sent = [(r["kind"], r["path"].removeprefix(prefix), r["form"]) for r in fake.requests
            if r["kind"].startswith("participant")]
    hold_url = f"{BASE}/twilio/acd/held"
    assert sent == [
        ("participant", "/CA-browser.json",
         {"Hold": "true", "HoldUrl": hold_url, "HoldMethod": "POST"}),
        ("participant", "/CA-browser.json", {"Hold": "false"}),
        ("participant", "/CA-browser.json",
         {"Hold": "true", "HoldUrl": hold_url, "HoldMethod": "POST"}),
        ("participant", "/CA-agent-leg.json", {"EndConferenceOnExit": "false"}),
        ("participant-create", ".json", {
            "From": "+13115550311", "To": "+12125550177", "Timeout": "30",
            "EndConferenceOnExit": "false", "StartConferenceOnEnter": "true", "Beep": "false",
            "EarlyMedia": "true", "StatusCallback": f"{BASE}/twilio/acd/consult/{entry_id}",
            "StatusCallbackEvent": "completed", "StatusCallbackMethod": "POST"}),
        ("participant-delete", "/CA-agent-leg.json", {})]  # Complete: the agent leaves


def test_the_crm_desktops_hold_button_reaches_twilio_on_a_twilio_center(
        db: Database, tmp_path: Path, chromium: Any) -> None:
    """The CRM desktop's phone panel on Twilio: Hold and Resume (no SIP hold there: Twilio
    holds in a Conference, by REST), the first moving the call into its room, then the
    caller's participant held and resumed, as on the ACD console."""
    entry_id = connected_call(db, "CA-desk", device="+12125550100", agent_leg="CA-desk-leg")
    conf, events = "CF" + "5" * 32, f"/twilio/acd/conference/{entry_id}"
    with fake_twilio_rest(AC, TOKEN) as (api, fake):
        worker = Dispatcher(twilio_settings(tmp_path, api), db)
        proc, base = start_web(None, db, tmp_path / "web.log", twilio_env(tmp_path, api))
        try:
            page = agent_page(chromium, base, "/agent/desktop")
            panel = page.locator("#phone")
            assert panel.locator("[data-phone=hold]").count() == 0  # the SIP phone's hold

            def click(name: str, says: str) -> None:
                panel.locator("#twilio-hold").get_by_role("button", name=name).click()
                page.wait_for_selector(f"#twilio-hold [data-twilio=result]:text-is('{says}')",
                                       timeout=10_000)

            click("Hold", "holding")  # the call moves into its room first
            worker.send(utcnow())
            assert [(r["path"].rsplit("/", 1)[-1], r["form"]["Url"]) for r in
                    fake.handled("redirect")] == [
                ("CA-desk-leg.json", f"{BASE}/twilio/acd/room/{entry_id}?side=agent")]
            for seq, sid in ((1, "CA-desk-leg"), (2, "CA-desk")):
                assert twilio_says(base, events, {
                    "ConferenceSid": conf, "FriendlyName": f"civic311-{entry_id}",
                    "StatusCallbackEvent": "participant-join", "CallSid": sid,
                    "SequenceNumber": str(seq)}) == 204
            worker.send(utcnow())
            click("Resume", "resuming")
            worker.send(utcnow())
            page.close()
        finally:
            stop_web(proc)
    prefix = f"/2010-04-01/Accounts/{AC}/Conferences/{conf}/Participants"
    sent = [(r["path"].removeprefix(prefix), r["form"].get("Hold")) for r in fake.requests
            if r["kind"] == "participant"]
    assert sent == [("/CA-desk.json", "true"), ("/CA-desk.json", "false")]
