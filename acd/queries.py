"""Repository reads over call records for reports, the API and the wallboard."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import Select, func, literal, select
from sqlalchemy.orm import Session

from acd import definitions, goals, rollup
from acd.facts import NOT_PLACEHOLDER
from acd.metrics import CallFacts, Span, Summary, combine, seconds_by_agent, staffing, summarize
from acd.models import AgentStateSpan, CallRecord
from acd.states import CallOutcome
from foundation.db import UTCDateTime, utcnow
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
    stored rollups (fast at millions of calls), the rest from the call records themselves.

    Rollups are used only inside the span they cover without a gap, up to ``SETTLE`` before
    the last run (a call may still finish there); everything else is read from the records,
    and so is the whole period when a rollup lacks one of ``thresholds_s``.
    """
    covered = rollup.coverage(session)
    if covered is None:
        return raw_summary(session, start, end, queue, thresholds_s, short_abandon_s)
    first = rollup.floor(max(start, covered[0]))
    if first < max(start, covered[0]):
        first += timedelta(minutes=rollup.BASE_MINUTES)
    horizon = rollup.floor(min(end, covered[1] - rollup.SETTLE))
    if horizon - first < timedelta(hours=rollup.MIN_SPAN_H):
        return raw_summary(session, start, end, queue, thresholds_s, short_abandon_s)
    try:
        parts = [s for _, s in rollup.intervals(session, first, horizon, rollup.BASE_MINUTES,
                                                queue, thresholds_s)]
    except rollup.MissingThreshold:  # rolled up before an answer time was added
        return raw_summary(session, start, end, queue, thresholds_s, short_abandon_s)
    parts.append(raw_summary(session, start, first, queue, thresholds_s, short_abandon_s))
    parts.append(raw_summary(session, horizon, end, queue, thresholds_s, short_abandon_s))
    return combine(parts, thresholds_s)


def answered_by_agent(session: Session, start: datetime,
                      end: datetime) -> dict[tuple[str, str], int]:
    """(queue, agent) -> answered calls among those that entered in [start, end)."""
    rows = session.execute(
        select(CallRecord.queue, CallRecord.agent, func.count())
        .where(CallRecord.entered_at >= start, CallRecord.entered_at < end,
               CallRecord.outcome == CallOutcome.ANSWERED, CallRecord.agent.is_not(None))
        .group_by(CallRecord.queue, CallRecord.agent))
    return {(q, str(a)): int(n) for q, a, n in rows}


def spans(session: Session, start: datetime, end: datetime) -> list[Span]:
    """Agent state spans that overlap [start, end) (open ones included).

    Two indexed reads, open spans and closed ones ending after ``start``, so the cost is
    the period's spans, not the history's."""
    cols = (AgentStateSpan.agent, AgentStateSpan.state, AgentStateSpan.started_at,
            AgentStateSpan.ended_at)
    open_now = select(*cols).where(AgentStateSpan.ended_at.is_(None),
                                   AgentStateSpan.started_at < end)
    closed = select(*cols).where(AgentStateSpan.ended_at > start,
                                 AgentStateSpan.started_at < end)
    return [Span(a, st, t0, t1) for stmt in (open_now, closed)
            for a, st, t0, t1 in session.execute(stmt)]


def seconds_in_states(session: Session, start: datetime,
                      end: datetime) -> dict[str, dict[str, float]]:
    """Agent -> state -> seconds within [start, end): ``metrics.seconds_by_agent`` over
    ``spans``. On PostgreSQL the clipped durations are summed in SQL, one row per agent and
    state instead of one per span, so a month's report costs the same at any number of
    spans (bench/RESULTS.md); SQLite (small centers, the demo) sums the spans in Python, as
    its timestamps are text and its date arithmetic is not exact to the microsecond."""
    if session.get_bind().dialect.name != "postgresql":
        return seconds_by_agent(spans(session, start, end), start, end)
    t0, t1 = literal(start, UTCDateTime()), literal(end, UTCDateTime())
    lo = func.greatest(AgentStateSpan.started_at, t0)
    hi = func.least(func.coalesce(AgentStateSpan.ended_at, t1), t1)
    seconds: dict[str, dict[str, float]] = {}
    for where in ((AgentStateSpan.ended_at.is_(None), AgentStateSpan.started_at < t1),
                  (AgentStateSpan.ended_at > t0, AgentStateSpan.started_at < t1)):
        for agent, state, total in session.execute(
                select(AgentStateSpan.agent, AgentStateSpan.state,
                       func.sum(func.extract("epoch", hi - lo)))
                .where(*where, hi > lo).group_by(AgentStateSpan.agent, AgentStateSpan.state)):
            per = seconds.setdefault(agent, {})
            per[state] = per.get(state, 0.0) + float(total)
    return seconds


def staffing_inputs(session: Session, start: datetime, end: datetime, now: datetime | None = None
                    ) -> tuple[dict[tuple[str, str], int], dict[str, dict[str, float]]]:
    """What ``metrics.staffing`` needs: answered calls per (queue, agent), and each agent's
    seconds per state in [start, end), clipped at ``now`` (an open span runs until now)."""
    until = min(end, now or utcnow())
    seconds = seconds_in_states(session, start, until) if until > start else {}
    return answered_by_agent(session, start, end), seconds


def report(session: Session, start: datetime, end: datetime, queue: str | None,
           settings: Settings, now: datetime | None = None) -> dict[str, object]:
    """The ``report calls --json`` / ``/api/v1/metrics`` object: queue metrics by the
    center's definitions, occupancy and calls per agent (``metrics.staffing``) of the same
    queue and period, the ``definitions`` that produced them, and the ``goals`` (the
    queue's, or the center's for all queues) with met true/false."""
    d = definitions.from_settings(settings)
    s = summary(session, start, end, queue, list(d.thresholds_s), d.short_abandon_s)
    answered, seconds = staffing_inputs(session, start, end, now)
    return {**s.as_dict(d.service_level, d.abandon_rate),
            **staffing(answered, seconds, queue).as_dict(),
            "definitions": d.as_dict(),
            "goals": {"queue": queue if queue and settings.queue(queue) else None,
                      **goals.marks(s, d, goals.goals_for(settings, queue))}}


CSV_HEADER = ("uniqueid", "queue", "entered_at", "outcome", "wait_s", "talk_s", "agent")


def csv_row(r: CallRecord) -> tuple[str, ...]:
    def num(v: float | None) -> str:
        return "" if v is None else f"{v:.3f}".rstrip("0").rstrip(".")

    return (r.uniqueid, r.queue, r.entered_at.isoformat(timespec="seconds"), r.outcome or "",
            num(r.wait_s), num(r.talk_s), r.agent or "")
