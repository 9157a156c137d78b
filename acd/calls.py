"""The call record as other capabilities see it: the only way they read or annotate it.

Plain functions over a Session; they return the model where a caller needs the row, else
plain values. acd's own recorder and reconciliation write the rest of the record.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from acd import twilio_events
from acd.models import CALLBACK_PATH_PREFIX, CallRecord
from acd.recorder import apply_events
from acd.states import CALLBACK_REPLACES, CallOutcome

__all__ = ["CALLBACK_PATH_PREFIX", "CallOutcome", "CallRecord", "answered_uniqueids",
           "arrivals", "average_handle_s", "by_uniqueid", "call_ended", "close_as_callback",
           "current_call", "finished_answered", "history", "last_call", "left_queue",
           "link_ticket", "relabel_callback", "ticket_numbers", "waiting", "wrap_up"]


def by_uniqueid(session: Session, uniqueid: str) -> CallRecord | None:
    """The call record of ``uniqueid`` (its newest leg), None if there is none."""
    return session.scalar(select(CallRecord).where(CallRecord.uniqueid == uniqueid)
                          .order_by(CallRecord.leg.desc()).limit(1))


def current_call(session: Session, ext: str | None) -> CallRecord | None:
    """The call the agent is on now: answered by ``ext``, no outcome yet; newest first."""
    if not ext:
        return None
    return session.scalar(select(CallRecord).where(
        CallRecord.agent == ext, CallRecord.answered_at.is_not(None),
        CallRecord.outcome.is_(None)).order_by(CallRecord.answered_at.desc(),
                                               CallRecord.id.desc()).limit(1))


def last_call(session: Session, ext: str | None) -> CallRecord | None:
    """The call to wrap up: the current one, else the newest answered call not wrapped up."""
    call = current_call(session, ext)
    if call is not None or not ext:
        return call
    return session.scalar(select(CallRecord).where(
        CallRecord.agent == ext, CallRecord.answered_at.is_not(None),
        CallRecord.call_type.is_(None)).order_by(CallRecord.answered_at.desc()).limit(1))


def link_ticket(call: CallRecord, number: str | None) -> None:
    """Note the ticket opened for the caller on the call's record."""
    call.ticket_number = number


def wrap_up(call: CallRecord, call_type: str | None, number: str | None) -> None:
    """The agent's wrap-up: the call type and the ticket number (if any)."""
    call.call_type, call.ticket_number = call_type, number


def average_handle_s(session: Session, queue: str, since: datetime) -> float | None:
    """Mean talk (hold included) + after-call work of calls answered in ``queue`` since
    ``since``."""
    avg = session.scalar(select(func.avg(CallRecord.talk_s + CallRecord.acw_s))
                         .where(CallRecord.queue == queue,
                                CallRecord.outcome == CallOutcome.ANSWERED,
                                CallRecord.entered_at >= since,
                                CallRecord.talk_s.is_not(None)))
    return float(avg) if avg else None


def waiting(session: Session, queue: str, since: datetime) -> list[tuple[str, datetime]]:
    """(uniqueid, entered_at) of the calls still waiting in ``queue`` that entered since."""
    rows = session.execute(select(CallRecord.uniqueid, CallRecord.entered_at).where(
        CallRecord.queue == queue, CallRecord.outcome.is_(None),
        CallRecord.answered_at.is_(None), CallRecord.entered_at >= since)).all()
    return [(uid, at) for uid, at in rows]


def close_as_callback(call: CallRecord, now: datetime) -> None:
    """A caller booked a callback: their unanswered call ends as ``callback``."""
    if call.answered_at is None and call.outcome in (None, *CALLBACK_REPLACES):
        call.outcome = CallOutcome.CALLBACK
        call.ended_at = call.ended_at or now
        call.hangup_side = None


def relabel_callback(session: Session, uniqueid: str) -> None:
    """Relabel an unanswered exit/abandon as ``callback`` (the live stream wrote it late)."""
    session.execute(update(CallRecord).where(
        CallRecord.uniqueid == uniqueid, CallRecord.answered_at.is_(None),
        CallRecord.outcome.in_(CALLBACK_REPLACES)).values(outcome=CallOutcome.CALLBACK))


def finished_answered(session: Session, since: datetime, until: datetime,
                      exclude: Any) -> list[CallRecord]:
    """Answered calls that ended in [since, until], oldest first, uniqueid not in ``exclude``
    (a list or a subquery of uniqueids)."""
    return list(session.scalars(
        select(CallRecord).where(
            CallRecord.outcome == CallOutcome.ANSWERED, CallRecord.ended_at.is_not(None),
            CallRecord.ended_at >= since, CallRecord.ended_at <= until,
            CallRecord.uniqueid.not_in(exclude))
        .order_by(CallRecord.ended_at)))


