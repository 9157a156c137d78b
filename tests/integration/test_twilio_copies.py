"""Twilio's copies of personal audio are deleted (issue #14): a call recording once the
catalog holds it, a voicemail message at its retention, each by Twilio's REST DELETE against
a fake of Twilio's cloud at the HTTP boundary (tests/support/fake_twilio.py). Twilio down
delays a deletion (retried with backoff, then done once); 404 means already gone; a poison
recording fails alone; nothing is logged as deleted before Twilio said so; with
``twilio_keep_recordings`` Twilio keeps its copies."""

from __future__ import annotations

import io
import json
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from acd.models import CallRecord
from center.cli import cli
from center.worker import collect_jobs
from foundation import twilio_deletions
from foundation.db import Database, utcnow
from foundation.erasure import Erasure
from foundation.settings import Settings
from foundation.twilio_deletions import TwilioDeletion
from ivr.models import IvrCall
from recordings.catalog import Paths, catalog
from recordings.models import Recording
from recordings.twilio_copies import queue_deletions
from recordings.twilio_fetch import fetch_due
from tests.support.fake_twilio import FakeTwilioRest, Twilio, fake_twilio_rest

AC, TOKEN, BASE = "AC" + "1" * 32, "test-twilio-token-5678", "https://311.civic.example"


def sid(n: int) -> str:
    return f"RE{n:032x}"


@dataclass
class Cloud:
    twilio: Twilio
    fake: FakeTwilioRest
    settings: Settings
    db: Database

    def url(self, recording_sid: str) -> str:
        return (f"{self.settings.twilio_api_base}/2010-04-01/Accounts/{AC}/Recordings/"
                f"{recording_sid}")

    def media(self, recording_sid: str) -> int:
        """What Twilio answers for the recording's audio now (200: it still holds it)."""
        return requests.get(self.url(recording_sid) + ".wav", auth=(AC, TOKEN),
                            timeout=10).status_code

    def deletes(self, recording_sid: str) -> list[int]:
        """Twilio's answers to every DELETE of this recording, in order."""
        with self.fake.lock:
            return [r["status"] for r in self.fake.requests
                    if r["kind"] == "delete" and r["sid"] == recording_sid]

    def deletion(self, table: str, subject_id: int) -> TwilioDeletion:
        with self.db.session() as s:
            row = s.scalar(select(TwilioDeletion).where(
                TwilioDeletion.subject_table == table, TwilioDeletion.subject_id == subject_id))
            assert row is not None, (table, subject_id)
            s.expunge(row)
            return row

    def audit(self, table: str, subject_id: int) -> list[tuple[str, str]]:
        """The personal-data audit of one row: (action, detail), oldest first."""
        with self.db.session() as s:
            return [(e.action, e.detail) for e in s.scalars(
                select(Erasure).where(Erasure.subject_table == table,
                                      Erasure.subject_id == subject_id).order_by(Erasure.id))]


@pytest.fixture
def cloud(app: Flask, database: Database) -> Iterator[Cloud]:
    settings = app.extensions["civic311.settings"]
    with fake_twilio_rest(AC, TOKEN) as (api, fake):
        settings.telephony_backend = "twilio"
        settings.twilio_auth_token, settings.public_base_url = TOKEN, BASE
        settings.twilio_account_sid, settings.twilio_api_base = AC, api
        yield Cloud(Twilio(app.test_client(), fake, BASE), fake, settings, database)


def wav(seconds: float) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x01\x00" * 2 * int(8000 * seconds))
    return buf.getvalue()


def answered_call(db: Database, uid: str, ended: datetime, talk_s: float = 4.0) -> None:
    with db.session() as s:
        s.add(CallRecord(uniqueid=uid, queue="citywide", entered_at=ended - timedelta(seconds=30),
                         answered_at=ended - timedelta(seconds=talk_s), ended_at=ended,
                         wait_s=26.0 - talk_s, talk_s=talk_s, hold_s=0, acw_s=0, agent="101",
                         outcome="answered", source="twilio"))


def delete_job(settings: Settings, db: Database) -> Any:
    """The worker's own job (what runs every minute), run once now."""
    [job] = [j for j in collect_jobs(settings, db) if j.id == "twilio.deletions"]
    return job.func()


