"""Who may list, play and download recordings (real log-in, CSRF, SQLite and PostgreSQL), and
the audit log: every play and download request is written before a byte is sent."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from foundation.db import Database, utcnow
from recordings.models import Recording, RecordingAccess
from tests.conftest import csrf_token, login
from tests.support.recording_files import make_recording


@pytest.fixture
def rid(app: Flask, database: Database) -> int:
    settings = app.extensions["civic311.settings"]
    return make_recording(database, settings.data_dir, "1700000000.42",
                          utcnow() - timedelta(hours=2), seconds=3.0, ticket="3110000042")


def audit_rows(db: Database) -> list[RecordingAccess]:
    with db.session() as s:
        return list(s.scalars(select(RecordingAccess).order_by(RecordingAccess.id)))


def urls(rid: int) -> list[str]:
    return ["/recordings", "/api/v1/recordings", "/recordings/problems",
            "/api/v1/recordings/problems", f"/recordings/{rid}", f"/recordings/{rid}/audio",
            f"/recordings/{rid}/download", "/qa/", "/qa/scores", f"/qa/evaluate/{rid}"]


def test_no_recording_without_log_in_or_for_other_roles(app: Flask, users: dict[str, str],
                                                          rid: int, database: Database) -> None:
    client = app.test_client()
    for url in urls(rid):
        resp = client.get(url, headers={"Range": "bytes=0-99"})
        assert resp.status_code in (302, 401), url
        assert b"RIFF" not in resp.data and b"1700000000.42" not in resp.data, url
        if resp.status_code == 302:
            assert "/login" in resp.headers["Location"]
    assert client.get("/api/v1/recordings").status_code == 401
    assert audit_rows(database) == []

    for role in ("agent", "agency", "manager"):
        client = app.test_client()
        assert login(client, users[role]).status_code == 302
        for url in urls(rid):
            resp = client.get(url, headers={"Range": "bytes=0-99"})
            assert resp.status_code == 403, (role, url)
            assert b"RIFF" not in resp.data, url
        token = csrf_token(client, "/login")
        assert client.post(f"/recordings/{rid}/hold", data={
            "action": "hold", "reason": "lawsuit", "csrf_token": token}).status_code == 403
    assert audit_rows(database) == []


def test_supervisor_plays_with_ranges_and_every_play_is_audited(
        app: Flask, users: dict[str, str], rid: int, database: Database) -> None:
    client = app.test_client()
    login(client, users["supervisor"])
    page = client.get("/recordings").get_data(as_text=True)
    assert "1700000000.42" in page and "3110000042" in page
    listed = client.get("/api/v1/recordings").get_json()["recordings"]
    assert [r["uniqueid"] for r in listed] == ["1700000000.42"]
    with database.session() as s:
        day = s.get(Recording, rid).started_at.astimezone(  # type: ignore[union-attr]
            ZoneInfo(app.extensions["civic311.settings"].timezone)).date()
    for query, n in ((f"from={day}&to={day}", 1), (f"to={day - timedelta(days=1)}", 0),
                     ("queue=sanitation", 0), ("agent=100&ticket=3110000042", 1)):
        assert len(client.get(f"/api/v1/recordings?{query}").get_json()["recordings"]) == n
    detail = client.get(f"/recordings/{rid}").get_data(as_text=True)
    assert f'src="/recordings/{rid}/audio"' in detail and "<audio" in detail

    with database.session() as s:
        rec = s.get(Recording, rid)
        assert rec is not None and rec.path
        whole = (app.extensions["civic311.settings"].data_dir / rec.path).read_bytes()
    part = client.get(f"/recordings/{rid}/audio", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 0-99/{len(whole)}"
    assert part.data == whole[:100] and part.mimetype == "audio/wav"
    assert "no-store" in part.headers["Cache-Control"]
    tail = client.get(f"/recordings/{rid}/audio", headers={"Range": "bytes=1000-"})
    assert tail.status_code == 206 and tail.data == whole[1000:]
    full = client.get(f"/recordings/{rid}/audio")
    assert full.status_code == 200 and full.data == whole
    dl = client.get(f"/recordings/{rid}/download")
    assert dl.status_code == 200 and dl.data == whole
    assert dl.headers["Content-Disposition"].startswith("attachment")

    rows = audit_rows(database)
    assert [(r.username, r.role, r.action, r.byte_range) for r in rows] == [
        ("supervisor1", "supervisor", "play", "bytes=0-99"),
        ("supervisor1", "supervisor", "play", "bytes=1000-"),
        ("supervisor1", "supervisor", "play", ""),
        ("supervisor1", "supervisor", "download", ""),
    ]
    assert all(r.recording_id == rid and r.at is not None for r in rows)
    shown = client.get(f"/recordings/{rid}").get_data(as_text=True)
    assert shown.count("<td>supervisor1</td>") == 4  # the access log is on the page

    monitor = client.get("/recordings/monitor").get_data(as_text=True)
    for mode in ("listen", "whisper", "barge"):
        assert f'name="mode" value="{mode}"' in monitor

    qa = app.test_client()
    login(qa, users["qa"])
    assert qa.get("/recordings/monitor").status_code == 403  # live monitoring: supervisors
    for _ in range(3):
        assert qa.get(f"/recordings/{rid}/audio", headers={"Range": "bytes=0-"}).status_code == 206
    assert [(r.username, r.action) for r in audit_rows(database)[4:]] == [("qa1", "play")] * 3


def test_legal_hold_needs_a_supervisor_a_reason_and_csrf(app: Flask, users: dict[str, str],
                                                         rid: int, database: Database) -> None:
    client = app.test_client()
    login(client, users["supervisor"])
    token = csrf_token(client, f"/recordings/{rid}")
    assert client.post(f"/recordings/{rid}/hold",
                       data={"action": "hold", "reason": "court order 12"}).status_code == 400
    client.post(f"/recordings/{rid}/hold", data={"action": "hold", "reason": "x",
                                                 "csrf_token": token})
    with database.session() as s:
        assert s.get(Recording, rid).legal_hold is False  # type: ignore[union-attr]
    client.post(f"/recordings/{rid}/hold", data={"action": "hold", "reason": "court order 12",
                                                 "csrf_token": token})
    with database.session() as s:
        rec = s.get(Recording, rid)
        assert rec is not None and rec.legal_hold and rec.hold_reason == "court order 12"
    assert [(r.action, r.reason, r.byte_range) for r in audit_rows(database)] == [
        ("hold", "court order 12", "")]
    qa = app.test_client()
    login(qa, users["qa"])
    assert qa.post(f"/recordings/{rid}/hold", data={
        "action": "release", "csrf_token": csrf_token(qa, f"/recordings/{rid}")}).status_code == 403

    assert client.get("/recordings/999999/audio").status_code == 404
    with database.session() as s:
        rec = s.get(Recording, rid)
        assert rec is not None
        rec.path, rec.status, rec.deleted_at = None, "deleted", utcnow()
    assert client.get(f"/recordings/{rid}/audio").status_code == 410
    assert [r.action for r in audit_rows(database)] == ["hold"]  # refused plays: no rows
    assert client.get("/api/v1/recordings?status=bogus").status_code == 400
