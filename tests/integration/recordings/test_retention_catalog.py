"""Retention deletes exactly the expired recordings (not those under QA review or legal hold),
run as the worker's job; the catalog reports missing and failed recordings."""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from acd.models import CallRecord
from center.worker import collect_jobs
from foundation.db import Database, utcnow
from foundation.settings import Settings
from recordings import policy_queries
from recordings.catalog import GRACE_S, Paths, catalog, orphans
from recordings.models import CalibrationSession, QaEvaluation, QaForm, QaSample, Recording
from recordings.policy import RecordingPolicy, bucket
from tests.conftest import login
from tests.support.recording_files import call_record, make_recording, write_wav


def test_retention_deletes_exactly_the_expired_ones(settings: Settings,
                                                    database: Database) -> None:
    now = utcnow()
    old = now - timedelta(days=2)
    with database.session() as s:
        policy_queries.save(s, RecordingPolicy("citywide", retention_days=30), "admin1")
        policy_queries.save(s, RecordingPolicy("sanitation", retention_days=7), "admin1")
    data = settings.data_dir

    def rec(uid: str, days: float, queue: str, **kw: object) -> int:
        return make_recording(database, data, uid, now - timedelta(days=days), queue=queue,
                              **kw)  # type: ignore[arg-type]

    ids = {
        "1.1": rec("1.1", 40, "citywide"),          # expired
        "1.2": rec("1.2", 29, "citywide"),          # within 30 days
        "1.3": rec("1.3", 8, "sanitation"),         # expired (7 days)
        "1.4": rec("1.4", 8, "sanitation"),         # legal hold
        "1.5": rec("1.5", 10, "sanitation"),        # sampled for QA, not scored: under review
        "1.6": rec("1.6", 10, "sanitation"),        # sampled and scored: expired
        "1.7": rec("1.7", 10, "sanitation"),        # open calibration session
        "1.8": rec("1.8", 10, "sanitation"),        # closed calibration session: expired
        "1.9": rec("1.9", 40, "citywide", status="missing"),  # no file: nothing to delete
        "1.10": rec("1.10", 6, "sanitation"),       # within 7 days
    }
    with database.session() as s:
        s.get(Recording, ids["1.4"]).legal_hold = True  # type: ignore[union-attr]
        form = QaForm(name="f", active=True, updated_at=old, updated_by="admin1")
        s.add(form)
        s.flush()
        for uid in ("1.5", "1.6"):
            s.add(QaSample(month="2026-11", agent="100", recording_id=ids[uid], drawn_at=old))
        s.add(QaEvaluation(recording_id=ids["1.6"], form_id=form.id, evaluator="qa1",
                           agent="100", score_pct=90.0, comment="", submitted_at=old))
        s.add(CalibrationSession(recording_id=ids["1.7"], form_id=form.id, title="open",
                                 created_by="qa1", created_at=old))
        s.add(CalibrationSession(recording_id=ids["1.8"], form_id=form.id, title="done",
                                 created_by="qa1", created_at=old, closed_at=old))
    with database.session() as s:
        paths = {r.uniqueid: data / r.path for r in s.scalars(select(Recording)) if r.path}

    settings.database_url = database.url
    (job,) = [j for j in collect_jobs(settings, database) if j.id == "recordings.retention"]
    job.func()  # what the worker runs

    expired = {"1.1", "1.3", "1.6", "1.8"}
    with database.session() as s:
        rows = {r.uniqueid: r for r in s.scalars(select(Recording))}
    assert {u for u, r in rows.items() if r.status == "deleted"} == expired
    for uid, path in paths.items():
        assert path.exists() == (uid not in expired), uid
    for uid in expired:
        assert rows[uid].deleted_at is not None and rows[uid].path is None
        assert "retention" in rows[uid].detail
    assert rows["1.9"].status == "missing"
    job.func()  # idempotent: a second run deletes nothing more
    with database.session() as s:
        assert sum(r.status == "deleted" for r in s.scalars(select(Recording))) == len(expired)


def uid_with_bucket(low: int, high: int, start: int = 1000) -> str:
    return next(f"1700000000.{n}" for n in range(start, start + 10_000)
                if low <= bucket(f"1700000000.{n}") < high)


