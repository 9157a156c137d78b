"""15-minute interval rollups of call records, so reports stay fast at millions of calls.

A rollup row holds the additive totals of one queue's calls that *entered* in one
15-minute interval (``acd.metrics.Summary``); 30- and 60-minute, daily and all-queue
figures are exact sums of them (``metrics.combine``). Recomputing an interval replaces its
rows, so the worker can re-run any window (late reconciliations included) without doubling.
The same run rebuilds the agent rollups of the window: time per state (``acd.agent_time``)
and calls answered per queue and day (``acd.agent_calls``).
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Row, delete, select
from sqlalchemy.orm import Session

from acd import agent_calls, agent_time, day_blocks, day_stats
from acd.facts import call_facts
from acd.metrics import CallFacts, Summary, combine, summarize
from acd.models import DayStat, IntervalStat, LiveState, table

# the clock moved to acd.slices (agent time shares it); re-exported for existing callers
from acd.slices import BASE_MINUTES as BASE_MINUTES
from acd.slices import ceil, day_ceil
from acd.slices import floor as floor
from foundation.db import Database, utcnow
from foundation.jobs import Job
from foundation.settings import Settings

K = TypeVar("K", bound=Hashable)

SETTLE = timedelta(hours=1)  # a rolled-up interval may still change this long after it ends
MIN_SPAN_H = 6  # shorter periods are read from the records directly
COVERAGE = "rollup_coverage"  # a LiveState row: {"since": ..., "as_of": ...}
# the same for the agent rollups (time and calls): their own, as a database upgraded to 0307
# has none before a rebuild
AGENT_COVERAGE = "agent_rollup_coverage"
# the zone whose days the agent rollups' blocks of days are built in (``acd.day_blocks``):
# none until the first run after 0313 builds them
AGENT_BLOCKS = "agent_rollup_blocks"
INTERVAL_CHOICES = (15, 30, 60)
COUNTS = ("offered", "answered", "abandoned", "short_abandoned", "timed_out", "exit_key",
          "exit_empty", "refused", "callback", "dropped")


def coverage(s: Session, name: str = COVERAGE) -> tuple[datetime, datetime] | None:
    """[since, as_of): the span the rollups cover without a gap, and when it was computed
    (``name``: the call rollups', or ``AGENT_COVERAGE`` for the agent time rollups)."""
    row = s.get(LiveState, name)
    if row is None:
        return None
    doc = json.loads(row.doc)
    return datetime.fromisoformat(doc["since"]), datetime.fromisoformat(doc["as_of"])


def coverage_zone(s: Session, name: str = AGENT_COVERAGE) -> str:
    """The zone whose days the day rows of the rollups ``name`` hold (UTC: written before
    0308, when the agent rollups' days were UTC days)."""
    row = s.get(LiveState, name)
    return str(json.loads(row.doc).get("zone", "UTC")) if row is not None else "UTC"


def blocks_zone(s: Session) -> str | None:
    """The zone the agent rollups' blocks of days are built in; None: not built."""
    row = s.get(LiveState, AGENT_BLOCKS)
    return str(json.loads(row.doc)["zone"]) if row is not None else None


def _extend(s: Session, start: datetime, now: datetime, name: str) -> None:
    current = coverage(s, name)
    if current is not None and start > current[1]:
        return  # a gap before this run: coverage stays what it was (reports read records)
    since = start if current is None else min(start, current[0])
    _note(s, name, {"since": since.isoformat(), "as_of": now.isoformat()}, now)


def _note(s: Session, name: str, fields: dict[str, str], now: datetime) -> None:
    """Set ``fields`` in the coverage document ``name`` (created with them)."""
    row = s.get(LiveState, name)
    if row is None:
        s.add(LiveState(name=name, version=1, doc=json.dumps(fields), updated_at=now))
    else:
        doc = json.dumps(json.loads(row.doc) | fields)
        row.doc, row.updated_at, row.version = doc, now, row.version + 1


def settled(s: Session, start: datetime, end: datetime,
            name: str = COVERAGE) -> tuple[datetime, datetime] | None:
    """[first, horizon): the whole 15-minute intervals of [start, end) to read from the
    rollups ``name``: inside the span they cover without a gap, up to ``SETTLE`` before
    their last run (a call may still finish, a span still be corrected, there). None when
    that is under ``MIN_SPAN_H``: read the whole period from the records then."""
    covered = coverage(s, name)
    if covered is None:
        return None
    first = ceil(max(start, covered[0]))
    horizon = floor(min(end, covered[1] - SETTLE))
    if horizon - first < timedelta(hours=MIN_SPAN_H):
        return None
    return first, horizon


def rollup(db: Database, since: datetime, until: datetime, thresholds_s: Sequence[int],
           short_abandon_s: float, zone: str | None = None) -> int:
    """Recompute every interval in [floor(since), until), the calls' rows, the days of
    ``zone`` (the city's; None: the day rows' own) they fall in (``day_stats.refresh``) and
    the agent rollups (``agent_time.rebuild``, ``agent_calls.rebuild``: their day rows in
    ``zone`` too); returns how many queue intervals were written.

    When ``until`` reaches the present, the covered span grows to include this run."""
    start = floor(since)
    buckets: dict[tuple[datetime, str], list[CallFacts]] = defaultdict(list)
    now = utcnow()
    with db.session() as s:
        before = coverage(s)
        for f in call_facts(s, start, until):
            buckets[(floor(f.entered_at), f.queue)].append(f)
        s.execute(delete(IntervalStat).where(IntervalStat.interval_start >= start,
                                             IntervalStat.interval_start < until))
        for (interval, queue), facts in buckets.items():
            summary = summarize(facts, thresholds_s, short_abandon_s)
            if summary.offered:
                s.add(_row(interval, queue, summary, now))
        agent_zone = _agent_days(s, zone, now)
        agent_time.rebuild(s, start, until, now, agent_zone)
        agent_calls.rebuild(s, start, until, now, agent_zone)
        if until >= now:
            _extend(s, start, now, COVERAGE)
            _extend(s, start, now, AGENT_COVERAGE)
        if (covered := coverage(s, AGENT_COVERAGE)) is not None:
            _note(s, AGENT_COVERAGE, {"zone": agent_zone}, now)
            _agent_blocks(s, covered[0], start, until, agent_zone, now)
        s.flush()
        day_stats.refresh(s, start, until, zone, now, before, coverage(s))
    return len(buckets)


def _agent_days(s: Session, zone: str | None, now: datetime) -> str:
    """The zone of the agent rollups' day rows this run writes (``zone``; None: theirs):
    when it is not the zone of the stored ones, those are rebuilt in it first."""
    stored = coverage_zone(s, AGENT_COVERAGE)
    covered = coverage(s, AGENT_COVERAGE)
    if zone is None or zone == stored:
        return stored
    if covered is not None:
        agent_time.rezone(s, *covered, zone, now)
        agent_calls.rezone(s, *covered, zone, now)
    return zone


def _row(interval: datetime, queue: str, summary: Summary, now: datetime) -> IntervalStat:
    return IntervalStat(
        interval_start=interval, queue=queue, computed_at=now,
        answered_within=json.dumps({str(t): n for t, n in summary.answered_within.items()}),
        total_wait_answered_s=summary.total_wait_answered_s,
        total_handle_s=summary.total_handle_s, longest_wait_s=summary.longest_wait_s,
        **{c: getattr(summary, c) for c in COUNTS})


class MissingThreshold(ValueError):
    """A stored interval was rolled up before an answer time was configured."""


def _summary(row: Row[Any], thresholds_s: Sequence[int]) -> Summary:
    """One stored interval's summary (``row``: the columns of ``interval_stats``)."""
    within = {int(k): v for k, v in json.loads(row.answered_within).items()}
    missing = [t for t in thresholds_s if t not in within]
    if missing:  # counting it as 0 answered in time would be a wrong figure, not a gap
        raise MissingThreshold(
            f"the rollup of {row[0].isoformat()} has no service level at {missing} s"
            " (configured since): recompute it with `civic311 report rollup --from ...`")
    return Summary(**{c: getattr(row, c) for c in COUNTS},
                   answered_within={t: within.get(t, 0) for t in thresholds_s},
                   total_wait_answered_s=row.total_wait_answered_s,
                   total_handle_s=row.total_handle_s, longest_wait_s=row.longest_wait_s)


def buckets(s: Session, start: datetime, end: datetime, queue: str | None,
            thresholds_s: Sequence[int], short_abandon_s: float | None,
            key: Callable[[datetime], K], days: str | None = None) -> dict[K, Summary]:
    """Summaries of [start, end) grouped by ``key`` of each call's 15-minute interval start
    (``key`` must not split a 15-minute interval: hours, days, months in the city do not).

    With ``days`` (a zone: ``key`` never splits that zone's days; ``day_stats.ANY_ZONE``:
    ``key`` is one bucket), the whole city days inside the rolled-up span are read from the
    day rows (``day_stats``), the intervals only at the span's edges.

    With ``short_abandon_s`` the figures are live: the 15-minute intervals the rollups do
    not cover (before their coverage starts, and from their last run on) are summarized
    from the call records themselves, so today's figures include the last minutes. Without
    it, only the rollups are read (settled history).
    """
    settled = (start, end)  # the span read from the rollups; the rest from the records
    if short_abandon_s is not None:
        covered = coverage(s)
        settled = (start, start) if covered is None else (
            max(start, covered[0]), min(end, floor(covered[1])))
    parts: dict[K, list[Summary]] = defaultdict(list)
    for row in _rolled_up_rows(s, *settled, queue, days):
        parts[key(row[0])].append(_summary(row, thresholds_s))
    if short_abandon_s is not None:
        fresh: dict[K, list[CallFacts]] = defaultdict(list)
        for lo, hi in ((start, max(start, settled[0])), (max(start, settled[1]), end)):
            for f in call_facts(s, lo, hi) if lo < hi else ():
                if not queue or f.queue == queue:
                    fresh[key(floor(f.entered_at))].append(f)
        for k, facts in fresh.items():
            parts[k].append(summarize(facts, thresholds_s, short_abandon_s))
    return {k: combine(v, thresholds_s) for k, v in parts.items()}


def _rolled_up_rows(s: Session, lo: datetime, hi: datetime, queue: str | None,
                    days: str | None) -> Iterator[Row[Any]]:
    """The rollup rows of [lo, hi), each starting with its start: the day rows of the whole
    days inside (with ``days``, ``day_stats.whole_days``), the interval rows around them.
    Plain rows, not ORM objects: a month holds thousands of intervals, and building the
    objects cost half the month report (bench/RESULTS.md)."""
    spans = [(lo, hi)]
    whole = day_stats.whole_days(s, lo, hi, days) if days and lo < hi else None
    if whole is not None:
        spans = [(lo, whole[0]), (whole[1], hi)]
        d = table(DayStat).c
        stmt = select(*d).where(d.day_start >= whole[0], d.day_start < whole[1])
        yield from s.execute(stmt.where(d.queue == queue) if queue else stmt)
    c = table(IntervalStat).c
    for a, b in spans:
        if a < b:
            stmt = select(*c).where(c.interval_start >= a, c.interval_start < b)
            yield from s.execute(stmt.where(c.queue == queue) if queue else stmt)


def intervals(s: Session, start: datetime, end: datetime, minutes: int, queue: str | None,
              thresholds_s: Sequence[int],
              short_abandon_s: float | None = None) -> list[tuple[datetime, Summary]]:
    """Every ``minutes``-long interval of [start, end) with its (combined) summary; live
    with ``short_abandon_s`` (``buckets``)."""
    if minutes not in INTERVAL_CHOICES:
        raise ValueError(f"interval must be one of {INTERVAL_CHOICES} minutes, not {minutes}")
    parts = buckets(s, start, end, queue, thresholds_s, short_abandon_s,
                    lambda t: floor(t, minutes))
    out = []
    t = floor(start, minutes)
    while t < end:
        out.append((t, parts.get(t) or combine([], thresholds_s)))
        t += timedelta(minutes=minutes)
    return out


def _agent_blocks(s: Session, since: datetime, start: datetime, until: datetime, zone: str,
                  now: datetime) -> None:
    """The blocks of days (``acd.day_blocks``) above the days [start, until) touches, among
    the whole days covered from ``since`` that are over; all of them afresh the first time
    (upgraded to 0313) and after the day rows changed zone. Halves before wholes."""
    first, done = (day_blocks.number(day_ceil(since, zone), zone),
                   day_blocks.number(now, zone))
    if blocks_zone(s) != zone:
        agent_time.drop_blocks(s)
        agent_calls.drop_blocks(s)
        todo = set(day_blocks.complete(first, done))
        _note(s, AGENT_BLOCKS, {"zone": zone}, now)
    else:
        days = range(day_blocks.number(start, zone),
                     day_blocks.number(min(until, now), zone) + 1)
        todo = {b for n in days for b in day_blocks.above(n, done) if b[0] >= first}
    for n, k in sorted(todo, key=lambda b: (b[1], b[0])):
        agent_time.sum_block(s, n, k, zone, now)
        agent_calls.sum_block(s, n, k, zone, now)


def computed_at(s: Session) -> datetime | None:
    covered = coverage(s)
    return covered[1] if covered else None


def jobs(settings: Settings, db: Database) -> list[Job]:
    """Every minute the last two hours (live calls finish), every 15 minutes the last day
    (reconciliation may complete older calls after an outage). The two never run at once
    (both fall due on the quarter hour): two rebuilds of one window would insert the same
    rows, and one would fail on the key."""
    one_at_a_time = threading.Lock()

    def recent(hours: float) -> int:
        with one_at_a_time:
            return _recent(hours)

    def _recent(hours: float) -> int:
        now = utcnow()
        since = now - timedelta(hours=hours)
        with db.session() as s:
            covered = coverage(s)
        if covered is not None:  # catch up after the worker was stopped
            since = min(since, covered[1] - SETTLE)
        return rollup(db, since, now + timedelta(minutes=BASE_MINUTES),
                      settings.sl_thresholds_s, settings.short_abandon_s, settings.timezone)

    return [Job("acd.rollup_recent", lambda: recent(2), seconds=60),
            Job("acd.rollup_day", lambda: recent(26), seconds=900)]
