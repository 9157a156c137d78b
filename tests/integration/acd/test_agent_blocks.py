"""The agent rollups' blocks of whole city days (acd.day_blocks), on 70 days of spans and
calls in New York's zone (a DST change inside): every block is the sum of its days; agent
time and calls per agent over any range (a calendar month, 30 days, odd edges) read the
blocks and equal the spans and records; a late span in an old day counts once that day is
rolled up again; a database upgraded to 0313 (no blocks yet) reads its day rows until the
next run builds them all; rezoned day rows get rezoned blocks."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update

from acd import agent_calls, agent_time, day_blocks, queries, rollup
from acd.metrics import staffing
from acd.models import (
    AgentCallBlock,
    AgentCallDay,
    AgentStateSpan,
    AgentStateTime,
    CallRecord,
    LiveState,
)
from acd.slices import day_ceil
from foundation.db import Database, utcnow

ZONE = "America/New_York"
TZ = ZoneInfo(ZONE)
DAY_MIN = 24 * 60
Span = tuple[str, str, str, datetime, datetime]


def seed(db: Database, first: datetime, end: datetime) -> tuple[list[Span], list[Any]]:
    rnd = random.Random(70)
    spans: list[Span] = []
    for agent in ("100", "101", "102"):
        t = first + timedelta(seconds=rnd.uniform(0, 3600))
        while t < end:
            state = rnd.choice(("available", "on_call", "wrapup", "paused"))
            t1 = min(end, t + timedelta(seconds=rnd.uniform(600, 9000)))
            spans.append((agent, state, "lunch" if state == "paused" else "", t, t1))
            t = t1
    calls = []
    t = first
    while (t := t + timedelta(seconds=rnd.expovariate(1 / 1500))) < end:
        agent = rnd.choice(("100", "101", "102", None))
        calls.append((rnd.choice(("citywide", "noise")), t, agent))
    with db.session() as s:
        s.add_all(AgentStateSpan(agent=a, state=st, reason=r, started_at=t0, ended_at=t1)
                  for a, st, r, t0, t1 in spans)
        s.add_all(CallRecord(uniqueid=f"b{i}", queue=q, entered_at=t, source="ami",
                             outcome="answered" if a else "abandoned", agent=a, wait_s=4.0,
                             talk_s=90.0 if a else None) for i, (q, t, a) in enumerate(calls))
    return spans, calls


def clipped(spans: list[Span], lo: datetime, hi: datetime) -> dict[tuple[str, str, str], float]:
    out: dict[tuple[str, str, str], float] = {}
    for a, st, r, t0, t1 in spans:
        sec = (min(t1, hi) - max(t0, lo)).total_seconds()
        if sec > 0:
            out[(a, st, r)] = out.get((a, st, r), 0.0) + sec
    return out


def answered(calls: list[Any], lo: datetime, hi: datetime) -> dict[tuple[str, str], int]:
    return dict(Counter((q, a) for q, t, a in calls if a and lo <= t < hi))


def equal(db: Database, spans: list[Span], calls: list[Any], lo: datetime,
          hi: datetime) -> None:
    with db.session() as s:
        got, want = queries.state_seconds(s, lo, hi), clipped(spans, lo, hi)
        assert set(got) == set(want), (lo, hi)
        assert all(abs(got[k] - want[k]) < 1e-6 for k in want), (lo, hi)
        assert queries.answered_by_agent(s, lo, hi) == answered(calls, lo, hi), (lo, hi)
        # all queues: the same occupancy and calls per agent from sums made in SQL
        whole = queries.staffing_of_all(s, lo, hi)
        per_agent = staffing(*queries.staffing_inputs(s, lo, hi))
        assert (whole.answered, whole.agents) == (per_agent.answered, per_agent.agents) > (0, 0)
        assert abs(whole.handle_s - per_agent.handle_s) < 1e-6
        assert abs(whole.staffed_s - per_agent.staffed_s) < 1e-6 and whole.staffed_s > 0


def midnight(d: date) -> datetime:
    """In UTC: arithmetic on times of one zone would be wall-clock time across DST."""
    return datetime.combine(d, time(), TZ).astimezone(UTC)


def blocks_sum_their_days(db: Database, first: datetime) -> int:
    """Every block row equals the sum of the day rows it spans; how many blocks there are."""
    with db.session() as s:
        rows = s.execute(select(AgentStateTime.minutes, AgentStateTime.interval_start,
                                AgentStateTime.agent, AgentStateTime.state,
                                AgentStateTime.reason, AgentStateTime.seconds)
                         .where(AgentStateTime.minutes >= DAY_MIN)).all()
        days = {(t, a, st, r): sec for m, t, a, st, r, sec in rows if m == DAY_MIN}
        calls = {(d.day, d.queue, d.agent): d.answered for d in s.scalars(select(AgentCallDay))}
        call_blocks = s.scalars(select(AgentCallBlock)).all()
    blocks = [row for row in rows if row[0] > DAY_MIN]
    for m, t, a, st, r, sec in blocks:
        k = m // DAY_MIN
        n = day_blocks.number(t, ZONE)
        inside = {day_blocks.start(n + i, ZONE) for i in range(k)}
        assert abs(sec - sum(v for (d, a2, st2, r2), v in days.items()
                             if d in inside and (a2, st2, r2) == (a, st, r))) < 1e-6
    for b in call_blocks:
        n = day_blocks.number(b.day, ZONE)
        inside = {day_blocks.start(n + i, ZONE) for i in range(b.days)}
        assert b.answered == sum(v for (d, q, a), v in calls.items()
                                 if d in inside and (q, a) == (b.queue, b.agent))
    whole = day_blocks.number(day_ceil(first, ZONE), ZONE)  # the first whole day covered
    levels = {k for _, k in day_blocks.complete(whole, day_blocks.number(utcnow(), ZONE))}
    assert len(levels) >= 4
    assert {m // DAY_MIN for m, *_ in blocks} == {b.days for b in call_blocks} == levels
    return len(blocks)


def test_blocks_of_days_sum_their_days_and_reports_read_them_exactly(
        database: Database) -> None:
    now = utcnow()
    today = now.astimezone(TZ).date()
    first = midnight(today - timedelta(days=70)) + timedelta(hours=5, minutes=3)
    end = now - timedelta(minutes=30)
    spans, calls = seed(database, first, end)
    rollup.rollup(database, first, now + timedelta(minutes=15), [30], 5, ZONE)
    with database.session() as s:
        assert rollup.blocks_zone(s) == ZONE
    assert blocks_sum_their_days(database, first) > 50

    month = today.replace(day=1) - timedelta(days=1)  # last calendar month: whole days
    ranges = [(midnight(month.replace(day=1)), midnight(month + timedelta(days=1))),
              (midnight(today - timedelta(days=31)), midnight(today - timedelta(days=1))),
              (first + timedelta(hours=7, seconds=1.5), now - timedelta(hours=3)),
              (midnight(today - timedelta(days=45)) + timedelta(minutes=45),
               midnight(today - timedelta(days=2)) + timedelta(hours=13))]
    for lo, hi in ranges:
        equal(database, spans, calls, lo, hi)

    lo, hi = ranges[1]  # the reports read the blocks: a block changed shows in them
    n = day_blocks.number(lo, ZONE)
    n, k = next((b, k) for b, k in day_blocks.cover(n, n + 30)[0] if k >= 8)
    key = AgentStateTime.minutes == k * DAY_MIN, \
        AgentStateTime.interval_start == day_blocks.start(n, ZONE)
    with database.session() as s:
        before = queries.state_seconds(s, lo, hi)
        s.execute(update(AgentStateTime).where(*key).values(seconds=AgentStateTime.seconds + 7))
    with database.session() as s:
        changed = queries.state_seconds(s, lo, hi)
        s.execute(update(AgentStateTime).where(*key).values(seconds=AgentStateTime.seconds - 7))
    assert any(abs(changed[k2] - before[k2] - 7) < 1e-6 for k2 in before)

    # a span stored late, 40 days back, and the rollup run again over that day only
    late_day = midnight(today - timedelta(days=40))
    late: Span = ("103", "paused", "training", late_day + timedelta(hours=9),
                  late_day + timedelta(hours=10))
    with database.session() as s:
        s.add(AgentStateSpan(agent=late[0], state=late[1], reason=late[2], started_at=late[3],
                             ended_at=late[4]))
    rollup.rollup(database, late_day, late_day + timedelta(days=1), [30], 5, ZONE)
    spans.append(late)
    blocks_sum_their_days(database, first)
    for lo, hi in ranges:
        equal(database, spans, calls, lo, hi)


def test_an_upgraded_database_reads_days_until_its_blocks_are_built_and_rezone(
        database: Database) -> None:
    now = utcnow()
    today = now.astimezone(TZ).date()
    first = midnight(today - timedelta(days=40))
    spans, calls = seed(database, first, now - timedelta(minutes=30))
    rollup.rollup(database, first, now + timedelta(minutes=15), [30], 5, ZONE)
    with database.session() as s:  # as 0313 finds a database: day rows, no blocks
        s.execute(delete(AgentStateTime).where(AgentStateTime.minutes > DAY_MIN))
        s.execute(delete(AgentCallBlock))
        s.execute(delete(LiveState).where(LiveState.name == rollup.AGENT_BLOCKS))
    month = (midnight(today - timedelta(days=33)), midnight(today - timedelta(days=2)))
    equal(database, spans, calls, *month)
    rollup.rollup(database, now - timedelta(hours=2), now + timedelta(minutes=15), [30], 5,
                  ZONE)  # the worker's next minute
    assert blocks_sum_their_days(database, first) > 20
    equal(database, spans, calls, *month)

    rollup.rollup(database, now - timedelta(hours=2), now + timedelta(minutes=15), [30], 5,
                  "UTC")  # the city's zone changed: days and blocks again, in UTC
    with database.session() as s:
        assert rollup.blocks_zone(s) == rollup.coverage_zone(s, rollup.AGENT_COVERAGE) == "UTC"
        starts = set(s.scalars(select(AgentCallBlock.day)))
        assert starts and all(t.hour == 0 and t.minute == 0 for t in starts)
        utc_month = (datetime.combine(today - timedelta(days=33), time(), UTC),
                     datetime.combine(today - timedelta(days=2), time(), UTC))
        got = agent_calls.from_rollups(s, *utc_month, "UTC", True)
        assert got == answered(calls, *utc_month)
        seconds = agent_time.from_rollups(s, *utc_month, "UTC", True)
        want = clipped(spans, *utc_month)
        assert set(seconds) == set(want)
        assert all(abs(seconds[k] - want[k]) < 1e-6 for k in want)
