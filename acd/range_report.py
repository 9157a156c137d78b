"""The call report over any range: queue figures per day, week, month or year, the same
period a year before, hour-of-day and day-of-week profiles (from the rollups where settled,
``rollup.buckets``), and what the records say beyond counts: wrap-up call types, hang-up
side, transfers, repeat callers and first-contact resolution, pause time by reason.

Periods are the city's calendar: weeks start on Monday; a figure belongs to the period its
call entered the queue in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from acd import queries, rollup
from acd.definitions import Definitions
from acd.facts import NOT_PLACEHOLDER
from acd.metrics import Summary, combine
from acd.models import CallRecord
from acd.states import AgentState, CallOutcome

PERIODS = ("day", "week", "month", "year")


def period_start(day: date, by: str) -> date:
    if by == "day":
        return day
    if by == "week":
        return day - timedelta(days=day.weekday())
    if by == "month":
        return day.replace(day=1)
    if by == "year":
        return day.replace(month=1, day=1)
    raise ValueError(f"by must be one of {', '.join(PERIODS)}, not {by!r}")


def year_before(day: date) -> date:
    """The same calendar day a year before (29 February: the 28th)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True)
class Range:
    first: date  # city days, both included
    last: date
    zone: str

    def bounds(self) -> tuple[datetime, datetime]:
        tz = ZoneInfo(self.zone)
        return (datetime.combine(self.first, time(), tz),
                datetime.combine(self.last + timedelta(days=1), time(), tz))

    def a_year_before(self) -> Range:
        return Range(year_before(self.first), year_before(self.last), self.zone)


def summaries(s: Session, r: Range, by: str, queue: str | None,
              d: Definitions) -> list[tuple[date, Summary]]:
    """Each period of the range (clipped to it) with its summary, empty periods included
    (its whole days from the day rollups of the city's zone, ``day_stats``)."""
    tz = ZoneInfo(r.zone)
    t0, t1 = r.bounds()
    got = rollup.buckets(s, t0, t1, queue, d.thresholds_s, d.short_abandon_s,
                         lambda t: period_start(t.astimezone(tz).date(), by), r.zone)
    out, p = [], period_start(r.first, by)
    while p <= r.last:
        out.append((p, got.get(p) or combine([], d.thresholds_s)))
        p = period_start(p + timedelta(days={"day": 1, "week": 7, "month": 32,
                                             "year": 366}[by]), by)
    return out


def profiles(s: Session, r: Range, queue: str | None,
             d: Definitions) -> tuple[dict[int, Summary], dict[int, Summary]]:
    """By hour of the day (0-23) and by day of the week (0 = Monday), in the city's clock."""
    tz = ZoneInfo(r.zone)
    t0, t1 = r.bounds()
    by_slot = rollup.buckets(s, t0, t1, queue, d.thresholds_s, d.short_abandon_s,
                             lambda t: (t.astimezone(tz).weekday(), t.astimezone(tz).hour))
    hours: dict[int, list[Summary]] = defaultdict(list)
    days: dict[int, list[Summary]] = defaultdict(list)
    for (weekday, hour), summary in by_slot.items():
        hours[hour].append(summary)
        days[weekday].append(summary)
    return ({h: combine(hours.get(h, []), d.thresholds_s) for h in range(24)},
            {w: combine(days.get(w, []), d.thresholds_s) for w in range(7)})


def _in(r: Range, queue: str | None) -> list[Any]:
    t0, t1 = r.bounds()
    where = [CallRecord.entered_at >= t0, CallRecord.entered_at < t1, NOT_PLACEHOLDER,
             CallRecord.outcome.is_not(None)]
    return where + ([CallRecord.queue == queue] if queue else [])


def breakdowns(s: Session, r: Range, queue: str | None) -> dict[str, dict[str, int]]:
    """Answered calls by wrap-up call type and by who hung up; transfers by target."""
    answered = [*_in(r, queue), CallRecord.outcome == CallOutcome.ANSWERED]

    def count(column: Any, *where: Any) -> dict[str, int]:
        rows = s.execute(select(column, func.count()).where(*answered, *where)
                         .group_by(column)).all()
        return {str(k) if k is not None else "none": int(n) for k, n in rows}

    return {"call_types": count(CallRecord.call_type),
            "hangup_side": count(CallRecord.hangup_side),
            "transfers": count(CallRecord.transfer_target,
                               CallRecord.transfer_target.is_not(None))}


