"""The carrier trunk on the real Asterisk against a SIPp carrier (tests/support/carrier.py):
the trunk registers (401 digest challenge, then 200), a call to a DID reaches its line with
the caller's number in E.164 after the emergency line and the recording notice, an agent's
call out from the desktop reaches the carrier with the city's caller ID, is answered there,
is recorded in ``outbound_calls`` (not in the inbound call records) and its recording
catalogued, and a refused number is refused by
civic311 and by the dialplan alike."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from acd.calls import CallRecord
from acd.outbound import originate
from acd.outbound.models import OutboundCall
from center.web import create_app
from foundation.db import Database, utcnow
from recordings.catalog import GRACE_S, SETTLE_S, Paths, catalog
from recordings.models import Recording
from telephony import sipp
from tests.conftest import login
from tests.support import carrier
from tests.support.pbx import DaemonProc, Pbx, wait_until

pytestmark = pytest.mark.asterisk


REGISTERED = re.compile(r"carrier-reg\S*\s+carrier-auth\s+Registered")


@pytest.fixture
def gateway(clean_pbx: Pbx) -> Iterator[sipp.SippProcess]:
    """The SIPp carrier, with the trunk registered to it. The session's Asterisk started with
    no carrier listening, so the first test here sees the whole registration (REGISTER, 401,
    REGISTER with digest credentials, 200); a later one finds it still registered."""
    uas = carrier.carrier()
    try:
        if not REGISTERED.search(clean_pbx.rx("pjsip show registrations")):
            clean_pbx.rx("pjsip send register carrier-reg")
            wait_until(lambda: "registered" in uas.events() or "registration refused"
                       in uas.events() or not uas.running(), 20,
                       what="the trunk to register with the carrier")
            assert uas.events()[:1] == ["registered"], uas.log.read_text()[-2000:]
            wait_until(lambda: REGISTERED.search(clean_pbx.rx("pjsip show registrations")),
                       10, what="Asterisk to call the trunk registered")
        yield uas
    finally:
        uas.stop()


def test_a_carrier_that_does_not_take_the_credentials_leaves_the_trunk_unregistered(
        clean_pbx: Pbx) -> None:
    """The SIPp carrier really checks the digest answer: expecting another password, it
    refuses the trunk's, and Asterisk does not call the trunk registered."""
    uas = carrier.carrier(password="not-the-trunk-password")
    try:
        clean_pbx.rx("pjsip send register carrier-reg")
        wait_until(lambda: "registration refused" in uas.events() or not uas.running(), 20,
                   what="the carrier to refuse the trunk's credentials")
        assert "registered" not in uas.events(), uas.log.read_text()[-2000:]
        wait_until(lambda: re.search(r"carrier-reg\S*\s+carrier-auth\s+Rejected",
                                     clean_pbx.rx("pjsip show registrations")), 10,
                   what="Asterisk to call the registration rejected")
    finally:
        uas.stop()


def invites(uas: sipp.SippProcess) -> list[str]:
    return [e for e in uas.events() if e.startswith("invite ")]


def test_a_did_reaches_its_line_with_the_caller_in_e164_after_the_announcements(
        clean_pbx: Pbx, daemon: DaemonProc, database: Database,
        gateway: sipp.SippProcess) -> None:
    clean_pbx.rx("dialplan set global EMERGENCY_FIRST 1")
    clean_pbx.rx("dialplan set global RECNOTICE_sanitation 1")
    try:
        agent = clean_pbx.add_agent("100", ["sanitation"], ring_ms=200, talk_ms=1500)
        # the carrier delivers 1-410-555-0313 (sanitation's direct line) from a caller whose
        # number it writes with 10 digits
        call = carrier.carrier_call(clean_pbx.sip_target, did="14105550313",
                                    caller="4105550142")
        result = call.wait(60)
        assert (result.successful, result.failed) == (1, 0), call.log.read_text()[-2000:]
        assert agent.events().count("rung") == 1

        def record() -> CallRecord | None:
            with database.session() as s:
                row = s.scalars(select(CallRecord)).first()
                return row if row is not None and row.outcome else None

        row = wait_until(record, 15, what="the call record")
        assert (row.queue, row.caller_number, row.outcome, row.agent) == (
            "sanitation", "+14105550142", "answered", "100")
        log = daemon.log.read_text()
        said = re.findall(r"announcing (\w+) on", log)
        assert said == ["emergency", "recorded"], log[-3000:]
    finally:
        clean_pbx.rx("dialplan set global EMERGENCY_FIRST 0")
        clean_pbx.rx("dialplan set global RECNOTICE_sanitation 0")


