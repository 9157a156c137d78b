"""An agent's outbound call is recorded under the policy of the queue it was placed for
(MixMonitor, as a queue call), so its recording is catalogued like a queue call's: moved out
of the spool, under the same retention and the same access audit, with no queue-call record
(``call_id`` empty). An outbound call that was not answered has nothing to catalogue."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from acd.outbound.models import OutboundCall, OutboundOutcome, Purpose
from center.worker import collect_jobs
from foundation.db import Database, utcnow
from foundation.settings import Settings
from recordings import policy_queries
from recordings.catalog import catalog, paths_for
from recordings.models import Recording, RecordingAccess
from recordings.policy import RecordingPolicy
from tests.conftest import login
from tests.support.recording_files import write_wav


def outbound(uniqueid: str, started: datetime, outcome: OutboundOutcome,
             talk_s: float | None) -> OutboundCall:
    return OutboundCall(uniqueid=uniqueid, agent="100", requested_by="agent1",
                        purpose=Purpose.RESIDENT, number="4105550199",
                        to_carrier="+14105550199", kind="local", queue="citywide",
                        requested_at=started - timedelta(seconds=5), started_at=started,
                        ended_at=started + timedelta(seconds=talk_s or 20), talk_s=talk_s,
                        dial_status="ANSWER" if talk_s else "NOANSWER", outcome=outcome)


def spool(settings: Settings, uniqueid: str, seconds: float, closed_at: datetime) -> Path:
    incoming = paths_for(settings).incoming
    incoming.mkdir(parents=True, exist_ok=True)
    path = write_wav(incoming / f"{uniqueid}.wav", seconds)
    os.utime(path, (closed_at.timestamp(), closed_at.timestamp()))  # Asterisk closed it
    return path


def test_an_outbound_call_recording_is_catalogued_kept_and_audited_like_a_queue_call(
        app: Flask, users: dict[str, str], database: Database) -> None:
    settings: Settings = app.extensions["civic311.settings"]
    now = utcnow()
    with database.session() as s:
        policy_queries.save(s, RecordingPolicy("citywide", retention_days=30), "admin1")
        s.add(outbound("1796290001.5", now - timedelta(minutes=10), OutboundOutcome.ANSWERED,
                       6.0))
        s.add(outbound("1796290002.7", now - timedelta(days=40), OutboundOutcome.ANSWERED,
                       6.0))
        s.add(outbound("1796290003.9", now - timedelta(minutes=10), OutboundOutcome.NO_ANSWER,
                       None))
    recent = spool(settings, "1796290001.5", 6.0, now - timedelta(minutes=9))
    old = spool(settings, "1796290002.7", 6.0, now - timedelta(days=40, minutes=-1))

    paths, queues = paths_for(settings), settings.queue_names()
    with database.session() as s:  # the worker's run 40 days ago, then today's
        assert catalog(s, paths, queues, now - timedelta(days=40, minutes=-10)) == {"ok": 1}
        assert catalog(s, paths, queues, now) == {"ok": 1}
        assert catalog(s, paths, queues, now) == {}  # once
    with database.session() as s:
        rows = {r.uniqueid: r for r in s.scalars(select(Recording))}
    assert set(rows) == {"1796290001.5", "1796290002.7"}  # the unanswered one: nothing
    rec = rows["1796290001.5"]
    assert (rec.status, rec.queue, rec.agent, rec.call_id, rec.talk_s) == (
        "ok", "citywide", "100", None, 6.0)
    assert rec.duration_s == 6.0 and rec.path is not None
    assert not recent.exists() and (settings.data_dir / rec.path).exists()
    assert not old.exists()

    client = app.test_client()  # played and downloaded like any recording, and audited
    login(client, users["supervisor"])
    listed = client.get("/api/v1/recordings").get_json()["recordings"]
    assert {r["uniqueid"] for r in listed} >= {"1796290001.5"}
    assert "1796290001.5" in client.get(f"/recordings/{rec.id}").get_data(as_text=True)
    assert client.get(f"/recordings/{rec.id}/audio").status_code == 200
    with database.session() as s:
        audit = list(s.scalars(select(RecordingAccess)))
    assert [(a.recording_id, a.username, a.action) for a in audit] == [
        (rec.id, "supervisor1", "play")]

    settings.database_url = database.url
    (job,) = [j for j in collect_jobs(settings, database) if j.id == "recordings.retention"]
    job.func()  # citywide keeps 30 days: the 40-day-old outbound recording goes
    with database.session() as s:
        after = {r.uniqueid: r for r in s.scalars(select(Recording))}
    assert after["1796290002.7"].status == "deleted"
    assert after["1796290001.5"].status == "ok"
    assert (settings.data_dir / rec.path).exists()
    assert not (settings.data_dir / rows["1796290002.7"].path).exists()  # type: ignore[operator]