def repeat_callers(s: Session, r: Range, queue: str | None, within_days: int,
                   caller_key: Callable[[str], str] = str) -> dict[str, Any]:
    """Of the answered calls, how many were followed by another call from the same number
    within ``within_days`` (a repeat); first-contact resolution = the rest over answered.
    The look-ahead runs past the range's end, so the last days are judged fully. Numbers are
    compared through ``caller_key`` (``foundation.erasure.caller_key``: erased numbers are
    pseudonyms, and a kept number matches its own pseudonym)."""
    t0, t1 = r.bounds()
    ahead = t1 + timedelta(days=within_days)
    where = [CallRecord.entered_at >= t0, CallRecord.entered_at < ahead, NOT_PLACEHOLDER,
             CallRecord.caller_number.is_not(None), CallRecord.outcome.is_not(None)]
    calls: dict[str, list[tuple[datetime, bool]]] = defaultdict(list)
    for number, at, outcome, q in s.execute(
            select(CallRecord.caller_number, CallRecord.entered_at, CallRecord.outcome,
                   CallRecord.queue).where(*where).order_by(CallRecord.entered_at)):
        calls[caller_key(str(number))].append((at, at < t1 and outcome == CallOutcome.ANSWERED
                              and (queue is None or q == queue)))
    answered = repeats = 0
    window = timedelta(days=within_days)
    for seq in calls.values():
        for i, (at, counts) in enumerate(seq):
            if counts:
                answered += 1
                repeats += i + 1 < len(seq) and seq[i + 1][0] - at <= window
    callers_again = sum(1 for seq in calls.values()
                        if sum(1 for at, _ in seq if at < t1) > 1)
    return {"within_days": within_days, "answered": answered, "repeated": repeats,
            "first_contact_resolution": round(1 - repeats / answered, 4) if answered else None,
            "callers_calling_again": callers_again}


def pause_by_reason(s: Session, r: Range) -> dict[str, float]:
    """Seconds paused, per reason, clipped to the range (all agents; settled intervals from
    the agent time rollups, ``queries.state_seconds``)."""
    out: defaultdict[str, float] = defaultdict(float)
    for (_, state, reason), sec in queries.state_seconds(s, *r.bounds()).items():
        if state == AgentState.PAUSED:
            out[reason or "no reason"] += sec
    return dict(sorted(out.items()))


CALLBACK_COUNTS = ("requested", "completed", "failed", "pending")
CallbackTally = Callable[[Session, datetime, datetime, str | None, Callable[[datetime], date]],
                         dict[date, dict[str, dict[str, int]]]]


def _added(parts: list[dict[str, int]]) -> dict[str, int]:
    return {k: sum(p[k] for p in parts) for k in CALLBACK_COUNTS}


def callbacks(s: Session, r: Range, by: str, queue: str | None,
              tally: CallbackTally) -> dict[str, Any]:
    """Callbacks requested vs completed (``definitions.CALLBACKS``): per period of the range
    (every period, empty ones as zeros), per queue and in total. ``tally`` is the IVR's
    count of its requests (``ivr.callback.tally.tally``), handed in by the composition root."""
    tz = ZoneInfo(r.zone)
    t0, t1 = r.bounds()
    got = tally(s, t0, t1, queue, lambda t: period_start(t.astimezone(tz).date(), by))
    queues: dict[str, list[dict[str, int]]] = defaultdict(list)
    for per_queue in got.values():
        for q, counts in per_queue.items():
            queues[q].append(counts)
    by_period, p = {}, period_start(r.first, by)
    while p <= r.last:
        by_period[p] = _added(list(got.get(p, {}).values()))
        p = period_start(p + timedelta(days={"day": 1, "week": 7, "month": 32,
                                             "year": 366}[by]), by)
    by_queue = {q: _added(parts) for q, parts in sorted(queues.items())}
    return {"by_period": by_period, "by_queue": by_queue,
            "total": _added(list(by_queue.values()))}
