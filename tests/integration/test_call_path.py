"""The first real call path: SIPp caller -> the express line (3111) -> FastAGI IVR -> queue ->
SIPp agent phone, and the daemon's call record for it, on SQLite and on PostgreSQL."""

from __future__ import annotations

import struct
import wave

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from acd.cdr import channel_ends
from acd.models import CallRecord
from center.cli import cli
from foundation.db import Database
from tests.support.pbx import DaemonProc, Pbx, wait_until
from tests.support.truth import truth

pytestmark = pytest.mark.asterisk


def final_records(db: Database) -> dict[str, CallRecord]:
    with db.session() as s:
        rows = s.scalars(select(CallRecord).where(CallRecord.outcome.is_not(None)))
        return {r.uniqueid: r for r in rows if r.outcome != "answered" or r.ended_at}


@pytest.mark.sqlite_smoke
def test_sipp_call_reaches_an_agent_and_is_recorded(clean_pbx: Pbx, daemon: DaemonProc,
                                                     database: Database) -> None:
    clean_pbx.add_agent("100", ["citywide"], ring_ms=300, talk_ms=1500)
    result = clean_pbx.call(calls=2, rate=2, hold_ms=30000,
                            caller_numbers=["+12125550101", "+12125550102"]).wait(60)
    assert (result.successful, result.failed) == (2, 0)

    try:
        records = wait_until(lambda: len(final_records(database)) == 2
                             and final_records(database), 10, what="two finished call records")
    except AssertionError as exc:  # say what the daemon had and what Asterisk logged
        with database.session() as s:
            have = [(r.uniqueid, r.outcome, r.answered_at, r.ended_at)
                    for r in s.scalars(select(CallRecord))]
        raise AssertionError(f"{exc}\nrecords: {have}\nqueue_log:\n"
                             f"{clean_pbx.queue_log.read_text()}") from None
    logged = truth(clean_pbx.queue_log)
    assert set(records) == set(logged)
    for uid, rec in records.items():
        expected = logged[uid]
        assert rec.outcome == "answered" == expected["outcome"]
        assert rec.queue == "citywide"
        assert rec.agent == "100"
        assert rec.wait_s == expected["wait_s"] and rec.talk_s == expected["talk_s"]
        assert rec.caller_number == expected["caller"]
        assert rec.entered_at <= rec.answered_at <= rec.ended_at
        assert rec.ivr_path and rec.ivr_path.startswith("menu:")
        assert rec.source == "ami"
    # the CDRs reconciliation falls back on: Asterisk's own file, in the format acd/cdr.py reads
    ends = channel_ends((clean_pbx.install.log_dir / "cdr-csv" / "Master.csv").read_text()
                        .splitlines())
    for uid, rec in records.items():
        assert rec.ended_at is not None
        assert abs((ends[uid] - rec.ended_at).total_seconds()) <= 2, uid

    out = CliRunner().invoke(cli, ["--database-url", database.url, "report", "calls",
                                   "--from", "2000-01-01", "--to", "2100-01-01", "--csv"])
    assert out.exit_code == 0, out.output
    lines = out.output.strip().splitlines()
    assert lines[0] == "uniqueid,queue,entered_at,outcome,wait_s,talk_s,agent"
    assert sorted(line.split(",")[0] for line in lines[1:]) == sorted(records)
    assert all(line.split(",")[3] == "answered" and line.endswith(",100") for line in lines[1:])


def test_refused_when_no_agent_is_logged_in(clean_pbx: Pbx, daemon: DaemonProc,
                                            database: Database) -> None:
    result = clean_pbx.call(calls=1, hold_ms=20000).wait(30)
    assert result.failed == 0
    records = wait_until(lambda: final_records(database), 10, what="a refused record")
    (rec,) = records.values()
    assert rec.outcome == "refused" and rec.wait_s == 0
    assert truth(clean_pbx.queue_log)[rec.uniqueid]["outcome"] == "refused"


def test_waiting_callers_hear_hold_music(pbx: Pbx) -> None:
    """The default music-on-hold class has a real file (not a silent, unsupported entry)."""
    listing = pbx.rx("moh show files")
    assert "Class: default" in listing and "hold" in listing, listing
    path = pbx.install.sounds_dir / "moh" / "hold.wav"
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        assert w.getnframes() == 16 * 8000
        frames = w.readframes(w.getnframes())
    assert max(abs(v) for (v,) in struct.iter_unpack("<h", frames)) > 1000  # not silence