def finished_attended(session: Session, since: datetime, until: datetime) -> list[CallRecord]:
    """Answered calls handed on by an attended transfer that ended in [since, until], oldest
    first (their consultation may have its own recording)."""
    return list(session.scalars(
        select(CallRecord).where(
            CallRecord.outcome == CallOutcome.ANSWERED, CallRecord.transfer_kind == "attended",
            CallRecord.ended_at.is_not(None), CallRecord.ended_at >= since,
            CallRecord.ended_at <= until)
        .order_by(CallRecord.ended_at)))


def answered_uniqueids(session: Session, uniqueids: Iterable[str]) -> set[str]:
    """Those of ``uniqueids`` whose call was answered."""
    return set(session.scalars(select(CallRecord.uniqueid).where(
        CallRecord.uniqueid.in_(list(uniqueids)), CallRecord.outcome == CallOutcome.ANSWERED)))


def ticket_numbers(session: Session, call_ids: Any) -> dict[int, str]:
    """call id -> the ticket number on its record, for those of ``call_ids`` (a subquery of
    call ids) that have one."""
    rows = session.execute(select(CallRecord.id, CallRecord.ticket_number).where(
        CallRecord.id.in_(call_ids), CallRecord.ticket_number.is_not(None)))
    return {cid: number for cid, number in rows if number is not None}


def history(session: Session, queue: str | None, start: datetime, end: datetime
            ) -> list[tuple[datetime, str | None, float | None, float, float | None]]:
    """(entered_at, outcome, talk_s, acw_s, hold_s) of calls queued in [start, end); talk
    includes hold, and hold_s is None where it was not measured."""
    q = select(CallRecord.entered_at, CallRecord.outcome, CallRecord.talk_s, CallRecord.acw_s,
               CallRecord.hold_s).where(CallRecord.entered_at >= start,
                                        CallRecord.entered_at < end)
    if queue:
        q = q.where(CallRecord.queue == queue)
    return [(a, b, c, d, e) for a, b, c, d, e in session.execute(q)]


def arrivals(session: Session, queue: str, start: datetime, end: datetime) -> list[datetime]:
    """When each call offered to ``queue`` in [start, end) entered it (one column: cheap)."""
    return list(session.scalars(select(CallRecord.entered_at).where(
        CallRecord.queue == queue, CallRecord.entered_at >= start, CallRecord.entered_at < end)))


def left_queue(session: Session, uniqueid: str, queue: str, wait_s: float,
               outcome: CallOutcome, now: datetime, *, source: str,
               caller_number: str | None = None, ivr_path: str | None = None,
               ticket_number: str | None = None) -> CallRecord:
    """A call left a queue the telephony edge does not report through AMI (Twilio):
    the recorder applies it as events (creating the row on first sight); a repeat is a no-op."""
    if source != twilio_events.SOURCE:
        raise ValueError(f"no events for calls reported by {source!r}")
    new = session.scalar(select(CallRecord.id).where(CallRecord.uniqueid == uniqueid)) is None
    apply_events(session, twilio_events.queue_left(now, uniqueid, queue, wait_s, outcome,
                                                   caller_number, ivr_path))
    if new and ticket_number is not None:  # not the recorder's: the IVR's note on the row
        session.execute(update(CallRecord).where(CallRecord.uniqueid == uniqueid)
                        .values(ticket_number=ticket_number))
    rec = session.scalar(select(CallRecord).where(CallRecord.uniqueid == uniqueid)
                         .execution_options(populate_existing=True))
    if rec is None:  # the recorder writes it: not having it is a bug, said plainly
        raise RuntimeError(f"the recorder kept no record of call {uniqueid}")
    return rec


def call_ended(session: Session, uniqueid: str, now: datetime) -> None:
    """The call hung up (Twilio's terminal status): end its record, talk time up to now."""
    row = session.execute(select(CallRecord.queue, CallRecord.answered_at, CallRecord.ended_at,
                                 CallRecord.wait_s)
                          .where(CallRecord.uniqueid == uniqueid)).first()
    if row is None or row.ended_at is not None:
        return
    if row.answered_at is not None:
        apply_events(session, [twilio_events.hung_up(now, uniqueid, row.queue, row.answered_at,
                                                     row.wait_s or 0.0)])
    else:  # never left a queue (no Enqueue action came): no outcome to decide
        session.execute(update(CallRecord).where(CallRecord.uniqueid == uniqueid)
                        .values(ended_at=now))
