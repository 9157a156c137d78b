"""Callback requests in a real database: booking closes the original call as ``callback``,
the placeholder takes the caller's place among the callers waiting now, unanswered callbacks
are retried and then fail, and placeholders lost with Asterisk are requested again."""

from __future__ import annotations

from datetime import timedelta

from acd.models import CallRecord
from foundation.db import Database, utcnow
from ivr.callback import queries as store
from ivr.callback import rules as cb
from ivr.callback.models import CallbackRequest


def test_a_callback_from_booking_to_failure(sqlite_db: Database) -> None:
    now = utcnow()
    with sqlite_db.session() as s:
        s.add_all([
            CallRecord(uniqueid="early", queue="citywide", entered_at=now - timedelta(minutes=9)),
            CallRecord(uniqueid="me", queue="citywide", entered_at=now - timedelta(minutes=5),
                       outcome="exit_key", exit_key="1", ended_at=now),
            CallRecord(uniqueid="late", queue="citywide", entered_at=now - timedelta(minutes=2)),
            CallRecord(uniqueid="other-queue", queue="noise", entered_at=now - timedelta(hours=1)),
            CallRecord(uniqueid="answered", queue="citywide", answered_at=now,
                       entered_at=now - timedelta(hours=1)),
        ])
    booked = store.book(sqlite_db, "me", "citywide", "+12125550001",
                        "PJSIP/trunk/sip:+12125550001@127.0.0.1:5062", "en", now)
    assert booked.created
    assert store.book(sqlite_db, "me", "citywide", "+1", "x", "en", now) == \
        store.Booked(booked.id, False)  # once per original call
    with sqlite_db.session() as s:
        rec = s.query(CallRecord).filter_by(uniqueid="me").one()
        assert rec.outcome == "callback" and rec.exit_key == "1"

    due = store.take_due(sqlite_db, now)
    assert [r.id for r in due] == [booked.id]
    assert store.take_due(sqlite_db, now) == []  # originating: not due twice
    hold = store.claim_hold(sqlite_db, booked.id, "ph.1", "Local/cb-1@x-1;2", now)
    assert hold == store.Hold("citywide", "+12125550001", 2)  # behind "early" only
    assert store.claim_hold(sqlite_db, booked.id, "ph.2", "Local/cb-1@x-2;2", now) is None

    for attempt in range(1, cb.MAX_ATTEMPTS + 1):
        assert store.start_dial(sqlite_db, booked.id, now) == \
            "PJSIP/trunk/sip:+12125550001@127.0.0.1:5062"
        state = store.finish_dial(sqlite_db, booked.id, "NOANSWER", 0, now)
        if attempt < cb.MAX_ATTEMPTS:
            assert state == "requested"
            assert store.take_due(sqlite_db, now) == []  # not before the retry delay
            later = now + timedelta(seconds=cb.RETRY_DELAY_S)
            assert [r.id for r in store.take_due(sqlite_db, later)] == [booked.id]
            assert store.claim_hold(sqlite_db, booked.id, f"ph.{attempt + 2}", "c;2", later)
    assert state == "failed"
    with sqlite_db.session() as s:
        row = s.get(CallbackRequest, booked.id)
        assert row is not None
        assert (row.attempts, row.detail, row.ended_at is not None) == (3, "NOANSWER", True)


def test_lost_placeholders_are_requested_again(sqlite_db: Database) -> None:
    now = utcnow()
    booked = store.book(sqlite_db, "gone", "citywide", "2125550009", "PJSIP/resident", "es", now)
    store.take_due(sqlite_db, now)
    store.claim_hold(sqlite_db, booked.id, "ph.1", "Local/cb-1@x-1;2", now)
    # waiting when Asterisk restarted: a new placeholder, due now, no attempt counted
    assert store.requeue(sqlite_db, booked.id, "waiting", now, "placeholder lost") == "requested"
    assert store.requeue(sqlite_db, booked.id, "waiting", now, "twice") is None
    store.take_due(sqlite_db, now)
    store.claim_hold(sqlite_db, booked.id, "ph.2", "Local/cb-1@x-2;2", now)
    assert store.start_dial(sqlite_db, booked.id, now)
    # lost in the middle of the dial: that attempt counts, and it is retried later
    assert store.requeue(sqlite_db, booked.id, "calling", now, "placeholder lost") == "requested"
    with sqlite_db.session() as s:
        row = s.get(CallbackRequest, booked.id)
        assert row is not None and row.attempts == 1 and row.due_at is not None
        assert row.due_at > now and row.placeholder_uniqueid is None
    assert store.left_queue(sqlite_db, booked.id, "LEAVEEMPTY", now) is None  # not waiting