def outbound_rows(database: Database) -> list[OutboundCall]:
    with database.session() as s:
        return list(s.scalars(select(OutboundCall).order_by(OutboundCall.id)))


def test_an_agent_calls_out_with_the_city_caller_id_and_refused_numbers_stay_refused(
        clean_pbx: Pbx, daemon: DaemonProc, database: Database, users: dict[str, str],
        gateway: sipp.SippProcess) -> None:
    settings = clean_pbx.settings.model_copy(update={"database_url": database.url})
    app = create_app(settings, database)
    app.config.update(TESTING=True)
    client = app.test_client()
    login(client, users["agent"])  # agent1, extension 100
    page = client.get("/agent/outbound").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    # the agent talks (RTP from the g711a capture): a recording with audio in it
    phone = clean_pbx.add_agent("100", [], ring_ms=200, talk_ms=4000, speech=sipp.SPEECH_PCAP)

    def post(number: str) -> Any:
        return client.post("/agent/outbound", headers={"Accept": "application/json"},
                           data={"number": number, "purpose": "resident",
                                 "queue": "citywide", "csrf_token": token})

    resp = post("(410) 555-0199")
    assert resp.status_code == 202, resp.get_data(as_text=True)
    wait_until(lambda: invites(gateway), 15, what="the call to reach the carrier")
    invite = invites(gateway)[0]
    assert invite.startswith("invite +14105550199 "), invite
    assert carrier.CITY_CALLER_ID in invite.split(" pai ")[1], invite  # P-Asserted-Identity

    def ended() -> OutboundCall | None:
        rows = outbound_rows(database)
        return rows[0] if rows and rows[0].outcome else None

    call = wait_until(ended, 20, what="the outbound record to be completed")
    assert (call.agent, call.number, call.to_carrier, call.kind, call.purpose,
            call.outcome, call.queue) == ("100", "4105550199", "+14105550199", "local",
                                          "resident", "answered", "citywide")
    assert call.talk_s is not None and call.talk_s > 0
    # recorded under the line's recording policy (none pushed: record), as queue calls are
    assert "answered" in gateway.events(), gateway.events()  # the carrier took the call
    recording = clean_pbx.install.spool_dir / "monitor" / "civic311" / f"{call.uniqueid}.wav"
    wait_until(recording.exists, 10, what=f"the recording {recording}")
    # and catalogued by the worker's next run, as a queue call's is (recordings/catalog.py)
    paths = Paths(settings.data_dir, clean_pbx.install.spool_dir)
    later = utcnow() + timedelta(seconds=GRACE_S + SETTLE_S + 1)
    with database.session() as s:
        assert catalog(s, paths, settings.queue_names(), later) == {"ok": 1}
        rec = s.scalars(select(Recording)).one()
        assert (rec.uniqueid, rec.queue, rec.agent, rec.call_id) == (
            call.uniqueid, "citywide", "100", None)
        assert rec.path is not None and (settings.data_dir / rec.path).exists()
    assert not recording.exists()
    report = client.get("/calls/outbound?format=json")
    assert report.status_code == 403  # an agent does not read the report
    with database.session() as s:  # the inbound call records know nothing of it
        assert s.scalar(select(func.count()).select_from(CallRecord)) == 0

    # refused by civic311: nothing dialled, nothing written
    for number in ("011 44 20 7946 0000", "1-900-555-0123"):
        resp = post(number)
        assert resp.status_code == 400, resp.get_data(as_text=True)
        assert resp.get_json()["error"] == "number_refused"
    assert len(outbound_rows(database)) == 1
    assert phone.events().count("rung") == 1

    # refused by the dialplan too: the same Originate with civic311's check left out
    for dial in ("011442079460000", "9005550123"):
        rung = phone.events().count("rung")
        placed = originate.run(settings, agent="100", dial=dial, call_id=0, queue="citywide")
        assert placed.answered, placed.reason
        assert phone.events().count("rung") == rung + 1
        wait_until(lambda: clean_pbx.active_channels() == 0, 30,
                   what="the refused call to end")
    assert len(invites(gateway)) == 1, gateway.events()
    assert len(outbound_rows(database)) == 1

    # the supervisor's list and report show the one call
    sup = app.test_client()
    login(sup, users["supervisor"])
    body = sup.get("/calls/outbound?format=json").get_json()
    assert body["summary"]["calls"] == 1 and body["summary"]["answered"] == 1
    assert body["summary"]["by_kind"] == {"local": 1}
    assert "4105550199" in sup.get("/calls/outbound").get_data(as_text=True)
