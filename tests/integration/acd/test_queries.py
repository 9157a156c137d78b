"""Queue metrics read from stored records: a resident's call is offered once, even when it
comes back through a callback that kept its place in line; agent time per state over a
period, read from the spans and from their rollups."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from acd import facts as call_facts_module
from acd import queries, rollup
from acd.models import CALLBACK_PATH_PREFIX, AgentStateSpan, AgentStateTime, CallRecord
from acd.states import ServiceLevelBasis
from foundation.db import Database, utcnow
from foundation.settings import Settings

T0 = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


def add(db: Database, uid: str, outcome: str, wait: float, talk: float | None = None,
        ivr_path: str | None = None) -> None:
    with db.session() as s:
        s.add(CallRecord(uniqueid=uid, queue="citywide", entered_at=T0 + timedelta(minutes=1),
                         outcome=outcome, wait_s=wait, talk_s=talk, agent="100" if talk else None,
                         ivr_path=ivr_path, source="ami"))


def test_a_callback_is_offered_once(database: Database) -> None:
    add(database, "1.1", "answered", 10, 60)
    add(database, "1.2", "callback", 95)                        # pressed 1 and confirmed
    add(database, "1.3", "answered", 40, 120, f"{CALLBACK_PATH_PREFIX}7")  # its placeholder
    with database.session() as s:
        m = queries.raw_summary(s, T0, T0 + timedelta(hours=1), None, [30], 5)
        facts = list(call_facts_module.call_facts(s, T0, T0 + timedelta(hours=1)))
        listed = [r.uniqueid for r in queries.records(s, T0, T0 + timedelta(hours=1))]
    assert (m.offered, m.answered, m.callback) == (2, 1, 1)
    # the resident who took a callback entered the queue and was not answered within 30 s:
    # 1 of 2 by the default definition, 1 of 1 over answered + abandoned (callbacks left out)
    assert m.service_level(30) == 0.5 and m.asa_s == 10
    assert m.service_level(30, ServiceLevelBasis.ANSWERED_ABANDONED) == 1.0
    assert m.not_served == 0  # the callback serves them
    assert len(facts) == 2 and {f.outcome for f in facts} == {"answered", "callback"}
    assert listed == ["1.1", "1.2", "1.3"]  # the call-by-call listing still shows it


def test_seconds_in_states_equal_the_spans_clipped_to_the_period(database: Database) -> None:
    """Agent time per state over a period (the occupancy denominator): spans that cross
    either edge, open ones, zero-length ones and microseconds, summed in SQL on PostgreSQL
    and in Python on SQLite, equal the spans clipped one by one here."""
    rng = random.Random(3)
    start, end = T0, T0 + timedelta(hours=8)
    rows: list[tuple[str, str, datetime, datetime | None]] = []
    for agent in ("100", "101", "102"):
        at = T0 - timedelta(hours=2)
        for _ in range(60):
            length = timedelta(seconds=rng.choice((0, 0.5, 17, 300, 1234.567891)))
            rows.append((agent, rng.choice(("available", "paused", "on_call", "wrap_up")),
                         at, at + length))
            at += length + timedelta(microseconds=rng.randrange(10**6))
        rows.append((agent, "available", at, None))  # open: runs until the period's end
    rows.append(("103", "paused", T0 + timedelta(hours=9), None))  # after the period
    rows.append(("104", "paused", T0 - timedelta(hours=9), T0 - timedelta(hours=1)))
    with database.session() as s:
        s.add_all(AgentStateSpan(agent=a, state=st, reason="", started_at=t0, ended_at=t1)
                  for a, st, t0, t1 in rows)
    want: dict[str, dict[str, float]] = {}
    for a, st, t0, t1 in rows:
        lo, hi = max(t0, start), min(t1 or end, end)
        if hi > lo:
            want.setdefault(a, {}).setdefault(st, 0.0)
            want[a][st] += (hi - lo).total_seconds()
    with database.session() as s:
        got = queries.seconds_in_states(s, start, end)
    assert set(got) == set(want) == {"100", "101", "102"}
    for a, per in want.items():
        assert set(got[a]) == set(per), a
        for st, sec in per.items():
            assert abs(got[a][st] - sec) < 1e-6, (a, st)
    assert sum(sum(p.values()) for p in got.values()) > 3 * 3600


def _clipped(rows: list[tuple[str, str, str, datetime, datetime | None]], lo: datetime,
             hi: datetime) -> dict[tuple[str, str, str], float]:
    """The oracle: each span's overlap with [lo, hi), one by one."""
    out: dict[tuple[str, str, str], float] = {}
    for a, st, r, t0, t1 in rows:
        sec = (min(t1 or hi, hi) - max(t0, lo)).total_seconds()
        if sec > 0:
            out[(a, st, r)] = out.get((a, st, r), 0.0) + sec
    return out


