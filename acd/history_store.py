"""Writes a generated call history (``acd.history``) in bulk, once: call records with their
ring attempts, and agent state spans.

Idempotent by marker: the history's calls carry ``source = "history"``; when any exist, the
history was written already and nothing is written again (a second ``seed demo`` adds no
calls).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from acd.history import SOURCE, History
from acd.models import AgentStateSpan, CallRecord, RingAttempt, table
from acd.recorder import FIELDS, RING_FIELDS
from acd.states import CallOutcome
from foundation import bulk

# a generated history is the default node's (the column's server default)
CALL_FIELDS = (*(f for f in FIELDS if f != "node"), "call_type", "ticket_number")
SPAN_FIELDS = ("agent", "state", "reason", "started_at", "ended_at")
BATCH = 5000


def period(session: Session) -> tuple[datetime, datetime] | None:
    """[first, last] entered_at of the stored history, None when there is none."""
    first = session.scalar(select(CallRecord.entered_at).where(CallRecord.source == SOURCE)
                           .order_by(CallRecord.entered_at).limit(1))
    last = session.scalar(select(CallRecord.entered_at).where(CallRecord.source == SOURCE)
                          .order_by(CallRecord.entered_at.desc()).limit(1))
    return None if first is None or last is None else (first, last)


def write(session: Session, history: History) -> int:
    """Insert the history's calls, rings and spans; returns the calls written (0: already)."""
    if period(session) is not None:
        return 0
    return insert(session, history)


def insert(session: Session, history: History) -> int:
    """Insert without looking for an earlier history (a benchmark writes one in chunks)."""
    conn = session.connection()
    for i in range(0, len(history.calls), BATCH):
        chunk = history.calls[i:i + BATCH]
        ids = dict((uid, cid) for cid, uid in bulk.insert_rows(
            conn, table(CallRecord), CALL_FIELDS, chunk, returning=("id", "uniqueid")))
        rings = [{**r, "call_id": ids[c["uniqueid"]]} for c in chunk for r in c["rings"]]
        bulk.insert_rows(conn, table(RingAttempt), RING_FIELDS, rings)
    for i in range(0, len(history.spans), BATCH):
        bulk.insert_rows(conn, table(AgentStateSpan), SPAN_FIELDS, history.spans[i:i + BATCH])
    return len(history.calls)



def answered(session: Session) -> list[tuple[int, str, str, str, datetime, float, str | None]]:
    """(id, uniqueid, queue, agent, answered_at, talk_s, ticket_number) of every answered
    generated call, oldest first."""
    rows = session.execute(select(
        CallRecord.id, CallRecord.uniqueid, CallRecord.queue, CallRecord.agent,
        CallRecord.answered_at, CallRecord.talk_s, CallRecord.ticket_number).where(
        CallRecord.source == SOURCE, CallRecord.outcome == CallOutcome.ANSWERED)
        .order_by(CallRecord.answered_at))
    return [(i, u, q, str(a), at, float(t or 0.0), n) for i, u, q, a, at, t, n in rows
            if at is not None]


def service_request_calls(session: Session) -> list[tuple[str, datetime]]:
    """(uniqueid, ended_at) of generated calls wrapped up as a service request."""
    rows = session.execute(select(CallRecord.uniqueid, CallRecord.ended_at).where(
        CallRecord.source == SOURCE, CallRecord.call_type == "service_request",
        CallRecord.ticket_number.is_(None)))
    return [(u, e) for u, e in rows if e is not None]


def link_tickets(session: Session, numbers: dict[str, str]) -> None:
    """Note each call's ticket (uniqueid -> ticket number) on its record."""
    if numbers:
        calls = table(CallRecord)
        session.connection().execute(
            calls.update().where(calls.c.uniqueid == bindparam("uid"))
            .values(ticket_number=bindparam("number")),
            [{"uid": u, "number": n} for u, n in numbers.items()])
