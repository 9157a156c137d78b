"""Real Asterisk + SIPp: an answered queue call is recorded by MixMonitor, catalogued under the
data directory by uniqueid with its duration, size and checksum, and linked to the call record."""

from __future__ import annotations

import asyncio
import hashlib
import wave
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from acd.models import CallRecord
from foundation.db import Database, utcnow
from foundation.users import create_user
from recordings import ami, asterisk_sync, policy_queries
from recordings.catalog import Paths, catalog
from recordings.models import Recording
from recordings.policy import RecordingPolicy, bucket, should_record
from tests.conftest import TEST_PASSWORD, csrf_token, login
from tests.support.pbx import DaemonProc, Pbx, wait_until
from tests.support.recording_files import pbx_app
from tests.support.talking_phones import talking_caller

pytestmark = pytest.mark.asterisk


def push_policies(pbx: Pbx, db: Database, policies: list[RecordingPolicy]) -> None:
    """What the policy page does: save in the database, then push into Asterisk's AstDB."""
    with db.session() as s:
        for p in policies:
            policy_queries.save(s, p, "admin1")
        saved = list(policy_queries.load(s, pbx.settings.queue_names()).values())
    asyncio.run(ami.with_bridge(pbx.settings, lambda b: asterisk_sync.push(b, saved)))


def finished(db: Database) -> list[CallRecord]:
    with db.session() as s:
        return list(s.scalars(select(CallRecord).where(CallRecord.outcome == "answered",
                                                       CallRecord.ended_at.is_not(None))))


def test_answered_call_is_recorded_and_catalogued(clean_pbx: Pbx, daemon: DaemonProc,
                                                  database: Database, tmp_path: Path) -> None:
    names = clean_pbx.settings.queue_names()
    messages = clean_pbx.install.log_dir / "messages.log"
    log_start = messages.stat().st_size if messages.exists() else 0
    # with the announcement beep (MixMonitor B(15)) on the queue
    push_policies(clean_pbx, database, [RecordingPolicy(q, beep=q == "citywide") for q in names])
    clean_pbx.add_agent("100", ["citywide"], ring_ms=300, talk_ms=4000)
    result = talking_caller(clean_pbx.sip_target, hold_ms=30000).wait(60)
    assert (result.successful, result.failed) == (1, 0)
    (call,) = wait_until(lambda: finished(database), 15, what="the answered call's record")
    assert call.talk_s and call.talk_s >= 3

    paths = Paths(tmp_path / "data", clean_pbx.install.spool_dir)
    with database.session() as s:
        counts = catalog(s, paths, names, utcnow() + timedelta(seconds=10))
    assert counts == {"ok": 1}
    with database.session() as s:
        rec = s.scalars(select(Recording)).one()
    assert rec.uniqueid == call.uniqueid and rec.call_id == call.id
    assert rec.status == "ok", rec.detail
    assert rec.path == f"recordings/{call.answered_at:%Y/%m/%d}/{call.uniqueid}.wav"
    file = paths.absolute(rec.path)
    assert not (paths.incoming / f"{call.uniqueid}.wav").exists()  # moved, not copied
    assert rec.size_bytes == file.stat().st_size
    assert rec.sha256 == hashlib.sha256(file.read_bytes()).hexdigest()
    with wave.open(str(file)) as w:  # playable: a WAV Asterisk and browsers read
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        frames = w.readframes(w.getnframes())
    assert abs(rec.duration_s - call.talk_s) <= 1.0, (rec.duration_s, call.talk_s)
    assert max(frames) > 0  # the caller's tone is in it, not only silence
    log = messages.read_text(errors="replace")[log_start:].lower()
    assert "chanspy" not in log and "mixmonitor" not in log  # the beep (a ChanSpy) works


