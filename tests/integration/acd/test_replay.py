"""A real recorded AMI stream through the recorder into a real database, checked against
the queue_log Asterisk wrote in the same run; then reconciliation and its idempotency."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from acd import events as ev
from acd.cdr import CLOSED_FROM_CDR
from acd.models import CallRecord, RingAttempt
from acd.normalizer import normalize
from acd.reconcile import apply_log, reconcile
from acd.recorder import Recorder
from foundation.db import Database
from tests.support.ami_stream import DATA, flat_messages
from tests.support.truth import truth

QLOG = DATA / "queue_log_mixed.txt"


def records(db: Database) -> dict[str, CallRecord]:
    with db.session() as s:
        return {r.uniqueid: r for r in s.scalars(select(CallRecord))}


def assert_matches_queue_log(db: Database) -> None:
    expected = truth(QLOG)
    got = records(db)
    assert set(got) == set(expected)
    for uid, want in expected.items():
        rec = got[uid]
        assert (rec.outcome, rec.queue) == (want["outcome"], want["queue"]), uid
        assert rec.wait_s == want["wait_s"], uid
        assert rec.talk_s == want["talk_s"], uid
        assert rec.agent == (want["agent"] or None), uid
    assert {r.outcome for r in got.values()} == {
        "answered", "abandoned", "timeout", "exit_key", "exit_empty", "refused"}


def test_ami_stream_builds_the_same_records_as_queue_log(database: Database) -> None:
    recorder = Recorder(database)
    domain = [d for d in (normalize(m) for m in flat_messages()) if d is not None]
    for i in range(0, len(domain), 7):  # odd batch sizes: ordering must not matter
        recorder.apply_batch(domain[i:i + 7])
    assert_matches_queue_log(database)
    with database.session() as s:
        assert s.scalar(select(func.count(RingAttempt.id))) >= 3
    result = reconcile(database, QLOG)
    assert (result.created, result.updated) == (0, 0)  # nothing for the log to correct


def test_reconciliation_alone_rebuilds_every_call_and_is_idempotent(
        database: Database, tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    lines = QLOG.read_text().splitlines(keepends=True)
    log.write_text("".join(lines[: len(lines) // 2]))
    first = reconcile(database, log)
    log.write_text("".join(lines))  # Asterisk appended while we were away
    second = reconcile(database, log)
    assert first.created + second.created == len(truth(QLOG))
    assert_matches_queue_log(database)
    again = reconcile(database, log)
    assert (again.created, again.updated) == (0, 0)
    with database.session() as s:
        assert s.scalar(select(func.count(CallRecord.id))) == len(truth(QLOG))


def test_log_wins_when_a_record_is_wrong(database: Database) -> None:
    reconcile(database, QLOG)
    with database.session() as s:
        rec = s.scalar(select(CallRecord).where(CallRecord.outcome == "timeout"))
        assert rec is not None
        rec.outcome = "abandoned"  # as if only QueueCallerAbandon had been seen
    with database.session() as s:
        from acd.models import LogCursor

        s.delete(s.get(LogCursor, "queue_log"))
    assert reconcile(database, QLOG).updated == 1
    assert_matches_queue_log(database)


def test_a_missed_join_is_filled_from_the_log(database: Database) -> None:
    """A gap that swallowed QueueCallerJoin: the record starts from a later event and
    reconciliation gives it the caller's number and entry position (seen failing in CI)."""
    recorder = Recorder(database)
    domain = [d for d in (normalize(m) for m in flat_messages())
              if d is not None and not isinstance(d, ev.CallerJoined)]
    recorder.apply_batch(domain)
    with database.session() as s:
        assert s.scalar(select(func.count(CallRecord.id)).where(
            CallRecord.caller_number.is_(None), CallRecord.outcome != "refused")) > 0
    assert reconcile(database, QLOG).updated > 0
    expected = truth(QLOG)
    for uid, rec in records(database).items():
        assert rec.caller_number == expected[uid]["caller"], uid
        if rec.outcome != "refused":
            assert rec.position is not None, uid
    assert (reconcile(database, QLOG).updated, reconcile(database, QLOG).created) == (0, 0)