def _rollup_rows(db: Database, blocks: bool = True) -> dict[
        tuple[int, datetime, str, str, str], float]:
    with db.session() as s:
        return {(m, t, a, st, r): sec for m, t, a, st, r, sec in s.execute(select(
            AgentStateTime.minutes, AgentStateTime.interval_start, AgentStateTime.agent,
            AgentStateTime.state, AgentStateTime.reason, AgentStateTime.seconds))
            if blocks or m <= 24 * 60}


def test_agent_time_rollups_equal_the_spans_and_rebuild_idempotently(
        database: Database, settings: Settings) -> None:
    """Three days of spans of four agents (across 15-minute and UTC-day boundaries, one
    still open, microseconds): every 15-minute row holds its interval's overlap with the
    spans, every day row the sum of its day; reports over any range read the rollups and
    equal the spans; a second run writes the same rows; a span stored late (an outage's
    repair) counts once the worker's day job has run over it, as a late call does."""
    rng = random.Random(11)
    now = utcnow()
    start = rollup.floor(now - timedelta(days=3), 24 * 60) + timedelta(hours=2, minutes=7)
    rows: list[tuple[str, str, str, datetime, datetime | None]] = []
    for agent in ("100", "101", "102", "103"):
        at = start + timedelta(seconds=rng.randrange(3600))
        while at < now - timedelta(minutes=40):
            length = timedelta(seconds=rng.choice((0, 0.5, 40, 300, 1234.567891, 7000)))
            state = rng.choice(("available", "ringing", "on_call", "wrapup", "paused"))
            rows.append((agent, state, rng.choice(("lunch", "training"))
                         if state == "paused" else "", at, at + length))
            at += length + timedelta(microseconds=rng.randrange(10**6))
        rows.append((agent, "available", "", min(at, now - timedelta(minutes=30)), None))
    with database.session() as s:
        s.add_all(AgentStateSpan(agent=a, state=st, reason=r, started_at=t0, ended_at=t1)
                  for a, st, r, t0, t1 in rows)
    rollup.rollup(database, start, now + timedelta(minutes=15), [30], 5)
    stored = _rollup_rows(database)
    quarter, day = timedelta(minutes=15), timedelta(days=1)
    t, want = rollup.floor(start), {}
    while t < rollup.floor(now):  # each whole interval against the spans' overlap with it
        for (a, st, r), sec in _clipped(rows, max(t, start), t + quarter).items():
            want[(15, t, a, st, r)] = sec
        t += quarter
    fifteen = {k: v for k, v in stored.items() if k[0] == 15}
    assert {k[1] for k in fifteen if k[1] >= t} == {t}  # the interval of the run: up to it
    fifteen = {k: v for k, v in fifteen.items() if k[1] < t}
    assert set(fifteen) == set(want) and len(want) > 500
    assert all(abs(fifteen[k] - v) < 1e-6 for k, v in want.items())
    days = {k: v for k, v in stored.items() if k[0] == 24 * 60}
    assert {k[1] for k in days} == {rollup.floor(start, 24 * 60) + n * day for n in range(4)}
    for (_, d, a, st, r), sec in days.items():
        assert abs(sec - sum(v for (m, t, a2, st2, r2), v in stored.items() if m == 15
                             and (a2, st2, r2) == (a, st, r) and d <= t < d + day)) < 1e-6

    ranges = [(start, now), (start + timedelta(hours=5, seconds=1.5), now - timedelta(hours=3)),
              (start - day, start + day), (now - timedelta(hours=2), now)]
    with database.session() as s:
        assert rollup.settled(s, *ranges[0], rollup.AGENT_COVERAGE) is not None
        assert rollup.settled(s, *ranges[3], rollup.AGENT_COVERAGE) is None  # spans only
        for lo, hi in ranges:
            got, oracle = queries.state_seconds(s, lo, hi), _clipped(rows, lo, hi)
            assert set(got) == set(oracle), (lo, hi)
            assert all(abs(got[k] - v) < 1e-6 for k, v in oracle.items()), (lo, hi)

    rollup.rollup(database, start - day, now + timedelta(minutes=15), [30], 5)
    again = _rollup_rows(database, blocks=False)  # (the blocks of days grow with the whole
    stored = {k: v for k, v in stored.items() if k[0] <= 24 * 60}  # days: test_agent_blocks)
    assert set(again) == set(stored)

    def whole(rows: dict[tuple[int, datetime, str, str, str], float]) -> dict[
            tuple[int, datetime, str, str, str], float]:  # the open spans grow in the rest
        return {k: v for k, v in rows.items() if k[1] + timedelta(minutes=k[0]) <= t}

    settled = whole(stored)
    assert set(whole(again)) == set(settled) and len(settled) > 500
    assert all(abs(again[k] - v) < 1e-9 for k, v in settled.items())  # not doubled

    # the last half hour of the newest whole settled UTC day (read from its rollups at any
    # time of day, and inside the day job's 26 hours)
    newest_day_end = rollup.floor(rollup.floor(now - rollup.SETTLE), 24 * 60)
    late = ("104", "paused", "training", newest_day_end - timedelta(minutes=30), newest_day_end)
    with database.session() as s:
        s.add(AgentStateSpan(agent=late[0], state=late[1], reason=late[2], started_at=late[3],
                             ended_at=late[4]))
    with database.session() as s:  # the settled rollups are what the report reads
        assert ("104", "paused", "training") not in queries.state_seconds(s, start, now)
    day_job = next(j for j in rollup.jobs(settings, database) if j.id == "acd.rollup_day")
    day_job.func()
    with database.session() as s:
        got = queries.state_seconds(s, start, now)
    oracle = _clipped([*rows, late], start, now)
    assert abs(got[("104", "paused", "training")] - 1800.0) < 1e-6
    assert set(got) == set(oracle) and all(abs(got[k] - v) < 1e-6 for k, v in oracle.items())


