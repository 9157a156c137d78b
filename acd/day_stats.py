"""The call rollups at day grain: one row per queue and city day, the exact sum of that
day's 15-minute ``interval_stats`` rows, so a month's queue figures read 30 rows per queue
instead of 2,880 (bench/RESULTS.md).

Days are the city's: local midnight to local midnight (23 or 25 hours across a DST change),
as the range reports bucket (``acd.range_report``); a 15-minute interval never straddles one.
The rollup run that rewrites intervals rewrites the days they fall in, in the same
transaction, so a day row always equals the sum of its intervals. The day rows' coverage
(``DAY_COVERAGE``: the interval rollups' span, with the zone) says that they exist: a
database upgraded to 0308, or a city whose zone changed, gets them from the interval rows
on the next rollup run, and its reports read the interval rows until then.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Row, delete, select
from sqlalchemy.orm import Session

from acd import slices
from acd.metrics import Summary, combine
from acd.models import DayStat, IntervalStat, LiveState, table

DAY_COVERAGE = "day_rollup_coverage"  # a LiveState row: {"since", "as_of", "zone"}
ANY_ZONE = "*"  # a reader whose buckets are constant over any day (one total)
COUNTS = ("offered", "answered", "abandoned", "short_abandoned", "timed_out", "exit_key",
          "exit_empty", "refused", "callback", "dropped")


class Coverage(NamedTuple):
    since: datetime
    as_of: datetime
    zone: str


def coverage(s: Session) -> Coverage | None:
    row = s.get(LiveState, DAY_COVERAGE)
    if row is None:
        return None
    doc = json.loads(row.doc)
    return Coverage(datetime.fromisoformat(doc["since"]), datetime.fromisoformat(doc["as_of"]),
                    doc["zone"])


def _set_coverage(s: Session, span: tuple[datetime, datetime], zone: str,
                  now: datetime) -> None:
    doc = json.dumps({"since": span[0].isoformat(), "as_of": span[1].isoformat(),
                      "zone": zone})
    row = s.get(LiveState, DAY_COVERAGE)
    if row is None:
        s.add(LiveState(name=DAY_COVERAGE, version=1, doc=doc, updated_at=now))
    else:
        row.doc, row.updated_at, row.version = doc, now, row.version + 1


def midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant a city day starts (``slices.midnight``)."""
    return slices.midnight(day, tz.key)


def _day(t: datetime, tz: ZoneInfo) -> date:
    return t.astimezone(tz).date()


def whole_days(s: Session, lo: datetime, hi: datetime,
               zone: str) -> tuple[datetime, datetime] | None:
    """[d0, d1): the whole city days inside [lo, hi) that have day rows, when the day rows
    are in ``zone`` (``ANY_ZONE``: whatever theirs); None when there is none to read."""
    covered = coverage(s)
    if covered is None or zone not in (ANY_ZONE, covered.zone):
        return None
    lo, hi = max(lo, covered.since), min(hi, covered.as_of)
    if lo >= hi:
        return None
    d0, d1 = slices.day_ceil(lo, covered.zone), slices.day_floor(hi, covered.zone)
    return (d0, d1) if d0 < d1 else None


def _decoded(row: Row[Any]) -> tuple[Summary, set[int]]:
    within = {int(k): int(v) for k, v in json.loads(row.answered_within).items()}
    return Summary(**{c: getattr(row, c) for c in COUNTS}, answered_within=within,
                   total_wait_answered_s=row.total_wait_answered_s,
                   total_handle_s=row.total_handle_s,
                   longest_wait_s=row.longest_wait_s), set(within)


def rebuild(s: Session, start: datetime, until: datetime, zone: str, now: datetime) -> None:
    """Sum again every city day [start, until) touches from its interval rows (flushed)."""
    tz = ZoneInfo(zone)
    d0 = midnight(_day(start, tz), tz)
    d1 = midnight(_day(until, tz) + timedelta(days=1), tz)
    parts: dict[tuple[date, str], list[Summary]] = defaultdict(list)
    answer_times: dict[tuple[date, str], set[int]] = {}
    for row in s.execute(select(*table(IntervalStat).c).where(
            IntervalStat.interval_start >= d0, IntervalStat.interval_start < d1)):
        key = (_day(row.interval_start, tz), row.queue)
        summary, times = _decoded(row)
        parts[key].append(summary)
        answer_times[key] = answer_times.get(key, times) & times
    s.execute(delete(DayStat).where(DayStat.day_start >= d0, DayStat.day_start < d1))
    for (day, queue), summaries in parts.items():
        total = combine(summaries, sorted(answer_times[(day, queue)]))
        s.add(DayStat(
            day_start=midnight(day, tz), day_end=midnight(day + timedelta(days=1), tz),
            queue=queue, computed_at=now,
            answered_within=json.dumps({str(t): n for t, n in total.answered_within.items()}),
            total_wait_answered_s=total.total_wait_answered_s,
            total_handle_s=total.total_handle_s, longest_wait_s=total.longest_wait_s,
            **{c: getattr(total, c) for c in COUNTS}))


def refresh(s: Session, start: datetime, until: datetime, zone: str | None, now: datetime,
            before: tuple[datetime, datetime] | None,
            after: tuple[datetime, datetime] | None) -> None:
    """After a rollup run rewrote the intervals of [start, until) (the interval rollups'
    coverage ``before`` and ``after`` it): rewrite the days they fall in, or every day of
    the coverage when the day rows did not follow it (none yet, another zone; ``zone``
    None: the day rows' own, else UTC), and let the day rows cover what the intervals do."""
    current = coverage(s)
    zone = zone or (current.zone if current else "UTC")
    s.flush()
    if current is None or current.zone != zone or (current.since, current.as_of) != before:
        s.execute(delete(DayStat))
        if after is None:  # no span to cover: the days rebuilt below are not read
            s.execute(delete(LiveState).where(LiveState.name == DAY_COVERAGE))
        else:
            start, until = min(start, after[0]), max(until, after[1])
    rebuild(s, start, until, zone, now)
    if after is not None:
        _set_coverage(s, after, zone, now)