def cdr_row(uid: str, end: float) -> str:
    """One line as Asterisk's cdr_csv writes it (loguniqueid, loguserfield, usegmtime)."""
    t = datetime.fromtimestamp(end, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return (f'"","+12125550000","s","civic311-queue","""Resident"" <+12125550000>",'
            f'"PJSIP/trunk-00000000","PJSIP/agent100-00000002","Queue",'
            f'"citywide,t,menu:none,,60","{t}","{t}","{t}",5,5,"ANSWERED","DOCUMENTATION",'
            f'"{uid}",""\n')


def test_a_call_the_log_never_ended_is_closed_from_its_cdr(database: Database,
                                                           tmp_path: Path) -> None:
    """Asterisk logged no end for an answered call (neither AMI nor queue_log): its CDR
    closes it; a call whose channel ended only moments ago is left to the log; the log's
    own end, once it has one, replaces the CDR's."""
    uid, fresh = "1795388544.1", "1795399999.9"
    now = datetime.now(UTC)
    domain = [d for d in (normalize(m) for m in flat_messages()) if d is not None
              and not (isinstance(d, ev.CallCompleted) and d.uniqueid == uid)]
    domain.append(ev.CallerJoined(now, fresh, fresh, "PJSIP/trunk-1", "citywide", 1, "", ""))
    Recorder(database).apply_batch(domain)
    qlog, cdr = tmp_path / "queue_log", tmp_path / "Master.csv"
    qlog.write_text("".join(line for line in QLOG.read_text().splitlines(keepends=True)
                            if "COMPLETEAGENT" not in line))
    cdr.write_text(cdr_row(uid, 1795388552) + cdr_row("1795388561.7", 1795388567)
                   + cdr_row("1.unknown", 1795388567) + "not,a,cdr\n"
                   + cdr_row(fresh, now.timestamp()))

    assert reconcile(database, qlog, cdr).closed_from_cdr == 1
    got = records(database)
    rec = got[uid]
    assert (rec.outcome, rec.wait_s, rec.talk_s, rec.hangup_side, rec.notes) == (
        "answered", 0.0, 5.0, "system", CLOSED_FROM_CDR)
    assert rec.ended_at == datetime.fromtimestamp(1795388552, UTC)
    assert got["1795388561.7"].outcome == "exit_empty"  # the log's end stands
    assert got[fresh].outcome is None and "1.unknown" not in got
    assert reconcile(database, qlog, cdr).closed_from_cdr == 0  # idempotent

    qlog.write_text(QLOG.read_text())  # the log has the end after all
    reconcile(database, qlog, cdr)
    rec = records(database)[uid]
    assert (rec.outcome, rec.talk_s, rec.hangup_side, rec.notes) == ("answered", 5.0, "agent",
                                                                      None)
    assert set(records(database)) - {fresh} == set(truth(QLOG))


def test_queue_log_callback_line_closes_the_original_call_as_callback(database: Database) -> None:
    """Our CALLBACK line (ivr/callback/agi.py) after an exit by key: the call ends as
    ``callback`` at the time it left the queue; a caller who declined stays ``exit_key``."""
    lines = [
        "1772463600|1772463600.10|citywide|NONE|ENTERQUEUE|direct|+12125550001|1",
        "1772463640|1772463600.10|citywide|NONE|EXITWITHKEY|1|1|1|40",
        "1772463652|1772463600.10|citywide|NONE|CALLBACK|7",
        "1772463700|1772463700.20|citywide|NONE|ENTERQUEUE|direct|+12125550002|1",
        "1772463750|1772463700.20|citywide|NONE|EXITWITHKEY|1|1|1|50",
    ]
    assert apply_log(database, lines) == (2, 0)
    calls = records(database)
    booked, declined = calls["1772463600.10"], calls["1772463700.20"]
    assert (booked.outcome, booked.wait_s, booked.exit_key) == ("callback", 40, "1")
    assert booked.ended_at == datetime.fromtimestamp(1772463640, UTC)  # left the queue then
    assert declined.outcome == "exit_key"