def test_sample_and_none_policies_are_applied_by_asterisk(clean_pbx: Pbx, daemon: DaemonProc,
                                                          database: Database,
                                                          tmp_path: Path) -> None:
    """Asterisk records exactly the calls recordings.policy.should_record picks: the sampling
    rule in the dialplan and in Python agree, and "none" records nothing."""
    names = clean_pbx.settings.queue_names()
    policies = {q: RecordingPolicy(q) for q in names}
    policies["citywide"] = RecordingPolicy("citywide", mode="sample", sample_pct=50)
    policies["sanitation"] = RecordingPolicy("sanitation", mode="none")
    push_policies(clean_pbx, database, list(policies.values()))
    for ext in ("100", "101", "102", "103"):
        clean_pbx.add_agent(ext, ["citywide"], ring_ms=200, talk_ms=2500)
    clean_pbx.add_agent("104", ["sanitation"], ring_ms=200, talk_ms=2500)
    phones = [talking_caller(clean_pbx.sip_target, hold_ms=30000, number="queue-citywide",
                             caller=f"+121255502{i:02d}") for i in range(4)]
    phones.append(talking_caller(clean_pbx.sip_target, hold_ms=30000,
                                 number="queue-sanitation", caller="+12125550299"))
    for phone in phones:
        assert phone.wait(60).failed == 0
    calls = wait_until(lambda: len(finished(database)) == 5 and finished(database), 15,
                       what="five answered call records")

    with database.session() as s:
        catalog(s, Paths(tmp_path / "data", clean_pbx.install.spool_dir), names,
                utcnow() + timedelta(seconds=10))
        got = {r.uniqueid: r.status for r in s.scalars(select(Recording))}
    for call in calls:
        if call.queue == "sanitation":
            assert got[call.uniqueid] == "skipped"
        else:
            want = "ok" if should_record(policies["citywide"], call.uniqueid) else "skipped"
            assert got[call.uniqueid] == want, (call.uniqueid, bucket(call.uniqueid))


def test_policy_page_saves_and_applies_in_asterisk(clean_pbx: Pbx, sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        create_user(s, "admin9", TEST_PASSWORD, "admin")
        create_user(s, "supervisor8", TEST_PASSWORD, "supervisor")
    app = pbx_app(clean_pbx, sqlite_db)
    admin = app.test_client()
    login(admin, "admin9")
    token = csrf_token(admin, "/recordings/policies")

    def astdb(key: str) -> str:
        out = clean_pbx.rx(f"database get civic311 {key}")
        return out.split("Value:", 1)[1].strip() if "Value:" in out else ""

    resp = admin.post("/recordings/policies", follow_redirects=True, data={
        "queue": "sanitation", "mode": "sample", "sample_pct": "25", "retention_days": "90",
        "beep": "on", "csrf_token": token})
    assert "sanitation: saved and applied in Asterisk" in resp.get_data(as_text=True)
    assert (astdb("recording/sanitation"), astdb("recbeep/sanitation")) == ("25", "1")
    assert astdb("recording/citywide") == "100"  # every queue is pushed, defaults included
    admin.post("/recordings/policies", data={"queue": "sanitation", "mode": "none",
                                             "retention_days": "90", "csrf_token": token})
    assert astdb("recording/sanitation") == "0"

    for bad in ({"queue": "sanitation", "mode": "sample", "sample_pct": "150"},
                {"queue": "sanitation", "mode": "often"},
                {"queue": "nosuchqueue", "mode": "all"},
                {"queue": "sanitation", "mode": "all", "retention_days": "-3"}):
        page = admin.post("/recordings/policies", data={**bad, "csrf_token": token},
                          follow_redirects=True).get_data(as_text=True)
        assert 'class="flash error"' in page, bad
    with sqlite_db.session() as s:
        saved = policy_queries.load(s, clean_pbx.settings.queue_names())["sanitation"]
    assert (saved.mode, saved.retention_days) == ("none", 90)  # bad input changed nothing
    assert astdb("recording/sanitation") == "0"

    sup = app.test_client()
    login(sup, "supervisor8")
    assert sup.get("/recordings/policies").status_code == 403
    clean_pbx.rx("database deltree civic311")  # the session's PBX records by default again
