"""Writes and reads of outbound call records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.outbound.models import OutboundCall, OutboundOutcome, Purpose

# Asterisk's DIALSTATUS -> the outcome of the call
DIAL_OUTCOMES = {
    "ANSWER": OutboundOutcome.ANSWERED,
    "NOANSWER": OutboundOutcome.NO_ANSWER,
    "CANCEL": OutboundOutcome.NO_ANSWER,  # the agent hung up while it rang
    "BUSY": OutboundOutcome.BUSY,
}


def request(session: Session, *, agent: str, by: str | None, purpose: Purpose, number: str,
            kind: str, queue: str, now: datetime) -> OutboundCall:
    """The record of a call the desktop is about to place (the dialplan fills in the rest)."""
    call = OutboundCall(agent=agent, requested_by=by, purpose=purpose, number=number,
                        kind=kind, queue=queue, requested_at=now)
    session.add(call)
    session.flush()
    return call


def agent_missed(session: Session, call_id: int, now: datetime) -> None:
    """The agent's phone never answered the desktop's call: nothing was dialled."""
    call = session.get(OutboundCall, call_id)
    if call is not None and call.outcome is None and call.started_at is None:
        call.outcome, call.ended_at = OutboundOutcome.AGENT_MISSED, now


def start(session: Session, call_id: int | None, *, uniqueid: str, agent: str | None,
          number: str, to_carrier: str, kind: str, default_queue: str,
          now: datetime, caller_id: str | None = None) -> OutboundCall:
    """The dialplan is about to dial: the desktop's record (``call_id``), or a new one for a
    desk phone dialling by itself."""
    call = session.get(OutboundCall, call_id) if call_id is not None else None
    if call is None or call.started_at is not None:
        call = OutboundCall(agent=agent, purpose=Purpose.OTHER, number=number, kind=kind,
                            queue=default_queue, requested_at=now)
        session.add(call)
    call.uniqueid, call.to_carrier, call.started_at = uniqueid, to_carrier, now
    call.kind, call.number, call.caller_id = kind, number, caller_id
    session.flush()
    return call


def finish(session: Session, call_id: int, dial_status: str, answered_s: float | None,
           now: datetime) -> OutboundCall | None:
    """The dial ended with ``dial_status`` (Asterisk's DIALSTATUS) after ``answered_s``
    seconds of talk (ANSWEREDTIME); a second report changes nothing."""
    call = session.get(OutboundCall, call_id)
    if call is None or call.outcome is not None:
        return call
    call.dial_status = dial_status[:16] or None
    call.outcome = DIAL_OUTCOMES.get(dial_status, OutboundOutcome.FAILED)
    call.talk_s = answered_s if call.outcome is OutboundOutcome.ANSWERED else 0.0
    call.ended_at = now
    return call


def between(session: Session, start_at: datetime, end_at: datetime,
            agent: str | None = None, limit: int = 1000) -> list[OutboundCall]:
    q = select(OutboundCall).where(OutboundCall.requested_at >= start_at,
                                   OutboundCall.requested_at < end_at)
    if agent is not None:
        q = q.where(OutboundCall.agent == agent)
    return list(session.scalars(q.order_by(OutboundCall.requested_at.desc()).limit(limit)))


@dataclass(frozen=True)
class Summary:
    """Outbound figures of a period (apart from every inbound queue metric)."""

    calls: int  # placed (the agent's phone answered and a number was dialled)
    answered: int
    talk_s: float
    by_kind: dict[str, int]
    by_outcome: dict[str, int]

    @property
    def answer_rate(self) -> float | None:
        return self.answered / self.calls if self.calls else None

    @property
    def average_talk_s(self) -> float | None:
        return self.talk_s / self.answered if self.answered else None


def summarize(calls: list[OutboundCall]) -> Summary:
    placed = [c for c in calls if c.started_at is not None]
    answered = [c for c in placed if c.outcome == OutboundOutcome.ANSWERED]
    by_kind: dict[str, int] = {}
    by_outcome: dict[str, int] = {}
    for c in placed:
        by_kind[c.kind] = by_kind.get(c.kind, 0) + 1
    for c in calls:
        key = c.outcome or "live"
        by_outcome[key] = by_outcome.get(key, 0) + 1
    return Summary(len(placed), len(answered), sum(c.talk_s or 0.0 for c in answered),
                   by_kind, by_outcome)


def finished_answered(session: Session, since: datetime, until: datetime,
                      exclude: Any) -> list[OutboundCall]:
    """Answered outbound calls that ended in [since, until], oldest first, their uniqueid
    known and not in ``exclude`` (a list or a subquery): the ones whose recording the
    recordings catalog takes, as ``acd.calls.finished_answered`` gives the queue calls."""
    return list(session.scalars(
        select(OutboundCall).where(
            OutboundCall.outcome == OutboundOutcome.ANSWERED, OutboundCall.uniqueid.is_not(None),
            OutboundCall.ended_at.is_not(None), OutboundCall.ended_at >= since,
            OutboundCall.ended_at <= until, OutboundCall.uniqueid.not_in(exclude))
        .order_by(OutboundCall.ended_at)))
