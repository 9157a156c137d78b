"""Callback requests in the database: every state change of ivr/callback/rules.py, one short
transaction each (called from worker threads of the daemon: the AGI route and the runner)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from acd import calls
from acd.calls import CALLBACK_PATH_PREFIX
from foundation.db import Database
from ivr.callback import rules as cb
from ivr.callback.models import CallbackRequest
from ivr.callback.rules import CallbackState as S

PLACEHOLDER_PREFIX = CALLBACK_PATH_PREFIX  # the placeholder's queue_log URL / record ivr_path
WAITING_HORIZON = timedelta(hours=12)  # open call records older than this are not waiting


@dataclass(frozen=True)
class Booked:
    id: int
    created: bool


@dataclass(frozen=True)
class Hold:
    """What the placeholder needs to join the queue."""

    queue: str
    number: str
    position: int


def book(db: Database, original_uniqueid: str, queue: str, number: str, dial: str,
         language: str, now: datetime, due_at: datetime | None = None) -> Booked:
    """Store a confirmed request (once per original call) and close the original call's
    record as ``callback``: it left the queue, the placeholder carries its place on.
    ``due_at``: not before (an after-hours request waits for the next opening)."""
    with db.session() as s:
        found = s.scalar(select(CallbackRequest).where(
            CallbackRequest.original_uniqueid == original_uniqueid))
        if found is not None:
            return Booked(found.id, False)
        original = calls.by_uniqueid(s, original_uniqueid)
        arrival = original.entered_at if original is not None else now
        row = CallbackRequest(original_uniqueid=original_uniqueid, queue=queue, number=number,
                              dial=dial, language=language or "en", arrival_at=arrival,
                              created_at=now, state="requested", due_at=due_at or now,
                              attempts=0,
                              updated_at=now, detail="")
        s.add(row)
        if original is not None:
            calls.close_as_callback(original, now)
        s.flush()
        return Booked(row.id, True)


def take_due(db: Database, now: datetime, via_twilio: bool = False) -> list[CallbackRequest]:
    """Requests due, marked ``originating``: for a placeholder (the daemon's runner), or with
    ``via_twilio`` those to call through Twilio's REST API (the worker)."""
    route = (CallbackRequest.dial == cb.TWILIO_DIAL if via_twilio
             else CallbackRequest.dial != cb.TWILIO_DIAL)
    with db.session() as s:
        rows = list(s.scalars(select(CallbackRequest).where(
            CallbackRequest.state == S.REQUESTED, CallbackRequest.due_at <= now, route)
            .order_by(CallbackRequest.arrival_at).with_for_update(skip_locked=True)))
        for row in rows:
            row.state, row.originated_at, row.updated_at = S.ORIGINATING, now, now
        s.flush()
        s.expunge_all()
        return rows


def open_requests(db: Database) -> list[CallbackRequest]:
    with db.session() as s:
        rows = list(s.scalars(select(CallbackRequest).where(
            CallbackRequest.state.in_((S.ORIGINATING, S.WAITING, S.CALLING)))))
        s.expunge_all()
        return rows


def requeue(db: Database, cb_id: int, from_state: str, now: datetime, why: str) -> str | None:
    """A placeholder that is gone (never joined, or lost with an Asterisk restart) while
    still ``from_state``: a new one is due now; a lost dial attempt counts as failed."""
    with db.session() as s:
        row = s.get(CallbackRequest, cb_id, with_for_update=True)
        if row is None or row.state != from_state:
            return None
        if from_state == S.CALLING:
            _back(row, now, why, *cb.after_attempt(row.attempts, False, now))
        else:
            _back(row, now, why, S.REQUESTED, now)
        return row.state


def _back(row: CallbackRequest, now: datetime, why: str, state: str,
          due: datetime | None) -> None:
    """Leave the placeholder behind: ``requested`` again (due at ``due``) or ``failed``."""
    row.state, row.due_at, row.updated_at, row.detail = state, due, now, why
    row.placeholder_uniqueid = row.placeholder_channel = None
    if state == S.FAILED:
        row.ended_at = now


def claim_hold(db: Database, cb_id: int, uniqueid: str, channel: str,
               now: datetime) -> Hold | None:
    """The placeholder is about to join: ``waiting``, at the caller's place in line.
    None for a stale or duplicate placeholder (it hangs up)."""
    with db.session() as s:
        row = s.get(CallbackRequest, cb_id, with_for_update=True)
        if row is None or row.state != S.ORIGINATING:
            return None
        row.state, row.updated_at = S.WAITING, now
        row.placeholder_uniqueid, row.placeholder_channel = uniqueid, channel
        row.position = cb.position_in_line(row.arrival_at, _waiting_arrivals(s, row, now))
        return Hold(row.queue, row.number, row.position)


def _waiting_arrivals(s: Session, me: CallbackRequest, now: datetime) -> list[datetime]:
    """When each caller now waiting in ``me.queue`` first arrived (a placeholder counts from
    its own caller's arrival)."""
    open_calls = calls.waiting(s, me.queue, now - WAITING_HORIZON)
    placeholders = {uid: at for uid, at in s.execute(select(
        CallbackRequest.placeholder_uniqueid, CallbackRequest.arrival_at).where(
        CallbackRequest.queue == me.queue, CallbackRequest.id != me.id,
        CallbackRequest.placeholder_uniqueid.is_not(None)))}
    return [placeholders.get(uid, entered) for uid, entered in open_calls
            if uid != me.original_uniqueid]


def start_dial(db: Database, cb_id: int, now: datetime,
               from_state: str = S.WAITING) -> str | None:
    """An agent answered the placeholder (or, through Twilio, the worker is placing the call
    from ``originating``): ``calling``; returns the dial string."""
    with db.session() as s:
        row = s.get(CallbackRequest, cb_id, with_for_update=True)
        if row is None or row.state != from_state:
            return None
        row.state, row.calling_at, row.updated_at = S.CALLING, now, now
        row.attempts += 1
        return row.dial


def finish_dial(db: Database, cb_id: int, dial_status: str, answered_s: int,
                now: datetime, call_id: str | None = None) -> str | None:
    """The callback's dial ended: ``connected``, or another try later, or ``failed``.
    ``call_id``: the answered call that now waits in line for the resident (Twilio's)."""
    with db.session() as s:
        row = s.get(CallbackRequest, cb_id, with_for_update=True)
        if row is None or row.state != S.CALLING:
            return None
        if dial_status == "ANSWER":
            row.state, row.due_at = S.CONNECTED, None
            row.placeholder_uniqueid = call_id or row.placeholder_uniqueid
            row.connected_at = now - timedelta(seconds=max(0, answered_s))
            row.ended_at, row.updated_at, row.detail = now, now, "ANSWER"
            return row.state
        _back(row, now, dial_status or "NOANSWER", *cb.after_attempt(row.attempts, False, now))
        return row.state


def answered_by(db: Database, cb_id: int, call_id: str) -> bool:
    """The callback was answered on this very call (a repeated answer webhook: Twilio's
    retry of a request whose answer it did not get)."""
    with db.session() as s:
        row = s.get(CallbackRequest, cb_id)
        return bool(call_id) and row is not None and row.state == S.CONNECTED \
            and row.placeholder_uniqueid == call_id


def give_up(db: Database, cb_id: int, now: datetime, why: str) -> str | None:
    """A dial that can never succeed (the number is refused): ``failed`` now, with the reason."""
    with db.session() as s:
        row = s.get(CallbackRequest, cb_id, with_for_update=True)
        if row is None or row.state != S.CALLING:
            return None
        _back(row, now, why[:500], S.FAILED, None)
        return row.state


def left_queue(db: Database, cb_id: int, queue_status: str, now: datetime) -> str | None:
    """The placeholder left the queue without an agent (closed, emptied): try again later."""
    with db.session() as s:
        row = s.get(CallbackRequest, cb_id, with_for_update=True)
        if row is None or row.state != S.WAITING:
            return None
        row.attempts += 1
        _back(row, now, f"queue {queue_status or 'left'}",
              *cb.after_attempt(row.attempts, False, now))
        return row.state


def mark_original(db: Database, original_uniqueid: str) -> None:
    """Close the original call's record as ``callback`` if the live stream wrote it later."""
    with db.session() as s:
        calls.relabel_callback(s, original_uniqueid)
