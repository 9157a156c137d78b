"""Calls answered per queue and agent over a period, from the records or their day rollups.

The rollup (``agent_call_days``) is rebuilt by the same run that rebuilds
``interval_stats`` (``rollup.rollup``): every city day the run's window touches is counted
again from its records, whole, so any window can be re-run without doubling. Readers take
the day rows only for whole days inside the settled span (``rollup.settled``, the agent
rollups' coverage, whose ``zone`` the days are in: UTC for rows from before 0308, the
city's after the next rollup run) and count the edges and the unsettled tail from the
records, so a month report of the city's days reads day rows only; above them, blocks of
2-32 whole days (``agent_call_blocks``, ``acd.day_blocks``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from acd import day_blocks
from acd.models import AgentCallBlock, AgentCallDay, CallRecord
from acd.slices import day_ceil, day_floor, next_day
from acd.states import CallOutcome
from foundation.db import UTCDateTime

Answered = dict[tuple[str, str], int]  # (queue, agent) -> calls answered
FIELDS = ("day", "queue", "agent", "answered", "computed_at")
BLOCK_FIELDS = ("days", "day", "queue", "agent", "answered", "computed_at")


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


def from_rollups(s: Session, first: datetime, horizon: datetime, zone: str,
                 blocks: bool = False, every_queue: bool = False) -> Answered:
    """The calls of [first, horizon): the whole days of ``zone`` (the day rows') inside as
    blocks of days (``blocks``: they are built) and day rows, the records for the edges.
    ``every_queue``: per agent over all queues (the queue ""), one row per agent."""
    d0, d1 = day_ceil(first, zone), day_floor(horizon, zone)
    if d0 >= d1:
        return _per_agent(from_records(s, first, horizon)) if every_queue else \
            from_records(s, first, horizon)
    q, b = AgentCallDay, AgentCallBlock
    parts = day_blocks.starts(d0, d1, zone) if blocks else {}
    where_blocks = or_(false(), *(and_(b.days == k, b.day.in_(days))  # none: no blocks
                                  for k, days in parts.items() if k > 1))
    where_days = q.day.in_(parts.get(1, [])) if blocks else and_(q.day >= d0, q.day < d1)
    if every_queue:  # one statement: the blocks' and the days' rows summed per agent
        both = union_all(select(b.agent, b.answered).where(where_blocks),
                         select(q.agent, q.answered).where(where_days)).subquery()
        out: Answered = {("", agent): int(n) for agent, n in s.execute(
            select(both.c.agent, func.sum(both.c.answered)).group_by(both.c.agent))}
    else:
        out = {}
        for read in (select(b.queue, b.agent, func.sum(b.answered)).where(where_blocks)
                     .group_by(b.queue, b.agent),
                     select(q.queue, q.agent, func.sum(q.answered)).where(where_days)
                     .group_by(q.queue, q.agent)):
            for queue, agent, n in s.execute(read):
                out[(queue, agent)] = out.get((queue, agent), 0) + int(n)
    for lo, hi in ((first, d0), (d1, horizon)):
        edge = from_records(s, lo, hi)
        for key, n in (_per_agent(edge) if every_queue else edge).items():
            out[key] = out.get(key, 0) + n
    return out


def _per_agent(answered: Answered) -> Answered:
    out: Answered = {}
    for (_, agent), n in answered.items():
        out[("", agent)] = out.get(("", agent), 0) + n
    return out


def rebuild(s: Session, start: datetime, until: datetime, now: datetime, zone: str) -> None:
    """Count again every day of ``zone`` (the city's) [start, until) touches, each from its
    own records (the blocks above it: ``sum_block``)."""
    day = day_floor(start, zone)
    while day < until:
        end = next_day(day, zone)
        s.execute(delete(AgentCallDay).where(AgentCallDay.day == day))
        s.execute(insert(AgentCallDay).from_select(FIELDS, select(
            literal(day, UTCDateTime()), CallRecord.queue, CallRecord.agent, func.count(),
            literal(now, UTCDateTime()))
            .where(_answered(day, end)).group_by(CallRecord.queue, CallRecord.agent)))
        day = end


def sum_block(s: Session, n: int, k: int, zone: str, now: datetime) -> None:
    """The block of ``k`` days from day number ``n``: the sum of its two halves (day rows
    for a block of two)."""
    b, t0 = AgentCallBlock, day_blocks.start(n, zone)
    halves = [t0, day_blocks.start(n + k // 2, zone)]
    s.execute(delete(b).where(b.days == k, b.day == t0))
    half: Any = AgentCallDay if k == 2 else b
    s.execute(insert(b).from_select(BLOCK_FIELDS, select(
        literal(k), literal(t0, UTCDateTime()), half.queue, half.agent,
        func.sum(half.answered), literal(now, UTCDateTime()))
        .where(half.day.in_(halves), *([] if k == 2 else [b.days == k // 2]))
        .group_by(half.queue, half.agent)))


def drop_blocks(s: Session) -> None:
    s.execute(delete(AgentCallBlock))


def rezone(s: Session, since: datetime, until: datetime, zone: str, now: datetime) -> None:
    """Every day row again, as the days of ``zone`` within [since, until) (the city moved
    zone, or rows of a database from before 0308 hold UTC days)."""
    s.execute(delete(AgentCallDay))
    drop_blocks(s)
    rebuild(s, since, until, now, zone)
