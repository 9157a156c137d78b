"""Prometheus scrape time at two sizes of history, side by side: ``GET /metrics`` through the
Flask test client with the totals folded (what the worker keeps up), and without them (every
record aggregated at each scrape, what a naive SQL exposition does), and the first fold.

The history is the demo's generator (``acd.history``) at one city's daily volume; the large
database holds ten times the days, as a city's database grows with the years (the records
a scrape reads after the fold are about a day's, whatever the history). ``--same-days``
instead puts ten times the calls into the same days (a busier city: the day read grows too).

Run: ``.venv/bin/python -m bench.bench_metrics [--small 20000] [--large 200000]
[--db sqlite|postgres] [--repeat 5] [--same-days]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from acd import counters, live_store
from acd.models import LiveState
from bench.bench_ingest import fresh_database
from bench.bench_reports import TZ, best, fill
from center.web import create_app
from foundation.db import Database
from foundation.settings import load_settings

SMALL_DAYS = 91


def measure(db: Database, tmp: Path, repeat: int) -> dict[str, float]:
    settings = load_settings(data_dir=str(tmp / "data"), database_url=db.url)
    client = create_app(settings, db).test_client()
    with db.session() as s:
        live_store.publish(s, {"queues": {}, "agents": []})

    def scrape() -> None:
        res = client.get("/metrics")
        assert res.status_code == 200 and b"civic311_calls_total" in res.data

    def unfold() -> None:
        with db.session() as s:
            row = s.get(LiveState, counters.TOTALS)
            if row is not None:
                s.delete(row)

    unfold()
    scrape()  # warm-up: the first request builds templates and connections
    naive = best(scrape, repeat)
    t0 = time.perf_counter()
    counters.fold(db, settings)
    first_fold = time.perf_counter() - t0
    return {"scrape, folded totals": best(scrape, repeat),
            "scrape, every record aggregated": naive, "first fold (from scratch)": first_fold}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", type=int, default=20_000)
    ap.add_argument("--large", type=int, default=200_000)
    ap.add_argument("--db", choices=("postgres", "sqlite"), default="sqlite")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--same-days", action="store_true")
    args = ap.parse_args()
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in (args.small, args.large):
            days = SMALL_DAYS if args.same_days else round(SMALL_DAYS * size / args.small)
            first = datetime.now(TZ).date() - timedelta(days=days - 1)
            db, drop = fresh_database(args.db, Path(tmp))
            try:
                t0 = time.perf_counter()
                n = fill(db, size, first, days)
                print(f"{n} call records over {days} days written in "
                      f"{time.perf_counter() - t0:.1f} s ({args.db})")
                results[n] = measure(db, Path(tmp), args.repeat)
            finally:
                drop()
    (small, a), (large, b) = results.items()
    print(f"\n| {args.db} | {small:,} records s | {large:,} records s | ratio |")
    print("|---|---|---|---|")
    for name in a:
        print(f"| {name} | {a[name]:.4f} | {b[name]:.4f} | {b[name] / a[name]:.2f}x |")


if __name__ == "__main__":
    main()
