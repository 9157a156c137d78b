"""Call reports at two sizes of history, side by side: the month report (``report calls``
over the last 30 days, from the rollups plus the unsettled edges read from records) with
its parts timed alone, the same report over the last calendar month,
a day's interval page, and a day read from the records alone — each at a small and a large
database, and their ratio.

The history is the demo's generator (``acd.history``: the daily and weekly shape of a 311
line, agents on shifts), written in weekly chunks, then rolled up as ``seed demo`` does.
The target of issue 13 is a ratio of at most 3x between 20k and 2M call records.

Run: ``.venv/bin/python -m bench.bench_reports [--small 20000] [--large 200000]
[--days 91] [--db postgres|sqlite] [--repeat 5] [--keep]`` (``--large 2000000`` for the full
size). ``--keep`` (PostgreSQL) keeps each size's database, ``civic311_bench_reports_<size>``,
and reuses it on the next run: migrated to the newest schema and rolled up again (idempotent),
so a 2M history is written once (about half an hour here) and measured many times;
``--catch-up`` rolls a kept database up from its last run only, as the worker would.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from acd import agent_time, history, history_store, queries, rollup
from acd.models import CallRecord
from bench.bench_ingest import PG, fresh_database
from center import schema
from foundation.db import Database
from foundation.settings import Settings, load_settings

TZ = ZoneInfo("America/New_York")
QUEUES = [history.QueueMix("citywide", 0.5), *(history.QueueMix(q, 0.1) for q in (
    "sanitation", "transportation", "environment", "buildings", "noise"))]
THRESHOLDS = [30, 60]
MEAN_DAY = sum(history.WEEKDAY_FACTOR) / 7  # an average day's share of a weekday's calls
CHUNK_DAYS = 7


def fill(db: Database, calls: int, first: date, days: int, catch_up: bool = False) -> int:
    """About ``calls`` call records over ``days`` from ``first``, rolled up; returns how many.
    A kept database that holds them already is rolled up again only; with ``catch_up``, and
    rolled up before, only from its last run on (the worker's job: a newer schema's day
    rows are built from the stored intervals, ``acd.day_stats``)."""
    written = _stored(db)
    if not written:
        written = _write(db, calls, first, days)
    start = datetime.combine(first, clock(0), tzinfo=TZ)
    with db.session() as s:
        covered = rollup.coverage(s)
    if catch_up and written and covered is not None:
        start = covered[1] - rollup.SETTLE
    rollup.rollup(db, start, datetime.now(TZ) + timedelta(minutes=15), THRESHOLDS, 5, TZ.key)
    return written


def _stored(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(CallRecord)) or 0)


def _write(db: Database, calls: int, first: date, days: int) -> int:
    volume = calls / (days * MEAN_DAY * 0.99)
    agents = [str(1000 + i) for i in range(max(8, math.ceil(volume / 60)))]
    written = 0
    for k in range(0, days, CHUNK_DAYS):
        part = history.generate(first + timedelta(days=k), min(CHUNK_DAYS, days - k), TZ,
                                QUEUES, agents, volume, seed=k)
        with db.session() as s:
            written += history_store.insert(s, part)
    return written


def kept_database(size: int, days: int) -> Database:
    """The PostgreSQL database of ``--keep`` for this size, created on first use, migrated."""
    name = f"civic311_bench_reports_{size}_{days}d"
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        if not c.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    db = Database(admin.url.set(database=name).render_as_string(hide_password=False))
    admin.dispose()
    schema.upgrade(db)
    return db


def runs(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Each run's seconds: the table shows the best, and the spread beside it."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def measure(db: Database, settings: Settings, first: date, days: int,
            repeat: int) -> dict[str, list[float]]:
    end_day = first + timedelta(days=days)
    month0 = datetime.combine(end_day - timedelta(days=30), clock(0), tzinfo=TZ)
    day0 = datetime.combine(end_day - timedelta(days=3), clock(0), tzinfo=TZ)
    day1 = day0 + timedelta(days=1)

    def month_report() -> None:
        with db.session() as s:
            queries.report(s, month0, month0 + timedelta(days=30), None, settings)

    month = (month0, month0 + timedelta(days=30))
    last_month = (end_day.replace(day=1) - timedelta(days=1)).replace(day=1)
    calendar = (datetime.combine(last_month, clock(0), tzinfo=TZ),
                datetime.combine(end_day.replace(day=1), clock(0), tzinfo=TZ))

    def calendar_month_report() -> None:  # the month page's period: whole blocks of days
        with db.session() as s:
            queries.report(s, *calendar, None, settings)

    def month_queue_figures() -> None:
        with db.session() as s:
            queries.summary(s, *month, None, THRESHOLDS, 5)

    def month_answered_per_agent() -> None:
        with db.session() as s:
            queries.answered_by_agent(s, *month)

    def month_agent_time() -> None:
        with db.session() as s:
            queries.state_seconds(s, *month)

    def month_agent_time_from_spans() -> None:
        with db.session() as s:
            agent_time.from_spans(s, *month)

    def interval_page() -> None:
        with db.session() as s:
            rollup.intervals(s, day0, day1, 30, None, THRESHOLDS)

    def day_from_records() -> None:
        with db.session() as s:
            queries.raw_summary(s, day0, day1, "citywide", THRESHOLDS, 5)

    return {name: runs(fn, repeat) for name, fn in (
        ("month report (rollups)", month_report),
        ("last calendar month's report", calendar_month_report),
        ("- its queue figures (day and interval rollups)", month_queue_figures),
        ("- its answered calls per agent (day rollups)", month_answered_per_agent),
        ("- its agent time per state (agent_state_intervals)", month_agent_time),
        ("  (the same agent time summed from the spans)", month_agent_time_from_spans),
        ("day's interval page", interval_page),
        ("one queue's day from records", day_from_records))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", type=int, default=20_000)
    ap.add_argument("--large", type=int, default=200_000)
    ap.add_argument("--days", type=int, default=91)
    ap.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--keep", action="store_true",
                    help="keep each size's PostgreSQL database and reuse it next time")
    ap.add_argument("--catch-up", action="store_true",
                    help="with --keep: roll a kept database up from its last run only")
    args = ap.parse_args()
    if args.keep and args.db != "postgres":
        ap.error("--keep keeps PostgreSQL databases only")
    first = datetime.now(TZ).date() - timedelta(days=args.days)
    results: dict[int, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in (args.small, args.large):
            if args.keep:
                db, drop = kept_database(size, args.days), lambda: None
            else:
                db, drop = fresh_database(args.db, Path(tmp))
            try:
                t0 = time.perf_counter()
                n = fill(db, size, first, args.days, args.keep and args.catch_up)
                print(f"{n} call records over {args.days} days in store, rolled up in "
                      f"{time.perf_counter() - t0:.1f} s ({args.db})")
                results[n] = measure(db, load_settings(data_dir=tmp), first, args.days,
                                     args.repeat)
            finally:
                drop()
    (small, ra), (large, rb) = results.items()
    a = {k: min(v) for k, v in ra.items()}
    b = {k: min(v) for k, v in rb.items()}
    print(f"\n| report | {small:,} records s | {large:,} records s | ratio |")
    print("|---|---|---|---|")
    for name in a:
        print(f"| {name} | {a[name]:.4f} | {b[name]:.4f} | {b[name] / a[name]:.2f}x |")
    print(f"\nmedian ratio {statistics.median(b[k] / a[k] for k in a):.2f}x (target <= 3x)")
    print("\nspread of the runs (s, min-max):")
    for name in a:
        print(f"- {name}: {min(ra[name]):.4f}-{max(ra[name]):.4f} at {small:,}; "
              f"{min(rb[name]):.4f}-{max(rb[name]):.4f} at {large:,}")


if __name__ == "__main__":
    main()
