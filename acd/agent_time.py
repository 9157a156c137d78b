"""Agent time per state over a period, from the spans or from their rollups.

The rollup (``agent_state_intervals``) is rebuilt by the same run that rebuilds
``interval_stats`` (``rollup.rollup``), over the same window and with the same rule:
recomputing an interval replaces its rows, so any window can be re-run (late or corrected
spans included) without doubling. A span still open at the run counts up to the run's
time; the readers take rollups only where they have settled (``rollup.settled``). Day rows
(``minutes`` = ``DAY_MINUTES``) hold city days (23 or 25 hours across DST) in the zone the
agent rollups' coverage names (UTC for rows from before 0308); above them, blocks of 2-32
whole days (``acd.day_blocks``: ``minutes`` = ``DAY_MINUTES`` x the block's days).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, literal, or_, select
from sqlalchemy.orm import Session

from acd import day_blocks, span_merge
from acd.models import AgentStateSpan, AgentStateTime, table
from acd.slices import (
    BASE_MINUTES,
    DAY_MINUTES,
    SpanRow,
    StateKey,
    day_ceil,
    day_floor,
    next_day,
    split,
    totals,
)
from foundation import bulk
from foundation.db import UTCDateTime

Seconds = dict[StateKey, float]  # (agent, state, reason) -> seconds
BATCH = 5000
FIELDS = ("minutes", "interval_start", "agent", "state", "reason", "seconds", "computed_at")
SPAN = AgentStateSpan


def rezone(s: Session, since: datetime, until: datetime, zone: str, now: datetime) -> None:
    """Every day row again, as the days of ``zone`` within [since, until) (the city moved
    zone, or rows of a database from before 0308 hold UTC days): sums of 15-minute rows.
    The blocks of days go too (``build_blocks`` makes them again)."""
    s.execute(delete(AgentStateTime).where(AgentStateTime.minutes >= DAY_MINUTES))
    day = day_floor(since, zone)
    while day < until:
        end = next_day(day, zone)
        sum_day(s, day, end, now)
        day = end


def _overlapping(start: datetime, end: datetime) -> tuple[list[Any], list[Any]]:
    """The two indexed conditions for the spans overlapping [start, end): open ones, and
    closed ones ending after ``start`` (the cost is the period's spans, not the history's)."""
    return ([SPAN.ended_at.is_(None), SPAN.started_at < end],
            [SPAN.ended_at > start, SPAN.started_at < end])


def span_rows(s: Session, start: datetime, end: datetime,
              agents: Collection[str] | None = None) -> list[SpanRow]:
    """The spans overlapping [start, end) (of ``agents`` only, if given), every node's
    merged into one timeline per agent (``span_merge``: no second counted twice)."""
    cols = (SPAN.agent, SPAN.state, SPAN.reason, SPAN.started_at, SPAN.ended_at, SPAN.node)
    only = [] if agents is None else [SPAN.agent.in_(sorted(agents))]
    return span_merge.merge((a, st, r, t0, t1, node) for where in _overlapping(start, end)
                            for a, st, r, t0, t1, node in s.execute(
                                select(*cols).where(*where, *only)))


def from_spans(s: Session, start: datetime, end: datetime) -> Seconds:
    """The seconds of the spans clipped to [start, end) (an open one runs to ``end``). On
    PostgreSQL summed in SQL, one row per agent, node, state and reason instead of one per
    span, and an agent found on several nodes summed again from its merged spans; SQLite
    sums in Python, as its timestamps are text and its date arithmetic is not exact to the
    microsecond."""
    out: Seconds = {}
    if start >= end:
        return out
    if s.get_bind().dialect.name != "postgresql":
        return totals(span_rows(s, start, end), start, end)
    t0, t1 = literal(start, UTCDateTime()), literal(end, UTCDateTime())
    lo = func.greatest(SPAN.started_at, t0)
    hi = func.least(func.coalesce(SPAN.ended_at, t1), t1)
    nodes: dict[str, set[str]] = {}
    for where in _overlapping(start, end):
        for a, node, st, r, total in s.execute(
                select(SPAN.agent, SPAN.node, SPAN.state, SPAN.reason,
                       func.sum(func.extract("epoch", hi - lo)))
                .where(*where, hi > lo)
                .group_by(SPAN.agent, SPAN.node, SPAN.state, SPAN.reason)):
            out[(a, st, r)] = out.get((a, st, r), 0.0) + float(total)
            nodes.setdefault(a, set()).add(node)
    shared = {a for a, on in nodes.items() if len(on) > 1}
    if shared:
        out = {k: v for k, v in out.items() if k[0] not in shared}
        out.update(totals(span_rows(s, start, end, shared), start, end))
    return out


def from_rollups(s: Session, first: datetime, horizon: datetime, zone: str,
                 blocks: bool = False, every_agent: bool = False) -> Seconds:
    """The rolled-up seconds of [first, horizon) (both on 15-minute boundaries): the whole
    days of ``zone`` (the day rows') inside as blocks of days (``blocks``: they are built)
    and day rows, 15-minute rows for the edges. ``every_agent``: summed over all agents,
    one key per state ("" for the agent and the reason), a few rows whatever the staff."""
    d0, d1 = day_ceil(first, zone), day_floor(horizon, zone)
    at, q = AgentStateTime.interval_start, AgentStateTime
    if d0 < d1:
        days = [and_(q.minutes == DAY_MINUTES, at >= d0, at < d1)]
        if blocks:
            days = [and_(q.minutes == DAY_MINUTES * k, at.in_(starts))
                    for k, starts in day_blocks.starts(d0, d1, zone).items()]
        where = or_(*days, and_(q.minutes == BASE_MINUTES, or_(and_(at >= first, at < d0),
                                                               and_(at >= d1, at < horizon))))
    else:
        where = and_(q.minutes == BASE_MINUTES, at >= first, at < horizon)
    if every_agent:
        return {("", st, ""): float(sec) for st, sec in s.execute(
            select(q.state, func.sum(q.seconds)).where(where).group_by(q.state))}
    rows = s.execute(select(q.agent, q.state, q.reason, func.sum(q.seconds)).where(where)
                     .group_by(q.agent, q.state, q.reason))
    return {(a, st, r): float(sec) for a, st, r, sec in rows}


def rebuild(s: Session, start: datetime, until: datetime, now: datetime, zone: str) -> int:
    """Replace the 15-minute rows of [start, until) (``start`` on a boundary) with the
    spans cut at the boundaries up to ``now``, one day of ``zone`` (the city's) at a time,
    and each touched day's row with the sum of its 15-minute rows (the blocks above it:
    ``sum_block``); returns the 15-minute rows written."""
    rows = table(AgentStateTime)
    s.execute(delete(AgentStateTime).where(
        AgentStateTime.minutes == BASE_MINUTES, AgentStateTime.interval_start >= start,
        AgentStateTime.interval_start < until))
    written = 0
    conn = s.connection()
    day = day_floor(start, zone)
    while day < until:
        end = next_day(day, zone)
        lo, hi = max(start, day), min(until, now, end)
        cut = split(span_rows(s, lo, hi), lo, hi) if lo < hi else {}
        batch = [{"minutes": BASE_MINUTES, "interval_start": t, "agent": a, "state": st,
                  "reason": r, "seconds": sec, "computed_at": now}
                 for (t, a, st, r), sec in cut.items()]
        for i in range(0, len(batch), BATCH):
            bulk.insert_rows(conn, rows, FIELDS, batch[i:i + BATCH])
        written += len(batch)
        sum_day(s, day, end, now)
        day = end
    return written


def sum_block(s: Session, n: int, k: int, zone: str, now: datetime) -> None:
    """The block of ``k`` days from day number ``n``: the sum of its two halves."""
    q, t0 = AgentStateTime, day_blocks.start(n, zone)
    s.execute(delete(q).where(q.minutes == DAY_MINUTES * k, q.interval_start == t0))
    s.execute(insert(q).from_select(FIELDS, select(
        literal(DAY_MINUTES * k), literal(t0, UTCDateTime()), q.agent, q.state, q.reason,
        func.sum(q.seconds), literal(now, UTCDateTime()))
        .where(q.minutes == DAY_MINUTES * (k // 2),
               q.interval_start.in_([t0, day_blocks.start(n + k // 2, zone)]))
        .group_by(q.agent, q.state, q.reason)))


def drop_blocks(s: Session) -> None:
    s.execute(delete(AgentStateTime).where(AgentStateTime.minutes > DAY_MINUTES))


def sum_day(s: Session, day: datetime, end: datetime, now: datetime) -> None:
    """The day row of [day, end) (a city day): the sum of its 15-minute rows."""
    q = AgentStateTime
    s.execute(delete(q).where(q.minutes == DAY_MINUTES, q.interval_start == day))
    s.execute(insert(q).from_select(FIELDS, select(
        literal(DAY_MINUTES), literal(day, UTCDateTime()), q.agent, q.state, q.reason,
        func.sum(q.seconds), literal(now, UTCDateTime()))
        .where(q.minutes == BASE_MINUTES, q.interval_start >= day,
               q.interval_start < end)
        .group_by(q.agent, q.state, q.reason)))
