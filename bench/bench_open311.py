"""``GET /open311/v2/requests.json`` latency at 1M tickets vs 10k tickets in PostgreSQL, as a
ratio measured side by side in one run (target: at most 2x).

Two databases are migrated, given the demo catalog, and bulk-loaded with COPY: 10,000 and
1,000,000 tickets spread over the last 365 days (older ones mostly closed, like a real 311
backlog). Each query below is sent through the real Flask app (in process, so the time is the
app + database, not the network), alternating between the two sizes; the median of the
repeats is reported. Deep pages (``page=N``) are left out on purpose: OFFSET paging is linear
in the page number at any table size, which is what ``updated_after`` cursors are for.

Run: ``.venv/bin/python -m bench.bench_open311 [--small 10000] [--large 1000000] [--repeat 25]
[--keep]`` (``--keep`` leaves the databases for the next run, which then skips the load).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from center import schema
from center.web import create_app
from crm_bridge.seed import seed_catalog
from crm_bridge.tickets.checkdigit import ticket_number
from foundation.db import Database
from foundation.settings import load_settings

PG_ADMIN = os.environ.get("CIVIC311_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DAY = timedelta(days=1)
COLUMNS = ("id", "number", "token", "service_type_id", "agency_id", "state", "wire_status",
           "closure_reason", "resolution", "status_notes", "channel", "description",
           "attributes", "address", "lat", "long", "notify_email", "notify_sms",
           "requested_at", "updated_at", "closed_at", "due_at", "sla_stage",
           "escalation_level", "reopen_count")
OPEN_STATES = ("new", "acknowledged", "assigned", "in_progress", "on_hold")


def queries(now: datetime) -> list[tuple[str, str]]:
    iso = lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    return [
        ("default (last 90 days, first 1000)", ""),
        ("page_size=100", "page_size=100"),
        ("service_code=pothole", "service_code=pothole&page_size=100"),
        ("status=open", "status=open&page_size=100"),
        ("service_code + status=closed", "service_code=graffiti,pothole&status=closed"
                                         "&page_size=100"),
        ("start/end 30 days, 200 days ago", f"start_date={iso(now - 200 * DAY)}"
                                            f"&end_date={iso(now - 170 * DAY)}&page_size=100"),
        ("updated_after 1 day (sync cursor)", f"updated_after={iso(now - DAY)}&page_size=100"),
        ("service_request_id (5 ids)", "service_request_id={ids}"),
    ]


def create_db(name: str) -> tuple[Database, bool]:
    """A migrated database ``name``; True if it already held tickets (``--keep``)."""
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        exists = c.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    admin.dispose()
    db = Database(url)
    schema.upgrade(db)
    with db.engine.connect() as c:
        loaded = bool(c.scalar(sa.text("SELECT count(*) FROM crm_tickets")))
    return db, loaded


def drop_db(name: str) -> None:
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def load(db: Database, n: int, now: datetime, seed: int = 311) -> float:
    """COPY ``n`` tickets in; returns seconds."""
    with db.session() as s:
        seed_catalog(s, None)
    with db.engine.connect() as c:
        types = c.execute(sa.text("SELECT id, agency_id, code FROM crm_service_types")).all()
    rng = random.Random(seed)
    t0 = time.perf_counter()
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        batch = 50_000
        for start in range(1, n + 1, batch):
            buf = io.StringIO()
            for i in range(start, min(n, start + batch - 1) + 1):
                tid, agency, code = types[rng.randrange(len(types))]
                age = rng.random() * 365
                req = now - timedelta(days=age)
                closed = age > 2 and rng.random() < min(0.95, age / 20)
                if closed:
                    closed_at = req + timedelta(hours=rng.uniform(1, 24 * min(age, 30)))
                    state, wire, upd = "closed", "closed", closed_at
                else:
                    closed_at, state, wire = None, rng.choice(OPEN_STATES), "open"
                    upd = req + timedelta(hours=rng.uniform(0, 24 * min(age, 5)))
                row = (i, ticket_number(i), secrets.token_hex(12), tid, agency, state, wire,
                       "resolved" if closed else None, "Work completed" if closed else None,
                       "Work completed" if closed else None, "phone", f"{code} report {i}",
                       "{}", f"{rng.randrange(1, 3000)} Main St",
                       round(40.6 + rng.random() * 0.3, 6), round(-74.1 + rng.random() * 0.3, 6),
                       "t", "f", req.isoformat(), min(upd, now).isoformat(),
                       closed_at.isoformat() if closed_at else None,
                       (req + 10 * DAY).isoformat(), 0, 0, 0)
                buf.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
            buf.seek(0)
            with cur.copy(f"COPY crm_tickets ({', '.join(COLUMNS)}) FROM STDIN") as cp:
                cp.write(buf.getvalue())
        cur.execute("SELECT setval(pg_get_serial_sequence('crm_tickets', 'id'), %s)", (n,))
        raw.commit()
        cur.execute("ANALYZE crm_tickets")
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - t0


def app_for(db: Database, tmp: str) -> Any:
    settings = load_settings(data_dir=tmp, database_url=db.url)
    return create_app(settings, db)


def timed(client: Any, qs: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    r = client.get("/open311/v2/requests.json" + (f"?{qs}" if qs else ""))
    dt = time.perf_counter() - t0
    assert r.status_code == 200, (qs, r.status_code, r.data[:200])
    return dt, len(r.get_json())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", type=int, default=10_000)
    ap.add_argument("--large", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=25)
    ap.add_argument("--keep", action="store_true", help="keep the databases for the next run")
    args = ap.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    names = {args.small: f"civic311_bench_o311_{args.small}",
             args.large: f"civic311_bench_o311_{args.large}"}
    dbs: dict[int, Database] = {}
    for n, name in names.items():
        db, loaded = create_db(name)
        if loaded:
            print(f"{n:>9,} tickets: reusing {name}")
        else:
            print(f"{n:>9,} tickets: COPY in {load(db, n, now):.1f} s")
        dbs[n] = db
    clients = {n: app_for(db, tempfile.mkdtemp()).test_client() for n, db in dbs.items()}
    ids = {}
    for n, db in dbs.items():
        with db.engine.connect() as c:
            ids[n] = ",".join(c.scalars(sa.text(
                "SELECT number FROM crm_tickets ORDER BY id DESC LIMIT 5")).all())

    print(f"\nmedian of {args.repeat} requests each, sizes alternating\n")
    print(f"| query | rows | {args.small:,} ms | {args.large:,} ms | ratio |")
    print("|---|---|---|---|---|")
    worst = 0.0
    for label, qs in queries(now):
        times: dict[int, list[float]] = {n: [] for n in dbs}
        rows: dict[int, int] = {}
        for n, client in clients.items():  # warm up caches and the planner
            timed(client, qs.format(ids=ids[n]))
        for _ in range(args.repeat):
            for n, client in clients.items():
                dt, rows[n] = timed(client, qs.format(ids=ids[n]))
                times[n].append(dt)
        small, large = (statistics.median(times[n]) * 1000 for n in (args.small, args.large))
        ratio = large / small
        worst = max(worst, ratio)
        print(f"| {label} | {rows[args.small]} / {rows[args.large]} | {small:.1f} | "
              f"{large:.1f} | {ratio:.2f}x |")
    print(f"\nworst ratio {worst:.2f}x (target <= 2x): {'OK' if worst <= 2 else 'MISSED'}")
    for n, db in dbs.items():
        db.dispose()
        if not args.keep:
            drop_db(names[n])


if __name__ == "__main__":
    main()
