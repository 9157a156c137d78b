"""The supervisor's notice page and the containment figures (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import math
import struct
import wave
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import func, select

from foundation.db import Database, utcnow
from ivr import voicemail
from ivr.analytics import containment
from ivr.models import IvrCall, IvrNotice, active_notice
from telephony.install import locate
from tests.conftest import csrf_token, login


def local(settings_tz: str, delta: timedelta) -> str:
    return (utcnow() + delta).astimezone(ZoneInfo(settings_tz)).strftime("%Y-%m-%dT%H:%M")


def count(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count(IvrNotice.id))) or 0


def test_only_supervisors_post_notices_and_bad_input_changes_nothing(
        app: Flask, users: dict[str, str], database: Database) -> None:
    tz = app.extensions["civic311.settings"].timezone
    agent = app.test_client()
    login(agent, users["agent"])
    assert agent.get("/ivr/notices").status_code == 403
    assert agent.post("/ivr/notices", data={"text": "x"}).status_code in (400, 403)

    sup = app.test_client()
    login(sup, users["supervisor"])
    page = sup.get("/ivr/notices").get_data(as_text=True)
    assert "Emergency notice" in page and "No notices yet." in page
    token = csrf_token(sup, "/ivr/notices")
    in_2h = local(tz, timedelta(hours=2))
    assert sup.post("/ivr/notices", data={"text": "Storm", "expires_at": in_2h}
                    ).status_code == 400  # no CSRF token
    for form, message in [
        ({"text": "   ", "expires_at": in_2h}, "Type the message callers will hear."),
        ({"text": "Storm", "expires_at": local(tz, timedelta(hours=-1))},
         "The expiry must be in the future."),
        ({"text": "Storm", "expires_at": local(tz, timedelta(days=30))},
         "A notice may last at most 14 days."),
        ({"text": "x" * 401, "expires_at": in_2h}, "under 400 characters"),
        ({"text": "Storm", "expires_at": "tomorrow"}, "Give the expiry as a date and time."),
    ]:
        page = sup.post("/ivr/notices", data={**form, "csrf_token": token},
                        follow_redirects=True).get_data(as_text=True)
        assert message in page
    assert count(database) == 0

    page = sup.post("/ivr/notices", data={"text": "Water main break on Elm Street.",
                                          "expires_at": in_2h, "csrf_token": token},
                    follow_redirects=True).get_data(as_text=True)
    assert "Notice posted" in page and "<b>playing</b>" in page
    with database.session() as s:
        notice = active_notice(s, utcnow())
        assert notice is not None and notice.text == "Water main break on Elm Street."
        assert notice.created_by == users["supervisor"]
        assert active_notice(s, notice.expires_at + timedelta(seconds=1)) is None
        nid = notice.id
    sup.post(f"/ivr/notices/{nid}/withdraw", data={"csrf_token": token})
    with database.session() as s:
        assert active_notice(s, utcnow()) is None


def test_containment_per_menu_option(database: Database) -> None:
    t0 = datetime(2026, 3, 2, 15, 0, tzinfo=ZoneInfo("UTC"))
    rows = [("status", "contained"), ("status", "contained"), ("status", "agent"),
            ("faq", "contained"), ("report", "agent"), ("agent", "agent"),
            ("after_hours", "callback"), (None, "hangup"), ("status", None)]
    with database.session() as s:
        for i, (option, outcome) in enumerate(rows):
            s.add(IvrCall(uniqueid=f"u{i}", started_at=t0 + timedelta(minutes=i), option=option,
                          outcome=outcome, ivr_path="menu:", lookups=0))
        s.add(IvrCall(uniqueid="later", started_at=t0 + timedelta(days=1), option="faq",
                      outcome="contained", ivr_path="menu:", lookups=0))
    with database.session() as s:
        got = containment(s, t0, t0 + timedelta(hours=1))
    status = got["options"]["status"]
    assert (status["calls"], status["contained"], status["agent"]) == (3, 2, 1)
    assert status["containment"] == 0.6667
    assert got["options"]["faq"]["containment"] == 1.0
    assert got["options"]["report"]["containment"] == 0.0
    assert got["options"]["after_hours"]["callback"] == 1
    assert got["options"]["none"]["hangup"] == 1
    assert got["total"]["calls"] == 8 and got["total"]["containment"] == 0.5


def test_metrics_api_carries_ivr_containment(app: Flask, users: dict[str, str],
                                             database: Database) -> None:
    now = utcnow()
    with database.session() as s:
        s.add(IvrCall(uniqueid="m1", started_at=now - timedelta(minutes=5), option="status",
                      outcome="contained", ivr_path="menu:", lookups=1))
        s.add(IvrCall(uniqueid="m2", started_at=now - timedelta(minutes=4), option="report",
                      outcome="agent", ivr_path="menu:", lookups=0))
    sup = app.test_client()
    login(sup, users["supervisor"])
    t0 = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    t1 = (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    data = sup.get(f"/api/v1/metrics?from={t0}&to={t1}").get_json()
    assert data["ivr"]["options"]["status"]["contained"] == 1
    assert data["ivr"]["options"]["report"]["agent"] == 1
    assert data["ivr"]["total"]["containment"] == 0.5


def tone_wav(path: Path, seconds: float, rate: int = 44100, channels: int = 2) -> bytes:
    """A real WAV as a phone or laptop would record it (44.1 kHz stereo by default)."""
    frames = int(seconds * rate)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        one = [int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(frames)]
        w.writeframes(b"".join(struct.pack("<h", v) * channels for v in one))
    return path.read_bytes()


def test_a_recorded_notice_is_converted_stored_and_served(
        app: Flask, users: dict[str, str], database: Database, tmp_path: Path) -> None:
    tz = app.extensions["civic311.settings"].timezone
    sup = app.test_client()
    login(sup, users["supervisor"])
    token = csrf_token(sup, "/ivr/notices")
    in_2h = local(tz, timedelta(hours=2))
    form = {"text": "Cooling centers are open until 10 PM.", "expires_at": in_2h,
            "csrf_token": token}

    def post(data: bytes, name: str) -> str:
        return sup.post("/ivr/notices", data={**form, "recording": (io.BytesIO(data), name)},
                        content_type="multipart/form-data",
                        follow_redirects=True).get_data(as_text=True)

    # bad uploads: a clear error and nothing stored
    assert "not a wav recording we can read" in post(b"not audio at all", "notice.wav")
    assert "Upload the recording as wav" in post(b"MZ\x90\x00", "notice.exe")
    assert "under 120 seconds" in post(tone_wav(tmp_path / "long.wav", 121, 8000, 1),
                                       "long.wav")
    assert count(database) == 0

    page = post(tone_wav(tmp_path / "heat.wav", 2.5), "heat.wav")
    assert "Notice posted" in page and "recording, 2 s" in page
    with database.session() as s:
        notice = s.scalar(select(IvrNotice))
        assert notice is not None and notice.audio_s == 2.5
        stored, notice_id = notice.audio, notice.id
    with wave.open(io.BytesIO(stored)) as w:  # what Asterisk plays: 8 kHz mono 16-bit
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        assert w.getnframes() == 20000

    got = sup.get(f"/ivr/notices/{notice_id}.wav")
    assert (got.status_code, got.mimetype, got.data) == (200, "audio/wav", stored)
    part = sup.get(f"/ivr/notices/{notice_id}.wav", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.data == stored[:100]
    agent = app.test_client()
    login(agent, users["agent"])
    assert agent.get(f"/ivr/notices/{notice_id}.wav").status_code == 403
    assert app.test_client().get(f"/ivr/notices/{notice_id}.wav").status_code in (302, 401)
    assert sup.get(f"/ivr/notices/{notice_id + 1}.wav").status_code == 404


def test_supervisors_hear_after_hours_voicemail(app: Flask, users: dict[str, str],
                                                database: Database, tmp_path: Path) -> None:
    folder = voicemail.folder(locate(app.extensions["civic311.settings"]))
    folder.mkdir(parents=True, exist_ok=True)
    audio = tone_wav(folder / "1796000000.7.wav", 4.0, 8000, 1)
    with database.session() as s:
        now = utcnow()
        s.add(IvrCall(uniqueid="1796000000.7", caller_number="+12125550404", started_at=now,
                      outcome="voicemail", voicemail="1796000000.7.wav", voicemail_s=4.0,
                      language="es"))
        s.add(IvrCall(uniqueid="CA-vm", source="twilio", caller_number="+12125550405",
                      started_at=now - timedelta(minutes=1), outcome="voicemail",
                      voicemail="https://api.twilio.com/2010-04-01/Recordings/RE1",
                      voicemail_s=7.0))
        s.add(IvrCall(uniqueid="1796000000.8", caller_number="+12125550406", started_at=now,
                      outcome="contained"))
    sup = app.test_client()
    login(sup, users["supervisor"])
    page = sup.get("/ivr/voicemail").get_data(as_text=True)
    assert "+12125550404" in page and "+12125550405" in page and "+12125550406" not in page
    assert page.index("+12125550404") < page.index("+12125550405")  # newest first
    assert "/ivr/voicemail/1796000000.7.wav" in page
    assert "Recordings/RE1" not in page and "/open" in page  # via the audited link
    got = sup.get("/ivr/voicemail/1796000000.7.wav")
    assert (got.status_code, got.mimetype, got.data) == (200, "audio/wav", audio)
    assert sup.get("/ivr/voicemail/1796000000.7.wav",
                   headers={"Range": "bytes=0-9"}).status_code == 206
    for bad in ("..%2F..%2Fsecrets.toml", "nothing.wav", ".hidden.wav", "x.txt"):
        assert sup.get(f"/ivr/voicemail/{bad}").status_code == 404, bad
    agent = app.test_client()
    login(agent, users["agent"])
    assert agent.get("/ivr/voicemail").status_code == 403
    assert agent.get("/ivr/voicemail/1796000000.7.wav").status_code == 403
