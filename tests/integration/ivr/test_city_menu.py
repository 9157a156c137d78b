"""The city menu on the real Asterisk: SIPp callers press RFC 4733 keys through every branch.

A ticket is opened through the CRM service; the caller types its number and hears it read
back (the IVR's call row shows the lookup and the ticket); a FAQ is answered; a report is
routed to the agency queue and answered by that agency's agent; wrong keys end at the general
line's agent; an emergency notice posted between two calls is heard by the next caller; the
same menu file edited to a holiday sends callers to the after-hours callback offer or
voicemail (its own test, so the two halves run side by side on two workers).
"""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from acd.models import CallRecord
from crm_bridge.seed import seed_catalog
from crm_bridge.tickets import service
from crm_bridge.tickets.draft import TicketDraft
from foundation.db import Database, utcnow
from ivr import voicemail
from ivr.callback.models import CallbackRequest
from ivr.hours import is_open
from ivr.menu import DEFAULT_MENU, parse_menu
from ivr.models import IvrCall
from telephony import sipp
from telephony.install import locate
from tests.conftest import csrf_token, login
from tests.integration.ivr.test_notices_web import tone_wav
from tests.support.dtmf import unique_dtmf_block
from tests.support.pbx import DaemonProc, Pbx, wait_until

pytestmark = pytest.mark.asterisk
CITY = "311"


@pytest.fixture(autouse=True)
def distinct_key_presses(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sipp, "dtmf_block", unique_dtmf_block(tmp_path / "dtmf"))


def ivr_rows(db: Database, n: int) -> dict[str, IvrCall]:
    """Caller number -> finished IVR row, once ``n`` rows are finished."""
    def done() -> dict[str, IvrCall] | None:
        with db.session() as s:
            rows = list(s.scalars(select(IvrCall).where(IvrCall.outcome.is_not(None))))
            s.expunge_all()
        return {r.caller_number or "": r for r in rows} if len(rows) >= n else None

    return wait_until(done, 60, interval=0.5, what=f"{n} finished IVR calls")


@contextmanager
def city_menu(pbx: Pbx, closed_today: bool) -> Iterator[None]:
    """The default menu saved as the data directory's menu file, open all day or closed for a
    holiday today (the IVR re-reads the file on the next call)."""
    custom = Path(pbx.settings.data_dir) / "ivr" / "menu.yaml"
    menu = yaml.safe_load(DEFAULT_MENU.read_text())
    if closed_today:
        menu["hours"]["holidays"] = [datetime.now(ZoneInfo(menu["timezone"])).date()]
    else:
        menu["hours"]["always_open"] = True
    custom.parent.mkdir(parents=True, exist_ok=True)
    custom.write_text(yaml.safe_dump(menu, allow_unicode=True))
    try:
        yield
    finally:
        custom.unlink()


# SIPp time is the scarce resource: these run on SQLite; PostgreSQL is covered by the same
# handler code in test_twilio.py and test_notices_web.py
def test_every_branch_of_the_city_menu(clean_pbx: Pbx, daemon: DaemonProc,
                                       database: Database) -> None:
    with city_menu(clean_pbx, closed_today=False):
        walk_every_branch(clean_pbx, database)
    # the position and wait came from Asterisk's live queue state (agent 100 was ready)
    assert "queue transportation joined: ahead=0 ready=1 staffed=1" in daemon.log.read_text()


def walk_every_branch(clean_pbx: Pbx, database: Database) -> None:
    with database.session() as s:
        seed_catalog(s, None)
        ticket = service.open_ticket(
            s, TicketDraft(
                "pothole", description="deep hole", attributes={"size": "large"},
                address="1 Main St", first_name="Ann", phone="+12125550000"
            )).number
    clean_pbx.add_agent("100", ["transportation"], ring_ms=300, talk_ms=1500)
    clean_pbx.add_agent("101", ["citywide"], ring_ms=300, talk_ms=1500)
    calls = {
        "+12125550201": (f"1,,1,,{ticket}#", 26000),  # English, status, ticket number
        "+12125550202": ("1,,2,,2", 16000),            # English, FAQs, parking
        "+12125550203": ("2,,3,,2", 30000),            # Spanish, report: streets -> DOT queue
        "+12125550204": ("1,,9,,9,,9", 30000),         # three wrong keys -> general agent
    }
    sipps = [clean_pbx.call(number=CITY, digits=digits, hold_ms=hold, first_digit_ms=2500,
                            caller_numbers=[caller])
             for caller, (digits, hold) in calls.items()]
    for p in sipps:
        result = p.wait(90)
        assert result.failed == 0, p.workdir

    rows = ivr_rows(database, 4)
    status = rows["+12125550201"]
    assert status.ticket_number == ticket and status.lookups == 1
    assert status.option == "status" and status.outcome == "contained"
    assert status.ivr_path.startswith("menu:start>lang:en>status>lookup:found")

    faq = rows["+12125550202"]
    assert (faq.option, faq.outcome) == ("faq", "contained")
    assert faq.ivr_path.startswith("menu:start>lang:en>faq>faq:2")

    report = rows["+12125550203"]
    assert (report.language, report.option, report.outcome, report.queue) == (
        "es", "report", "agent", "transportation")

    invalid = rows["+12125550204"]
    assert invalid.ivr_path == "menu:start>lang:en>main:invalid>main:invalid>main:invalid"
    assert (invalid.outcome, invalid.queue) == ("agent", "citywide")

    def queued() -> dict[str, CallRecord] | None:
        with database.session() as s:
            got = {r.caller_number or "": r for r in s.scalars(
                select(CallRecord).where(CallRecord.outcome.is_not(None)))}
            s.expunge_all()
        return got if len(got) == 2 else None

    records = wait_until(queued, 30, what="two queued call records")
    dot = records["+12125550203"]
    assert (dot.queue, dot.outcome, dot.agent) == ("transportation", "answered", "100")
    assert dot.ivr_path == report.ivr_path and dot.uniqueid == report.uniqueid
    general = records["+12125550204"]
    assert (general.queue, general.outcome, general.agent) == ("citywide", "answered", "101")
    assert general.ivr_path == invalid.ivr_path


