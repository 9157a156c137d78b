"""Cumulative call counts and wait/talk histograms for Prometheus, derived from the database.

Why from the database and not from in-process counters: the web runs as several gunicorn
workers (and later several nodes), and every process restarts; a counter kept in memory
would reset with each and differ between them, while the call records are the one truth
all processes share. So a counter is "calls whose record says so, since the beginning".

Scrapes stay cheap at millions of records: the worker *folds* every finished call that
entered before ``floor(now - FOLD_LAG)`` into one stored document of totals (a ``LiveState``
row, a few kilobytes per queue), and a scrape adds to those totals one grouped SQL query
over the records after that point (about a day of calls, whatever the history's size;
``bench/bench_metrics.py``). ``FOLD_LAG`` matches the rollups' late window: a call that
reconciliation completes up to 26 hours after it entered is still counted. A call changed
later than that (a callback replacing an abandon) is not re-counted, and changing
``short_abandon_s`` or the buckets re-folds from scratch (a counter may then step down
once, which Prometheus reads as a reset).

Counts are by ``queue`` and by outcome, where abandons shorter than ``short_abandon_s``
are ``short_abandoned`` (as in ``acd.metrics``); live calls (no outcome yet) and callback
placeholders are not counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from acd.facts import NOT_PLACEHOLDER
from acd.models import CallRecord, LiveState
from acd.rollup import floor
from acd.states import CallOutcome
from foundation.db import Database, utcnow
from foundation.jobs import Job
from foundation.settings import Settings

TOTALS = "prometheus_totals"  # the LiveState row holding the folded totals
FOLD_LAG = timedelta(hours=26)
SHORT_ABANDONED = "short_abandoned"
OUTCOMES = (*(o.value for o in CallOutcome), SHORT_ABANDONED)
WAIT_BOUNDS_S = (5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900)
TALK_BOUNDS_S = (30, 60, 120, 180, 300, 450, 600, 900, 1200, 1800, 3600)


def wait_bounds(settings: Settings) -> tuple[float, ...]:
    """Wait histogram bounds: the standard ones plus every service-level answer time."""
    return tuple(sorted({float(b) for b in (*WAIT_BOUNDS_S, *settings.sl_thresholds_s)}))


def talk_bounds(settings: Settings) -> tuple[float, ...]:
    return tuple(float(b) for b in TALK_BOUNDS_S)


@dataclass
class Counts:
    """One (queue, outcome): calls, seconds waited and talked, and cumulative bucket counts
    (``wait[i]`` = calls that waited at most ``wait_bounds[i]`` seconds)."""

    calls: int = 0
    wait_sum_s: float = 0.0
    talk_sum_s: float = 0.0
    wait: list[int] = field(default_factory=list)
    talk: list[int] = field(default_factory=list)

    def add(self, other: Counts) -> None:
        self.calls += other.calls
        self.wait_sum_s += other.wait_sum_s
        self.talk_sum_s += other.talk_sum_s
        self.wait = [a + b for a, b in zip(self.wait or [0] * len(other.wait), other.wait,
                                           strict=True)]
        self.talk = [a + b for a, b in zip(self.talk or [0] * len(other.talk), other.talk,
                                           strict=True)]


Totals = dict[tuple[str, str], Counts]


def aggregate(s: Session, settings: Settings, since: datetime | None,
              until: datetime | None) -> Totals:
    """Counts of the finished calls that entered in [since, until) (None: unbounded), in
    one grouped query."""
    wait = func.coalesce(CallRecord.wait_s, 0.0)
    talk = func.coalesce(CallRecord.talk_s, 0.0)
    outcome = case((and_(CallRecord.outcome == CallOutcome.ABANDONED.value,
                         wait < settings.short_abandon_s), SHORT_ABANDONED),
                   else_=CallRecord.outcome).label("outcome")
    # grouped by an expression: on SQLite a plain ``queue`` makes the planner walk the
    # (queue, entered_at) index over the whole history to save a sort of a day's rows
    queue = func.coalesce(CallRecord.queue, "").label("queue")
    stmt = select(queue, outcome, func.count(), func.sum(wait), func.sum(talk),
                  *(func.sum(case((wait <= b, 1), else_=0)) for b in wait_bounds(settings)),
                  *(func.sum(case((talk <= b, 1), else_=0)) for b in talk_bounds(settings))
                  ).where(CallRecord.outcome.is_not(None), NOT_PLACEHOLDER)
    if since is not None:
        stmt = stmt.where(CallRecord.entered_at >= since)
    if until is not None:
        stmt = stmt.where(CallRecord.entered_at < until)
    n_wait = len(wait_bounds(settings))
    totals: Totals = {}
    for q, out, calls, wait_sum, talk_sum, *buckets in s.execute(
            stmt.group_by(queue, outcome)):
        totals[(q, out)] = Counts(int(calls), float(wait_sum or 0), float(talk_sum or 0),
                                      [int(b or 0) for b in buckets[:n_wait]],
                                      [int(b or 0) for b in buckets[n_wait:]])
    return totals


def _shape(settings: Settings) -> dict[str, object]:
    return {"short_abandon_s": settings.short_abandon_s, "wait_bounds": list(wait_bounds(settings)),
            "talk_bounds": list(talk_bounds(settings))}


def _load(row: LiveState | None, settings: Settings) -> tuple[datetime, Totals] | None:
    """The folded totals and the instant they reach, if they were folded with these settings."""
    if row is None:
        return None
    doc = json.loads(row.doc)
    if any(doc.get(k) != v for k, v in _shape(settings).items()):
        return None
    totals = {(q, o): Counts(c, ws, ts, w, t) for q, o, c, ws, ts, w, t in doc["rows"]}
    return datetime.fromisoformat(doc["until"]), totals


def _dump(until: datetime, totals: Totals, settings: Settings) -> str:
    rows = [[q, o, c.calls, c.wait_sum_s, c.talk_sum_s, c.wait, c.talk]
            for (q, o), c in sorted(totals.items())]
    return json.dumps({"until": until.isoformat(), **_shape(settings), "rows": rows})


def merge(*parts: Totals) -> Totals:
    out: Totals = {}
    for part in parts:
        for key, counts in part.items():
            out.setdefault(key, Counts()).add(counts)
    return out


def fold(db: Database, settings: Settings, now: datetime | None = None) -> datetime:
    """Add the calls that entered before ``floor(now - FOLD_LAG)`` to the stored totals;
    returns the instant the totals now reach. Idempotent; the row is locked while folding."""
    target = floor((now or utcnow()) - FOLD_LAG)
    with db.session() as s:
        row = s.scalars(select(LiveState).where(LiveState.name == TOTALS)
                        .with_for_update()).one_or_none()
        loaded = _load(row, settings)
        if loaded is not None and loaded[0] >= target:
            return loaded[0]
        since, base = loaded if loaded is not None else (None, {})
        totals = merge(base, aggregate(s, settings, since, target))
        doc = _dump(target, totals, settings)
        if row is None:
            s.add(LiveState(name=TOTALS, version=1, doc=doc, updated_at=utcnow()))
        else:
            row.doc, row.version, row.updated_at = doc, row.version + 1, utcnow()
    return target


def current(s: Session, settings: Settings) -> tuple[Totals, datetime | None]:
    """Every finished call counted up to now: the folded totals plus the records after them
    (all records when nothing was folded with these settings); and where the fold stands."""
    loaded = _load(s.get(LiveState, TOTALS), settings)
    if loaded is None:
        return aggregate(s, settings, None, None), None
    until, folded = loaded
    return merge(folded, aggregate(s, settings, until, None)), until


def jobs(settings: Settings, db: Database) -> list[Job]:
    """Fold every 10 minutes (a scrape reads at most FOLD_LAG + 10 minutes of records)."""
    return [Job("acd.prometheus_fold", lambda: fold(db, settings), seconds=600)]