def test_answered_calls_per_agent_read_from_their_day_rollups_equal_the_records(
        database: Database, settings: Settings) -> None:
    """Four days of calls (answered by five agents in two queues, and not answered): the
    calls per queue and agent over any range equal a count of the records, read from the
    day rows for whole settled UTC days; a re-run writes the same rows; a call stored late
    counts once the worker's day job has run over it."""
    from collections import Counter

    from acd.models import AgentCallDay

    rng = random.Random(5)
    now = utcnow()
    start = rollup.floor(now - timedelta(days=4), 24 * 60) + timedelta(hours=3, minutes=11)
    calls = []
    at = start
    while at < now - timedelta(minutes=20):
        outcome = rng.choice(("answered", "answered", "answered", "abandoned", "timeout"))
        agent = rng.choice(("100", "101", "102", "103", "104")) if outcome == "answered" else None
        calls.append((rng.choice(("citywide", "noise")), at, outcome, agent))
        at += timedelta(seconds=rng.randrange(1, 600), microseconds=rng.randrange(10**6))
    with database.session() as s:
        s.add_all(CallRecord(uniqueid=f"{i}.1", queue=q, entered_at=t, outcome=o, agent=a,
                             wait_s=5.0, talk_s=60.0 if a else None, source="ami")
                  for i, (q, t, o, a) in enumerate(calls))
    rollup.rollup(database, start, now + timedelta(minutes=15), [30], 5)

    def oracle(lo: datetime, hi: datetime) -> dict[tuple[str, str], int]:
        return dict(Counter((q, a) for q, t, o, a in calls if a and lo <= t < hi))

    day = timedelta(days=1)
    ranges = [(start, now), (start + timedelta(hours=30, seconds=1.5), now - timedelta(hours=5)),
              (start - day, start + 2 * day), (now - timedelta(hours=2), now)]
    with database.session() as s:
        days = s.scalars(select(AgentCallDay)).all()
        # a row per UTC day with an answered call (five, or four in the first minutes of a
        # UTC day, when today has no call yet)
        answered_days = {rollup.floor(t, 24 * 60) for _, t, _, a in calls if a}
        assert len({d.day for d in days}) == len(answered_days) >= 4
        assert sum(d.answered for d in days) == len([c for c in calls if c[3]])
        assert rollup.settled(s, *ranges[0], rollup.AGENT_COVERAGE) is not None
        for lo, hi in ranges:
            assert queries.answered_by_agent(s, lo, hi) == oracle(lo, hi), (lo, hi)

    rollup.rollup(database, start - day, now + timedelta(minutes=15), [30], 5)
    with database.session() as s:  # a re-run replaces, never doubles
        again = s.scalars(select(AgentCallDay)).all()
        assert sorted((d.day, d.queue, d.agent, d.answered) for d in again) == sorted(
            (d.day, d.queue, d.agent, d.answered) for d in days)

    # late in the newest whole settled UTC day (read from its row at any time of day)
    late_at = rollup.floor(rollup.floor(now - rollup.SETTLE), 24 * 60) - timedelta(minutes=40)
    with database.session() as s:
        s.add(CallRecord(uniqueid="late.1", queue="noise", entered_at=late_at,
                         outcome="answered", agent="109", wait_s=1.0, talk_s=9.0, source="ami"))
    with database.session() as s:  # the settled day rows are what the report reads
        assert ("noise", "109") not in queries.answered_by_agent(s, start, now)
    calls.append(("noise", late_at, "answered", "109"))
    day_job = next(j for j in rollup.jobs(settings, database) if j.id == "acd.rollup_day")
    day_job.func()
    with database.session() as s:
        assert queries.answered_by_agent(s, start, now) == oracle(start, now)
        assert ("noise", "109") in queries.answered_by_agent(s, start, now)