def test_twilio_copies_of_call_recordings_are_deleted_once_catalogued(
        cloud: Cloud, tmp_path: Path) -> None:
    db, fake, now = cloud.db, cloud.fake, utcnow()
    paths = Paths(tmp_path / "data", tmp_path / "spool")
    calls = {"CA-a": sid(0xA), "CA-b": sid(0xB), "CA-c": sid(0xC), "CA-d": sid(0xD),
             "CA-bad": sid(0xBAD)}
    for uid, rsid in calls.items():
        answered_call(db, uid, now - timedelta(minutes=5))
        fake.recordings[rsid] = wav(4.0) if uid != "CA-d" else b"RIFF, but no audio"
        assert cloud.twilio.post("/twilio/recording", uid, RecordingSid=rsid,
                                 RecordingUrl=cloud.url(rsid),
                                 RecordingStatus="completed").status_code == 204
    assert fetch_due(cloud.settings, db, paths.incoming, utcnow()) == 5
    with db.session() as s:  # fetched, not catalogued yet: Twilio's copies stay
        assert queue_deletions(s, ["citywide"], now) == 0
    with db.session() as s:
        assert catalog(s, paths, ["citywide"], now + timedelta(seconds=5)) == {"ok": 4,
                                                                               "failed": 1}
    with db.session() as s:
        assert queue_deletions(s, ["citywide"], now) == 4  # not CA-d: Twilio's is the only one
    with db.session() as s:
        rec = {r.uniqueid: r.id for r in s.scalars(select(Recording))}

    fake.refuse(calls["CA-bad"], 500)  # a poison: Twilio fails its deletion every time
    del fake.recordings[calls["CA-c"]]  # someone deleted it in Twilio's console meanwhile
    fake.fail_next(503, 503)  # Twilio down for the first two
    assert twilio_deletions.delete_due(cloud.settings, db, now) == 1  # CA-c: 404, done
    down = [cloud.deletion("recordings", rec[u]) for u in ("CA-a", "CA-b")]
    assert [(d.status, d.attempts, d.deleted_at) for d in down] == [("pending", 1, None)] * 2
    assert all("503" in d.last_error for d in down)
    assert cloud.audit("recordings", rec["CA-a"]) == []  # nothing logged before Twilio said so
    assert (cloud.media(calls["CA-a"]), cloud.media(calls["CA-b"])) == (200, 200)
    gone = cloud.deletion("recordings", rec["CA-c"])
    assert (gone.status, gone.answer) == ("done", 404)
    [(action, detail)] = cloud.audit("recordings", rec["CA-c"])
    assert action == "deleted" and "had no copy any more (404)" in detail

    assert twilio_deletions.delete_due(cloud.settings, db, now + timedelta(seconds=30)) == 0
    assert cloud.deletes(calls["CA-a"]) == [503]  # not due yet: not asked again
    assert twilio_deletions.delete_due(cloud.settings, db, now + timedelta(seconds=61)) == 2
    for uid in ("CA-a", "CA-b"):
        assert cloud.deletes(calls[uid]) == [503, 204] and cloud.media(calls[uid]) == 404
        d = cloud.deletion("recordings", rec[uid])
        assert (d.status, d.answer, d.deleted_at is not None) == ("done", 204, True)
        [(action, detail)] = cloud.audit("recordings", rec[uid])
        assert action == "deleted" and "deleted it (204)" in detail and "catalogued" in detail
    bad = cloud.deletion("recordings", rec["CA-bad"])
    assert (bad.status, bad.attempts) == ("pending", 2) and "500" in bad.last_error

    later = now + timedelta(seconds=61)
    for _ in range(twilio_deletions.MAX_ATTEMPTS):  # the poison is given up, alone
        later += timedelta(hours=7)
        twilio_deletions.delete_due(cloud.settings, db, later)
    bad = cloud.deletion("recordings", rec["CA-bad"])
    assert (bad.status, bad.attempts) == ("failed", twilio_deletions.MAX_ATTEMPTS)
    assert cloud.audit("recordings", rec["CA-bad"]) == []
    assert cloud.deletes(calls["CA-a"]) == [503, 204]  # each good one deleted once
    with db.session() as s:  # re-queueing finds nothing new
        assert queue_deletions(s, ["citywide"], now) == 0
    with db.session() as s:  # the one the catalog could not keep: at its retention (365 d)
        assert queue_deletions(s, ["citywide"], now + timedelta(days=364)) == 0
        assert queue_deletions(s, ["citywide"], now + timedelta(days=366)) == 1
    assert twilio_deletions.delete_due(cloud.settings, db, now + timedelta(days=366)) == 1
    assert cloud.media(calls["CA-d"]) == 404


def _cli(cloud: Cloud, *args: str, **env: str) -> Any:
    res = CliRunner().invoke(cli, ["--data-dir", str(cloud.settings.data_dir),
                                   "--database-url", cloud.db.url, "privacy", *args],
                             env={"CIVIC311_ASTERISK_BINARY": "external", **env})
    assert res.exit_code == 0, res.output
    return [json.loads(line) for line in res.output.splitlines() if line.strip()]


