"""Service-request reports at 10k vs 1M tickets in PostgreSQL, side by side in one run: the
queries behind ``/reports/requests`` (open backlog aged past due, requests received by type,
channel and district, closures on time, reopens and escalations: ``crm_bridge.tickets.
reports``) for every agency and for one, and the on-time closure table per agency and type
(``crm_bridge.tickets.sla.on_time_report``), each over the last 30 city days and today,
after the day tallies are built (``crm_bridge.tickets.tallies``; the build and the next
run, which finds nothing changed, are timed too) and the backlog counted
(``crm_bridge.tickets.backlog``; read a minute after its count, with the last minutes'
ticket writes of a city that size to correct for).

The tickets are ``bench_open311``'s (COPY, spread over 365 days, older ones mostly closed),
given here what a city's tickets also have and the reports count: channels (phone, web, app,
e-mail, text), two district layers (5 boroughs, 49 council districts from the place; one in
ten tickets has no place), an escalation on one ticket in ten and a reopen on one closed
ticket in thirty. ``--keep`` reuses the databases (``civic311_bench_o311_<size>``) and
leaves them.

Run: ``PYTHONPATH=. .venv/bin/python -m bench.bench_ticket_reports [--small 10000]
[--large 1000000] [--repeat 5] [--keep]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bench.bench_open311 import create_db, drop_db, load
from crm_bridge.models import BacklogState, TallyState
from crm_bridge.tickets import backlog, reports, tallies
from crm_bridge.tickets.sla import on_time_report
from foundation.db import Database

ENRICH = (
    "UPDATE crm_tickets SET channel = (ARRAY['phone', 'phone', 'phone', 'web', 'app', "
    "'email', 'sms'])[1 + id % 7]",
    "INSERT INTO crm_ticket_districts (ticket_id, layer, code, name) "
    "SELECT id, 'borough', 'B' || (1 + floor((lat - 40.6) / 0.06)::int), '' "
    "FROM crm_tickets WHERE id % 10 <> 0",
    "INSERT INTO crm_ticket_districts (ticket_id, layer, code, name) "
    "SELECT id, 'council', 'C' || (1 + floor((lat - 40.6) / 0.3 * 7)::int * 7 "
    "+ floor((long + 74.1) / 0.3 * 7)::int), '' FROM crm_tickets WHERE id % 10 <> 0",
    "INSERT INTO crm_ticket_events (ticket_id, kind, actor, at, text, public) "
    "SELECT id, 'escalated', 'sla', due_at + interval '1 hour', '', false FROM crm_tickets "
    "WHERE id % 10 = 3 AND due_at < now()",
    "INSERT INTO crm_ticket_events (ticket_id, kind, actor, at, text, public) "
    "SELECT id, 'reopened', 'resident', closed_at - interval '1 day', '', true "
    "FROM crm_tickets WHERE id % 30 = 7 AND closed_at IS NOT NULL",
)


def enrich(db: Database) -> None:
    """Channels, districts and events on COPY'd tickets (once per database), then VACUUM so
    the index-only scans see an all-visible table, as autovacuum leaves a real one."""
    with db.engine.begin() as c:
        if not c.scalar(sa.text("SELECT count(*) FROM crm_ticket_districts")):
            for stmt in ENRICH:
                c.execute(sa.text(stmt))
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(sa.text("VACUUM ANALYZE"))


ZONE = "America/New_York"


def count_backlog(db: Database, n: int) -> str:
    """The worker's backlog count (from nothing, then again with nothing changed), then the
    writes of the last minutes a city of this size makes: each ticket is written about three
    times, so ``n`` tickets over 365 days write ``3 n / 365`` a day, of which the read's
    look-back (``backlog.OVERLAP`` and a minute) sees 11 minutes' worth."""
    with db.engine.begin() as c:
        c.execute(sa.delete(BacklogState))
    started = time.perf_counter()
    counted = backlog.refresh(db)
    first = time.perf_counter() - started
    started = time.perf_counter()
    backlog.refresh(db)
    again = time.perf_counter() - started
    writes = max(1, round(3 * n / 365 * 11 / 1440))
    with db.engine.begin() as c:
        c.execute(sa.text("UPDATE crm_tickets SET updated_at = now() WHERE id IN (SELECT id "
                          "FROM crm_tickets ORDER BY random() LIMIT :k)"), {"k": writes})
    return (f"{counted:,} open tickets counted in {first:.2f} s, again (nothing changed) in "
            f"{again:.3f} s; then {writes} tickets written")


def timed(db: Database, fn: Callable[[Any], Any], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        with db.session() as s:
            t0 = time.perf_counter()
            fn(s)
            times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", type=int, default=10_000)
    ap.add_argument("--large", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--keep", action="store_true", help="keep the databases for the next run")
    args = ap.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    t0 = tallies.midnight(now.astimezone(ZoneInfo(ZONE)).date() - timedelta(days=30), ZONE)
    t1 = now  # the last 30 city days and today so far, as /crm/reports/requests asks
    names = {n: f"civic311_bench_o311_{n}" for n in (args.small, args.large)}
    dbs: dict[int, Database] = {}
    for n, name in names.items():
        db, loaded = create_db(name)
        print(f"{n:>9,} tickets: " + ("reused" if loaded else f"COPY in {load(db, n, now):.1f} s"))
        enrich(db)
        with db.engine.begin() as c:  # the first run after the upgrade counts every day
            c.execute(sa.delete(TallyState))
        started = time.perf_counter()
        days = tallies.refresh(db, ZONE)
        built = time.perf_counter() - started
        started = time.perf_counter()
        tallies.refresh(db, ZONE)
        print(f"{'':>9}  tallies: {days} days counted in {built:.1f} s; the next run "
              f"(nothing changed) {time.perf_counter() - started:.3f} s")
        print(f"{'':>9}  backlog: {count_backlog(db, n)}")
        dbs[n] = db
    with dbs[args.small].engine.connect() as c:
        agency = c.scalar(sa.text("SELECT code FROM crm_agencies ORDER BY code LIMIT 1"))
    # a read the most a minute's job leaves between counts: a minute after the count
    later = datetime.now(UTC) + timedelta(minutes=1)
    cases: list[tuple[str, Callable[[Any], Any]]] = [
        ("backlog, every agency", lambda s: reports.backlog(s, later, None)),
        (f"backlog, {agency}", lambda s: reports.backlog(s, later, agency)),
        ("received (30 days), every agency", lambda s: reports.received(s, t0, t1, None)),
        ("outcomes (30 days), every agency", lambda s: reports.outcomes(s, t0, t1, None)),
        ("on-time closure per agency and type (30 days)", lambda s: on_time_report(s, t0, t1)),
    ]
    print(f"\n| report | {args.small:,} s | {args.large:,} s | ratio |")
    print("|---|---|---|---|")
    spread = []
    for label, fn in cases:
        got = {n: timed(db, fn, args.repeat) for n, db in dbs.items()}
        small, large = (statistics.median(got[n]) for n in (args.small, args.large))
        print(f"| {label} | {small:.4f} | {large:.4f} | {large / small:.2f}x |")
        spread.append(f"- {label}: {min(got[args.small]):.4f}-{max(got[args.small]):.4f} at "
                      f"{args.small:,}; {min(got[args.large]):.4f}-{max(got[args.large]):.4f} "
                      f"at {args.large:,}")
    print("\nspread (s, min-max):")
    print("\n".join(spread))
    for n, db in dbs.items():
        db.dispose()
        if not args.keep:
            drop_db(names[n])


if __name__ == "__main__":
    main()
