"""The call rollups at day grain (``day_stats``): each city day's row is the sum of that
day's 15-minute intervals (a DST day included: 23 or 25 hours), and a report over a range
read through the day rows, with partial days at both edges, equals the same report
computed from the call records; in another zone, or before the day rows are backfilled,
the reports read the intervals and stay equal. The agent rollups' day rows are the same
city days: agent time and calls per agent over that range equal the spans and records."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from acd import agent_calls, agent_time, day_stats, queries, range_report, rollup
from acd.definitions import Definitions
from acd.metrics import Summary, combine
from acd.models import (
    AgentCallDay,
    AgentStateSpan,
    AgentStateTime,
    CallRecord,
    DayStat,
    IntervalStat,
    LiveState,
    table,
)
from foundation.db import Database, utcnow

ZONE = "America/New_York"
TZ = ZoneInfo(ZONE)
THRESHOLDS = [30, 60]
OUTCOMES = ("answered", "answered", "answered", "abandoned", "timeout", "exit_key")


def dst_day() -> date:
    """The city's latest day before the last week that is not 24 hours long."""
    day = utcnow().astimezone(TZ).date() - timedelta(days=8)
    while day_stats.midnight(day + timedelta(days=1), TZ) - day_stats.midnight(day, TZ) \
            == timedelta(hours=24):
        day -= timedelta(days=1)
    return day


def seed(db: Database, first: date, days: int) -> None:
    rnd = random.Random(13)
    with db.session() as s:
        t = datetime.combine(first, time(), TZ)
        end = datetime.combine(first + timedelta(days=days), time(), TZ)
        i = 0
        while (t := t + timedelta(seconds=rnd.expovariate(1 / 700))) < end:
            outcome = rnd.choice(OUTCOMES)
            wait = round(rnd.uniform(0, 120), 3)
            s.add(CallRecord(uniqueid=f"d{i}", queue=rnd.choice(("citywide", "noise")),
                             entered_at=t, outcome=outcome, wait_s=wait,
                             talk_s=round(rnd.uniform(20, 400), 3) if outcome == "answered"
                             else None, hold_s=0, acw_s=0, source="ami",
                             agent="100" if outcome == "answered" else None))
            i += 1
        for agent in ("100", "101"):
            t = datetime.combine(first, time(), TZ)
            while t < end:
                state = rnd.choice(("available", "on_call", "wrapup", "paused"))
                t1 = min(end, t + timedelta(seconds=rnd.uniform(300, 5400)))
                s.add(AgentStateSpan(agent=agent, state=state, started_at=t, ended_at=t1,
                                     reason="lunch" if state == "paused" else ""))
                t = t1


def same(a: Summary, b: Summary) -> None:
    assert a.as_dict() == b.as_dict()
    assert (a.answered_within, a.longest_wait_s) == (b.answered_within, b.longest_wait_s)
    assert abs(a.total_wait_answered_s - b.total_wait_answered_s) < 1e-6
    assert abs(a.total_handle_s - b.total_handle_s) < 1e-6


def same_agents(db: Database, t0: datetime, t1: datetime) -> None:
    with db.session() as s:
        got, want = queries.state_seconds(s, t0, t1), agent_time.from_spans(s, t0, t1)
        assert set(got) == set(want) and all(abs(got[k] - want[k]) < 1e-6 for k in want)
        assert queries.answered_by_agent(s, t0, t1) == agent_calls.from_records(s, t0, t1)


def agent_days(db: Database) -> set[datetime]:
    with db.session() as s:
        return {*s.scalars(sa.select(AgentStateTime.interval_start).where(
            AgentStateTime.minutes == 1440)), *s.scalars(sa.select(AgentCallDay.day))}


def per_day(db: Database, first: date, last: date, zone: str) -> list[tuple[date, Summary]]:
    r = range_report.Range(first, last, zone)
    with db.session() as s:
        return range_report.summaries(s, r, "day", None, Definitions())