def _messages(cloud: Cloud, ages: dict[str, tuple[int, str]]) -> dict[str, int]:
    now, ids = utcnow(), {}
    with cloud.db.session() as s:
        for uid, (days, url) in ages.items():
            call = IvrCall(uniqueid=uid, source="twilio", caller_number="+12125550199",
                           started_at=now - timedelta(days=days), outcome="voicemail",
                           voicemail=url, voicemail_s=5.0)
            s.add(call)
            s.flush()
            ids[uid] = call.id
    return ids


def test_twilio_copy_of_a_voicemail_is_deleted_at_its_retention(cloud: Cloud) -> None:
    fake = cloud.fake
    for n in (1, 2, 3):
        fake.recordings[sid(n)] = wav(1.0)
    ids = _messages(cloud, {"CA-vm1": (100, cloud.url(sid(1))),  # past 90 days
                            "CA-vm2": (10, cloud.url(sid(2))),  # kept
                            "CA-vm3": (95, cloud.url(sid(3))),
                            "CA-vm4": (99, "https://api.twilio.com/not-a-recording")})
    [run] = _cli(cloud, "erase")
    assert run["voicemail"] == {"erased": 3, "failed": []}
    with cloud.db.session() as s:  # civic311 forgot the URLs at once ...
        left = {c.uniqueid: c.voicemail for c in s.scalars(select(IvrCall))}
    assert left == {"CA-vm1": None, "CA-vm2": cloud.url(sid(2)), "CA-vm3": None,
                    "CA-vm4": None}
    [(action, detail)] = cloud.audit("ivr_calls", ids["CA-vm1"])
    assert action == "anonymised" and f"{sid(1)} queued for deletion" in detail
    assert cloud.media(sid(1)) == 200  # ... and says so: not deleted until Twilio has

    fake.fail_next(503)  # Twilio down at the first try
    assert delete_job(cloud.settings, cloud.db) == 1  # the worker's job: vm1 503, vm3 204
    poison = cloud.deletion("ivr_calls", ids["CA-vm4"])  # no SID: failed at once, alone
    assert poison.status == "failed" and "not a Twilio recording SID" in poison.last_error
    first = cloud.deletion("ivr_calls", ids["CA-vm1"])
    assert (first.status, first.attempts) == ("pending", 1)
    assert [a for a, _ in cloud.audit("ivr_calls", ids["CA-vm3"])] == ["anonymised", "deleted"]
    assert cloud.media(sid(3)) == 404
    twilio_deletions.delete_due(cloud.settings, cloud.db,
                                utcnow() + twilio_deletions.BACKOFF.delay(1))
    assert cloud.deletes(sid(1)) == [503, 204] and cloud.media(sid(1)) == 404
    log = [e for e in _cli(cloud, "log") if (e["table"], e["id"]) == ("ivr_calls",
                                                                      ids["CA-vm1"])]
    assert [(e["action"], e["kind"]) for e in log] == [("deleted", "voicemail"),
                                                      ("anonymised", "voicemail")]
    assert "Twilio deleted it (204)" in log[0]["detail"]
    assert cloud.media(sid(2)) == 200 and cloud.deletes(sid(2)) == []  # not due yet
    [left] = _cli(cloud, "twilio")  # what Twilio may still hold: the poison, for a person
    assert (left["id"], left["status"], left["attempts"]) == (ids["CA-vm4"], "failed", 1)
    assert len(_cli(cloud, "twilio", "--all")) == 3


def test_a_city_can_keep_twilio_as_its_archive(cloud: Cloud) -> None:
    cloud.fake.recordings[sid(7)] = wav(1.0)
    ids = _messages(cloud, {"CA-keep": (100, cloud.url(sid(7)))})
    [run] = _cli(cloud, "erase", CIVIC311_TWILIO_KEEP_RECORDINGS="true")
    assert run["voicemail"] == {"erased": 1, "failed": []}
    [(action, detail)] = cloud.audit("ivr_calls", ids["CA-keep"])
    assert action == "anonymised" and "Twilio keeps its copy" in detail
    cloud.settings.twilio_keep_recordings = True
    assert delete_job(cloud.settings, cloud.db) == 0
    with cloud.db.session() as s:
        assert s.scalars(select(TwilioDeletion)).all() == []
    assert cloud.media(sid(7)) == 200 and cloud.deletes(sid(7)) == []
