"""Repository reads over call records for reports, the API and the wallboard."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from acd import agent_calls, agent_time, day_stats, definitions, goals, rollup
from acd.facts import NOT_PLACEHOLDER
from acd.metrics import CallFacts, Staffing, Summary, combine, staffing, summarize
from acd.models import CallRecord
from foundation.db import utcnow
from foundation.settings import Settings


def _period(start: datetime, end: datetime, queue: str | None) -> Select[CallRecord]:
    stmt = select(CallRecord).where(CallRecord.entered_at >= start, CallRecord.entered_at < end)
    if queue:
        stmt = stmt.where(CallRecord.queue == queue)
    return stmt.order_by(CallRecord.entered_at, CallRecord.id)


def records(session: Session, start: datetime, end: datetime,
            queue: str | None = None) -> Iterator[CallRecord]:
    yield from session.scalars(_period(start, end, queue).execution_options(yield_per=2000))


def facts(record: CallRecord) -> CallFacts:
    return CallFacts(
        queue=record.queue, entered_at=record.entered_at, outcome=record.outcome or "",
        wait_s=record.wait_s or 0.0, talk_s=record.talk_s or 0.0, hold_s=record.hold_s or 0.0,
        acw_s=record.acw_s, agent=record.agent,
    )


def raw_summary(session: Session, start: datetime, end: datetime, queue: str | None,
                thresholds_s: list[int], short_abandon_s: float) -> Summary:
    stmt = _period(start, end, queue).where(NOT_PLACEHOLDER)
    return summarize((facts(r) for r in session.scalars(stmt.execution_options(yield_per=2000))),
                     thresholds_s, short_abandon_s)


def summary(session: Session, start: datetime, end: datetime, queue: str | None,
            thresholds_s: list[int], short_abandon_s: float) -> Summary:
    """Metrics over [start, end): whole 15-minute intervals that have settled come from the
    stored rollups (fast at millions of calls, ``rollup.settled``; their whole days from
    the day rows, ``day_stats``), the rest from the call
    records themselves, and so is the whole period when a rollup lacks one of
    ``thresholds_s``.
    """
    settled = rollup.settled(session, start, end)
    if settled is None:
        return raw_summary(session, start, end, queue, thresholds_s, short_abandon_s)
    first, horizon = settled
    try:  # one summary of the whole settled span (not one per interval, then combined)
        parts = list(rollup.buckets(session, first, horizon, queue, thresholds_s, None,
                                    lambda t: None, day_stats.ANY_ZONE).values())
    except rollup.MissingThreshold:  # rolled up before an answer time was added
        return raw_summary(session, start, end, queue, thresholds_s, short_abandon_s)
    parts.append(raw_summary(session, start, first, queue, thresholds_s, short_abandon_s))
    parts.append(raw_summary(session, horizon, end, queue, thresholds_s, short_abandon_s))
    return combine(parts, thresholds_s)


def answered_by_agent(session: Session, start: datetime,
                      end: datetime) -> dict[tuple[str, str], int]:
    """(queue, agent) -> answered calls among those that entered in [start, end): settled
    whole city days from the agent rollups, the rest from the records."""
    return _rolled_up(session, start, end, agent_calls.from_rollups, agent_calls.from_records)


def state_seconds(session: Session, start: datetime, end: datetime) -> agent_time.Seconds:
    """(agent, state, reason) -> seconds within [start, end): the settled whole intervals
    from the agent time rollups (a few rows per agent and state for a month, whatever the
    number of spans), the edges and the unsettled tail from the spans themselves, as the
    call figures do (``summary``)."""
    return _rolled_up(session, start, end, agent_time.from_rollups, agent_time.from_spans)


K = TypeVar("K")
N = TypeVar("N", int, float)
Reader = Callable[[Session, datetime, datetime], dict[K, N]]
DayReader = Callable[[Session, datetime, datetime, str, bool], dict[K, N]]


def _rolled_up(session: Session, start: datetime, end: datetime, rolled: DayReader[K, N],
               raw: Reader[K, N]) -> dict[K, N]:
    """An agent figure over [start, end): ``rolled`` over the span the agent rollups have
    settled, ``raw`` (the rows themselves) over the edges around it, or over all of it when
    nothing has settled."""
    settled = rollup.settled(session, start, end, rollup.AGENT_COVERAGE)
    if settled is None:
        return raw(session, start, end)
    first, horizon = settled
    zone = rollup.coverage_zone(session, rollup.AGENT_COVERAGE)
    out = rolled(session, first, horizon, zone, rollup.blocks_zone(session) == zone)
    for lo, hi in ((start, first), (horizon, end)):
        for key, value in raw(session, lo, hi).items():
            out[key] = out[key] + value if key in out else value
    return out


def seconds_in_states(session: Session, start: datetime,
                      end: datetime) -> dict[str, dict[str, float]]:
    """Agent -> state -> seconds within [start, end) (``metrics.seconds_by_agent`` of the
    period's spans, read through ``state_seconds``)."""
    seconds: dict[str, dict[str, float]] = {}
    for (agent, state, _), sec in state_seconds(session, start, end).items():
        per = seconds.setdefault(agent, {})
        per[state] = per.get(state, 0.0) + sec
    return seconds


def staffing_inputs(session: Session, start: datetime, end: datetime, now: datetime | None = None
                    ) -> tuple[dict[tuple[str, str], int], dict[str, dict[str, float]]]:
    """What ``metrics.staffing`` needs: answered calls per (queue, agent), and each agent's
    seconds per state in [start, end), clipped at ``now`` (an open span runs until now)."""
    until = min(end, now or utcnow())
    seconds = seconds_in_states(session, start, until) if until > start else {}
    return answered_by_agent(session, start, end), seconds


def staffing_of_all(session: Session, start: datetime, end: datetime,
                    now: datetime | None = None) -> Staffing:
    """``metrics.staffing`` of all queues (``staffing(*staffing_inputs(...))``), from sums
    made in SQL: over all queues a center's occupancy is every staffed agent's handle time
    over their staffed time, so the state seconds are summed over all agents and the calls
    per agent (one row per agent, not per agent and queue); a month of 400 agents reads a
    few rows instead of one per agent, state and reason."""
    until = min(end, now or utcnow())
    totals: dict[str, float] = {}
    if until > start:
        every = functools.partial(agent_time.from_rollups, every_agent=True)
        for (_, state, _), sec in _rolled_up(session, start, until, every,
                                             agent_time.from_spans).items():
            totals[state] = totals.get(state, 0.0) + sec
    per_agent = functools.partial(agent_calls.from_rollups, every_queue=True)
    answered: dict[str, int] = {}
    for (_, agent), n in _rolled_up(session, start, end, per_agent,
                                    agent_calls.from_records).items():
        answered[agent] = answered.get(agent, 0) + n
    return staffing({("", a): n for a, n in answered.items()}, {"": totals})


def report(session: Session, start: datetime, end: datetime, queue: str | None,
           settings: Settings, now: datetime | None = None) -> dict[str, object]:
    """The ``report calls --json`` / ``/api/v1/metrics`` object: queue metrics by the
    center's definitions, occupancy and calls per agent (``metrics.staffing``) of the same
    queue and period, the ``definitions`` that produced them, and the ``goals`` (the
    queue's, or the center's for all queues) with met true/false."""
    d = definitions.from_settings(settings)
    s = summary(session, start, end, queue, list(d.thresholds_s), d.short_abandon_s)
    staff = staffing(*staffing_inputs(session, start, end, now), queue) if queue else \
        staffing_of_all(session, start, end, now)
    return {**s.as_dict(d.service_level, d.abandon_rate),
            **staff.as_dict(),
            "definitions": d.as_dict(),
            "goals": {"queue": queue if queue and settings.queue(queue) else None,
                      **goals.marks(s, d, goals.goals_for(settings, queue))}}


CSV_HEADER = ("uniqueid", "queue", "entered_at", "outcome", "wait_s", "talk_s", "agent")


def csv_row(r: CallRecord) -> tuple[str, ...]:
    def num(v: float | None) -> str:
        return "" if v is None else f"{v:.3f}".rstrip("0").rstrip(".")

    return (r.uniqueid, r.queue, r.entered_at.isoformat(timespec="seconds"), r.outcome or "",
            num(r.wait_s), num(r.talk_s), r.agent or "")