def test_a_notice_posted_mid_test_is_heard_by_the_next_caller(
        clean_pbx: Pbx, daemon: DaemonProc, database: Database, app: Flask,
        users: dict[str, str], tmp_path: Path) -> None:
    supervisor = app.test_client()
    login(supervisor, users["supervisor"])
    with city_menu(clean_pbx, closed_today=False):
        notice_for_the_next_caller(clean_pbx, database, supervisor, tmp_path)


def test_after_hours_a_callback_or_a_voicemail(clean_pbx: Pbx, daemon: DaemonProc,
                                               database: Database, app: Flask,
                                               users: dict[str, str]) -> None:
    supervisor = app.test_client()
    login(supervisor, users["supervisor"])
    with city_menu(clean_pbx, closed_today=True):
        night = clean_pbx.call(number=CITY, digits="1,,1", hold_ms=40000, first_digit_ms=2500,
                               caller_numbers=["+12125550303"])
        message = clean_pbx.call(number=CITY, digits="1,,2", hold_ms=30000,
                                 first_digit_ms=2500, caller_numbers=["+12125550304"])
        assert night.wait(60).failed == 0
        assert message.wait(60).failed == 0
    rows = ivr_rows(database, 2)
    left = rows["+12125550304"]
    assert (left.option, left.outcome) == ("after_hours", "voicemail") and left.voicemail
    assert (voicemail.folder(locate(clean_pbx.settings)) / left.voicemail).is_file()
    page = supervisor.get("/ivr/voicemail").get_data(as_text=True)
    assert "+12125550304" in page
    callback = rows["+12125550303"]
    assert (callback.option, callback.outcome) == ("after_hours", "callback")
    assert callback.ivr_path == "menu:start>lang:en>callback"
    with database.session() as s:  # a real request, due when agents are next in
        request = s.scalar(select(CallbackRequest))
        assert request is not None
        assert (request.number, request.queue, request.state, request.language) == (
            "+12125550303", "citywide", "requested", "en")
        raw = yaml.safe_load(DEFAULT_MENU.read_text())  # as city_menu(closed_today=True)
        raw["hours"]["holidays"] = [datetime.now(ZoneInfo(raw["timezone"])).date()]
        menu = parse_menu(raw)
        assert request.due_at > utcnow() and is_open(menu, request.due_at)
        assert not is_open(menu, request.due_at - timedelta(minutes=1))
    with database.session() as s:
        assert s.scalar(select(CallRecord)) is None  # nobody was queued


def notice_for_the_next_caller(clean_pbx: Pbx, database: Database, web: FlaskClient,
                               tmp: Path) -> None:
    with database.session() as s:
        seed_catalog(s, None)  # FAQ 1 is answered from the catalog's missed-collection FAQ
    first = clean_pbx.call(number=CITY, digits="1,,2,,1", hold_ms=12000, first_digit_ms=2500,
                           caller_numbers=["+12125550301"])
    assert first.wait(60).failed == 0
    expires = (datetime.now(UTC) + timedelta(hours=1)).astimezone(
        ZoneInfo(clean_pbx.settings.timezone)).strftime("%Y-%m-%dT%H:%M")
    recording = tone_wav(tmp / "notice.wav", 3.0)  # recorded: played instead of TTS
    page = web.post("/ivr/notices", data={
        "text": "A water main break closes Elm Street until Friday.", "expires_at": expires,
        "csrf_token": csrf_token(web, "/ivr/notices"),
        "recording": (io.BytesIO(recording), "notice.wav")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "Notice posted" in page.get_data(as_text=True)
    second = clean_pbx.call(number=CITY, digits="1,,2,,1", hold_ms=22000, first_digit_ms=9000,
                            caller_numbers=["+12125550302"])
    assert second.wait(60).failed == 0
    rows = ivr_rows(database, 2)
    assert rows["+12125550301"].notice_id is None
    assert "notice" not in rows["+12125550301"].ivr_path
    notice_id = rows["+12125550302"].notice_id
    assert notice_id is not None
    assert rows["+12125550302"].ivr_path.startswith("menu:start>notice>lang:en>faq>faq:1")
    # the FastAGI renderer wrote the recording where Asterisk plays it from, 8 kHz mono
    played = locate(clean_pbx.settings).sounds_dir / "ivr" / f"notice-{notice_id}.wav"
    with wave.open(str(played)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getnframes()) == (8000, 1, 24000)