def test_day_rows_sum_their_intervals_and_reports_read_them_exactly(database: Database) -> None:
    dst = dst_day()
    first = dst - timedelta(days=2)
    seed(database, first, 5)
    rollup.rollup(database, datetime.combine(first, time(), TZ),
                  utcnow() + timedelta(minutes=15), THRESHOLDS, 5, ZONE)

    with database.session() as s:  # each day row is the sum of its intervals
        days = {(r.day_start, r.queue): r for r in s.execute(sa.select(*table(DayStat).c))}
        intervals: dict[tuple[date, str], list[Summary]] = {}
        for row in s.execute(sa.select(*table(IntervalStat).c)):
            intervals.setdefault((row.interval_start.astimezone(TZ).date(), row.queue),
                                 []).append(rollup._summary(row, THRESHOLDS))
    assert len(days) == len(intervals) == 10, (sorted(days), sorted(intervals))
    for (day, queue), parts in intervals.items():
        row = days[(day_stats.midnight(day, TZ), queue)]
        assert row.day_end == day_stats.midnight(day + timedelta(days=1), TZ)
        same(rollup._summary(row, THRESHOLDS), combine(parts, THRESHOLDS))
    assert {r.day_end - r.day_start for r in days.values()} == {
        timedelta(hours=24), day_stats.midnight(dst + timedelta(days=1), TZ)
        - day_stats.midnight(dst, TZ)}

    # a range with partial days at both edges: whole days from the day rows, the edges
    # from the intervals and the records
    t0 = datetime.combine(first, time(10, 7), TZ)
    t1 = datetime.combine(dst + timedelta(days=2), time(15, 52), TZ)
    with database.session() as s:
        assert day_stats.whole_days(s, t0, t1, day_stats.ANY_ZONE) == (
            day_stats.midnight(first + timedelta(days=1), TZ),
            day_stats.midnight(dst + timedelta(days=2), TZ))
        for queue in (None, "noise"):
            same(queries.summary(s, t0, t1, queue, THRESHOLDS, 5),
                 queries.raw_summary(s, t0, t1, queue, THRESHOLDS, 5))
    same_agents(database, t0, t1)
    assert {t.astimezone(TZ).time() for t in agent_days(database)} == {time()}
    by_day = per_day(database, first, dst + timedelta(days=2), ZONE)
    with database.session() as s:
        for day, got in by_day:
            lo, hi = day_stats.midnight(day, TZ), day_stats.midnight(day + timedelta(1), TZ)
            same(got, queries.raw_summary(s, lo, hi, None, THRESHOLDS, 5))
    with database.session() as s:
        calls = list(s.scalars(sa.select(CallRecord)))
    assert dict(Counter(c.entered_at.astimezone(TZ).date() for c in calls)) == {
        d: m.offered for d, m in by_day}
    # the whole days were read from the day rows: a changed day row changes the report
    with database.session() as s:
        s.execute(sa.update(DayStat).where(DayStat.day_start == day_stats.midnight(dst, TZ))
                  .values(offered=DayStat.offered + 1000))
    with database.session() as s:
        assert queries.summary(s, t0, t1, None, THRESHOLDS, 5).offered == len(
            [c for c in calls if t0 <= c.entered_at < t1]) + 2000
    with database.session() as s:
        s.execute(sa.update(DayStat).values(offered=DayStat.offered - 1000).where(
            DayStat.day_start == day_stats.midnight(dst, TZ)))

    # another zone's days are not these: its report reads the intervals, and stays exact
    west = ZoneInfo("America/Los_Angeles")
    with database.session() as s:
        for day, got in per_day(database, first, dst + timedelta(days=1), west.key):
            lo = datetime.combine(day, time(), west)
            same(got, queries.raw_summary(s, lo, datetime.combine(day + timedelta(1), time(),
                                                                  west), None, THRESHOLDS, 5))


def test_day_rows_follow_the_interval_rollups_after_an_upgrade(database: Database) -> None:
    dst = dst_day()
    first = dst - timedelta(days=1)
    seed(database, first, 3)
    since = datetime.combine(first, time(), TZ)
    rollup.rollup(database, since, utcnow() + timedelta(minutes=15), THRESHOLDS, 5, ZONE)
    with database.session() as s:  # as a database upgraded to 0308: no day rows yet
        s.execute(sa.delete(DayStat))
        s.execute(sa.delete(LiveState).where(LiveState.name == day_stats.DAY_COVERAGE))
    want = per_day(database, first, dst + timedelta(days=1), ZONE)
    with database.session() as s:
        assert day_stats.whole_days(s, since, utcnow(), ZONE) is None
        assert [m.offered for _, m in want] == [
            queries.raw_summary(s, day_stats.midnight(d, TZ),
                                day_stats.midnight(d + timedelta(1), TZ), None, THRESHOLDS,
                                5).offered for d, _ in want]
    # the worker's next run (the last two hours) builds the day rows of every covered day
    rollup.rollup(database, utcnow() - timedelta(hours=2), utcnow() + timedelta(minutes=15),
                  THRESHOLDS, 5, ZONE)
    with database.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(DayStat)) == 6
        assert day_stats.whole_days(s, since, utcnow(), ZONE) is not None
    for (_, got), (_, expected) in zip(per_day(database, first, dst + timedelta(days=1),
                                                 ZONE), want, strict=True):
        same(got, expected)
    # the city moved zone: its days are rebuilt in the new one
    rollup.rollup(database, utcnow() - timedelta(hours=2), utcnow() + timedelta(minutes=15),
                  THRESHOLDS, 5, "UTC")
    with database.session() as s:
        assert day_stats.whole_days(s, since, utcnow(), ZONE) is None
        assert day_stats.whole_days(s, since, utcnow(), "UTC") is not None
        starts = s.scalars(sa.select(DayStat.day_start)).all()
    assert all(t.hour == 0 and t.minute == 0 for t in starts)
    assert {(t.hour, t.minute) for t in agent_days(database)} == {(0, 0)}
    same_agents(database, datetime.combine(first, time(9, 45), TZ),
                datetime.combine(dst + timedelta(days=1), time(20, 15), TZ))
