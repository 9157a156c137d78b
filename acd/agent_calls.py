"""Calls answered per queue and agent over a period, from the records or their day rollups.

The rollup (``agent_call_days``) is rebuilt by the same run that rebuilds
``interval_stats`` (``rollup.rollup``): every city day the run's window touches is counted
again from its records, whole, so any window can be re-run without doubling. Readers take
the day rows only for whole days inside the settled span (``rollup.settled``, the agent
rollups' coverage, whose ``zone`` the days are in: UTC for rows from before 0308, the
city's after the next rollup run) and count the edges and the unsettled tail from the
records, so a month report of the city's days reads day rows only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from acd.models import AgentCallDay, CallRecord
from acd.slices import day_ceil, day_floor, next_day
from acd.states import CallOutcome
from foundation.db import UTCDateTime

Answered = dict[tuple[str, str], int]  # (queue, agent) -> calls answered
FIELDS = ("day", "queue", "agent", "answered", "computed_at")


def _answered(start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(CallRecord.entered_at >= start, CallRecord.entered_at < end,
                CallRecord.outcome == CallOutcome.ANSWERED, CallRecord.agent.is_not(None))


def from_records(s: Session, start: datetime, end: datetime) -> Answered:
    if start >= end:
        return {}
    rows = s.execute(select(CallRecord.queue, CallRecord.agent, func.count())
                     .where(_answered(start, end))
                     .group_by(CallRecord.queue, CallRecord.agent))
    return {(q, str(a)): int(n) for q, a, n in rows}


def from_rollups(s: Session, first: datetime, horizon: datetime, zone: str) -> Answered:
    """The calls of [first, horizon): day rows for the whole days of ``zone`` (the day
    rows') inside, the records for the edges."""
    d0, d1 = day_ceil(first, zone), day_floor(horizon, zone)
    if d0 >= d1:
        return from_records(s, first, horizon)
    q = AgentCallDay
    out: Answered = {(queue, agent): int(n) for queue, agent, n in s.execute(
        select(q.queue, q.agent, func.sum(q.answered)).where(q.day >= d0, q.day < d1)
        .group_by(q.queue, q.agent))}
    for lo, hi in ((first, d0), (d1, horizon)):
        for key, n in from_records(s, lo, hi).items():
            out[key] = out.get(key, 0) + n
    return out


def rebuild(s: Session, start: datetime, until: datetime, now: datetime, zone: str) -> None:
    """Count again every day of ``zone`` (the city's) [start, until) touches, each from its
    own records."""
    day = day_floor(start, zone)
    while day < until:
        end = next_day(day, zone)
        s.execute(delete(AgentCallDay).where(AgentCallDay.day == day))
        s.execute(insert(AgentCallDay).from_select(FIELDS, select(
            literal(day, UTCDateTime()), CallRecord.queue, CallRecord.agent, func.count(),
            literal(now, UTCDateTime()))
            .where(_answered(day, end)).group_by(CallRecord.queue, CallRecord.agent)))
        day = end


def rezone(s: Session, since: datetime, until: datetime, zone: str, now: datetime) -> None:
    """Every day row again, as the days of ``zone`` within [since, until) (the city moved
    zone, or rows of a database from before 0308 hold UTC days)."""
    s.execute(delete(AgentCallDay))
    rebuild(s, since, until, now, zone)
