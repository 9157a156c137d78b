"""Service-request reports at 10k vs 1M tickets in PostgreSQL, side by side in one run: the
queries behind ``/reports/requests`` (open backlog aged past due, requests received by type,
channel and district, closures on time, reopens and escalations: ``crm_bridge.tickets.
reports``) for every agency and for one, and the on-time closure table per agency and type
(``crm_bridge.tickets.sla.on_time_report``), each over the last 30 days.

The tickets are ``bench_open311``'s (COPY, spread over 365 days, older ones mostly closed);
``--keep`` reuses its databases (``civic311_bench_o311_<size>``) and leaves them.

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

import sqlalchemy as sa

from bench.bench_open311 import create_db, drop_db, load
from crm_bridge.tickets import reports
from crm_bridge.tickets.sla import on_time_report
from foundation.db import Database


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
    t0, t1 = now - timedelta(days=30), now
    names = {n: f"civic311_bench_o311_{n}" for n in (args.small, args.large)}
    dbs: dict[int, Database] = {}
    for n, name in names.items():
        db, loaded = create_db(name)
        print(f"{n:>9,} tickets: " + ("reused" if loaded else f"COPY in {load(db, n, now):.1f} s"))
        dbs[n] = db
    with dbs[args.small].engine.connect() as c:
        agency = c.scalar(sa.text("SELECT code FROM crm_agencies ORDER BY code LIMIT 1"))
    cases: list[tuple[str, Callable[[Any], Any]]] = [
        ("backlog, every agency", lambda s: reports.backlog(s, now, None)),
        (f"backlog, {agency}", lambda s: reports.backlog(s, now, agency)),
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