def test_catalog_reports_missing_and_failed(app: Flask, users: dict[str, str],
                                            database: Database, tmp_path: Path) -> None:
    now = utcnow()
    answered = now - timedelta(minutes=30)
    paths = Paths(tmp_path / "data", tmp_path / "spool")
    paths.incoming.mkdir(parents=True)
    with database.session() as s:
        policy_queries.save(s, RecordingPolicy("sanitation", mode="sample", sample_pct=30),
                          "admin1")
        s.flush()
        from recordings.models import RecordingPolicyRow
        s.get(RecordingPolicyRow, "sanitation").updated_at = now - timedelta(days=1)  # type: ignore[union-attr]
    good, missing, garbage, short = "1700000001.1", "1700000001.2", "1700000001.3", "1700000001.4"
    sampled_out = uid_with_bucket(30, 100)
    sampled_in = uid_with_bucket(0, 30)
    write_wav(paths.incoming / f"{good}.wav", 4.0)
    (paths.incoming / f"{garbage}.wav").write_bytes(b"not a wav file at all")
    write_wav(paths.incoming / f"{short}.wav", 1.0)
    write_wav(paths.incoming / f"{sampled_in}.wav", 4.0)
    write_wav(paths.incoming / "1700000001.11.wav", 4.0)  # Asterisk is still writing it
    closed = (now - timedelta(seconds=30)).timestamp()
    for f in paths.incoming.iterdir():
        if f.name != "1700000001.11.wav":
            os.utime(f, (closed, closed))
    with database.session() as s:
        for uid in (good, missing, garbage, short):
            s.add(call_record(uid, "citywide", "100", answered, 4.0))
        s.add(call_record(sampled_out, "sanitation", "101", answered, 4.0))
        s.add(call_record(sampled_in, "sanitation", "101", answered, 4.0))
        live = call_record("1700000001.9", "citywide", "102", now, 4.0)
        live.ended_at = None  # still talking: not catalogued yet
        s.add(live)
        recent = call_record("1700000001.10", "citywide", "102", now, 0.5)
        recent.ended_at = now - timedelta(seconds=GRACE_S / 2)  # file may still be open
        s.add(recent)
        s.add(call_record("1700000001.11", "citywide", "102", now - timedelta(minutes=1), 4.0))
    queues = ["citywide", "sanitation"]
    with database.session() as s:
        counts = catalog(s, paths, queues, now)
    assert counts == {"ok": 2, "missing": 1, "failed": 2, "skipped": 1}
    with database.session() as s:
        rows = {r.uniqueid: r for r in s.scalars(select(Recording))}
        assert catalog(s, paths, queues, now) == {}  # idempotent
    assert set(rows) == {good, missing, garbage, short, sampled_out, sampled_in}
    assert (paths.incoming / "1700000001.11.wav").exists()  # left for the next run
    assert rows[good].status == "ok" and rows[good].duration_s == 4.0
    stored = paths.data_dir / rows[good].path  # type: ignore[operator]
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600  # a caller's voice: owner only
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
    assert rows[missing].status == "missing" and "policy" in rows[missing].detail
    assert rows[garbage].status == "failed" and "not a WAV" in rows[garbage].detail
    assert rows[short].status == "failed" and "shorter than the talk time" in rows[short].detail
    assert rows[sampled_out].status == "skipped" and "30% sample" in rows[sampled_out].detail
    assert rows[sampled_in].status == "ok"
    assert rows[good].ticket_number is None and rows[good].call_id is not None
    with database.session() as s:  # the agent opens a ticket after the call: linked next run
        s.get(CallRecord, rows[good].call_id).ticket_number = "3110000077"  # type: ignore[union-attr]
        catalog(s, paths, queues, now)
        assert s.get(Recording, rows[good].id).ticket_number == "3110000077"  # type: ignore[union-attr]

    # a file no answered call claims is reported once it is an hour old, never deleted
    stray = write_wav(paths.incoming / "1699999999.5.wav", 1.0)
    fresh = write_wav(paths.incoming / "1699999999.6.wav", 1.0)
    hour_ago = (now - timedelta(minutes=61)).timestamp()
    os.utime(stray, (hour_ago, hour_ago))
    with database.session() as s:
        assert orphans(s, paths, now) == ["1699999999.5"]
    assert stray.exists() and fresh.exists()

    client = app.test_client()
    login(client, users["supervisor"])
    listed = client.get("/api/v1/recordings/problems").get_json()["problems"]
    assert sorted(p["uniqueid"] for p in listed) == sorted([missing, garbage, short])
    page = client.get("/recordings/problems").get_data(as_text=True)
    for uid in (missing, garbage, short):
        assert uid in page
    assert good not in page
    assert "3 recording(s) missing or failed" in client.get("/recordings").get_data(as_text=True)


def test_demo_seed_creates_the_standard_qa_form_once(settings: Settings,
                                                     database: Database) -> None:
    from recordings.seed import seed_qa

    with database.session() as s:
        assert seed_qa(s, settings) == [
            "QA form 'Standard call review' (5 weighted criteria) created"]
    with database.session() as s:
        assert seed_qa(s, settings)[0].endswith("already exists")
        form = s.scalars(select(QaForm)).one()
        assert [c.name for c in form.criteria] == [
            "Greeting", "Listening", "Accuracy of information", "Correct use of the CRM",
            "Closing"]


def test_cli_runs_the_jobs_and_lists_problems(database: Database, tmp_path: Path,
                                              monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import json

    from click.testing import CliRunner

    from center.cli import cli
    from recordings import ami

    data = tmp_path / "cli-data"
    make_recording(database, data, "1.1", utcnow() - timedelta(days=400))  # default 365 days
    make_recording(database, data, "1.2", utcnow() - timedelta(days=1), status="missing")
    base = ["--database-url", database.url, "--data-dir", str(data)]
    runner = CliRunner()
    out = runner.invoke(cli, [*base, "recordings", "retention"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == {"deleted": ["1.1"], "files_left": []}
    out = runner.invoke(cli, [*base, "recordings", "problems"])
    assert [p["uniqueid"] for p in json.loads(out.output)["problems"]] == ["1.2"]
    out = runner.invoke(cli, [*base, "recordings", "catalog"])
    assert out.exit_code == 0 and json.loads(out.output) == {}
    monkeypatch.setattr(ami, "CONNECT_TIMEOUT_S", 0.5)
    monkeypatch.setenv("CIVIC311_AMI_PORT", "1")
    out = runner.invoke(cli, [*base, "recordings", "push-policy"])
    assert out.exit_code == 1 and "not reachable" in out.output
