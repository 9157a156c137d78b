"""Every voicemail play is audited like a recording play (who, when, which message, from
where, which bytes), before a byte is sent, and shown on the voicemail page and its access
log; a refused request (wrong role, no such message) writes nothing."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from foundation.db import Database, utcnow
from ivr import voicemail
from ivr.models import IvrCall, VoicemailAccess
from telephony.install import locate
from tests.conftest import login
from tests.integration.ivr.test_notices_web import tone_wav


def _log(db: Database) -> list[tuple[int, str, str, str, str]]:
    with db.session() as s:
        return [(a.ivr_call_id, a.username, a.role, a.action, a.byte_range)
                for a in s.scalars(select(VoicemailAccess).order_by(VoicemailAccess.id))]


def test_voicemail_plays_are_audited(app: Flask, users: dict[str, str],
                                     database: Database) -> None:
    settings = app.extensions["civic311.settings"]
    settings.asterisk_binary = "external"  # the spool under this test's data directory
    folder = voicemail.folder(locate(settings))
    folder.mkdir(parents=True, exist_ok=True)
    audio = tone_wav(folder / "1796000001.3.wav", 2.0, 8000, 1)
    with database.session() as s:
        now = utcnow()
        here = IvrCall(uniqueid="1796000001.3", caller_number="+12125550404", started_at=now,
                       outcome="voicemail", voicemail="1796000001.3.wav", voicemail_s=2.0)
        there = IvrCall(uniqueid="CA-vm2", source="twilio", caller_number="+12125550405",
                        started_at=now - timedelta(minutes=1), outcome="voicemail",
                        voicemail="https://api.twilio.com/2010-04-01/Recordings/RE2",
                        voicemail_s=7.0)
        s.add_all([here, there])
        s.flush()
        ids = (here.id, there.id)

    agent = app.test_client()
    login(agent, users["agent"])
    assert agent.get("/ivr/voicemail/1796000001.3.wav").status_code == 403
    assert agent.get(f"/ivr/voicemail/{ids[1]}/open").status_code == 403
    assert agent.get("/ivr/voicemail/access").status_code == 403
    sup = app.test_client()
    login(sup, users["supervisor"])
    assert sup.get("/ivr/voicemail/nothing.wav").status_code == 404
    assert sup.get("/ivr/voicemail/999999/open").status_code == 404
    assert _log(database) == []  # refused requests leave no trace of a play

    page = sup.get("/ivr/voicemail").get_data(as_text=True)
    assert page.count("not heard yet") == 2
    got = sup.get("/ivr/voicemail/1796000001.3.wav", headers={"Range": "bytes=0-99"})
    assert got.status_code == 206 and got.data == audio[:100]
    assert got.headers["Cache-Control"] == "private, no-store"
    assert sup.get("/ivr/voicemail/1796000001.3.wav").data == audio
    sent = sup.get(f"/ivr/voicemail/{ids[1]}/open")
    assert sent.status_code == 302
    assert sent.headers["Location"] == "https://api.twilio.com/2010-04-01/Recordings/RE2"
    assert _log(database) == [(ids[0], "supervisor1", "supervisor", "play", "bytes=0-99"),
                              (ids[0], "supervisor1", "supervisor", "play", ""),
                              (ids[1], "supervisor1", "supervisor", "open", "")]
    page = sup.get("/ivr/voicemail").get_data(as_text=True)
    assert "not heard yet" not in page and page.count("supervisor1 (supervisor)") == 3
    log_page = sup.get("/ivr/voicemail/access").get_data(as_text=True)
    assert log_page.count("<td>supervisor1</td>") == 3 and "bytes=0-99" in log_page
    assert f"#{ids[1]}" in log_page and "open" in log_page
