"""Queue metrics read from stored records: a resident's call is offered once, even when it
comes back through a callback that kept its place in line; agent time per state over a
period."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from acd import facts as call_facts_module
from acd import queries
from acd.models import CALLBACK_PATH_PREFIX, AgentStateSpan, CallRecord
from acd.states import ServiceLevelBasis
from foundation.db import Database

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
