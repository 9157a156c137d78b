"""Call-rate ceilings measured side by side in one run, as a ratio.

1. Asterisk alone: SIPp callers to the self-test line (3119: answer, 1 s of audio, hang up),
   no FastAGI, no AMI bridge, at rising rates; the highest rate with zero failed calls.
2. The full path: SIPp callers to the express line 3111 -> FastAGI IVR -> queue -> 100
   agents (a registered SIPp phone each) with the daemon recording every call; the
   highest rate with zero failed calls AND zero lost or mismatched records (compared with
   queue_log).

Run as root: ``.venv/bin/python -m bench.bench_callpath [--seconds 10] [--db sqlite|postgres]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import select

from acd.models import CallRecord
from center import schema
from foundation.db import Database
from foundation.settings import default_cache_dir
from telephony import sipp
from tests.support.pbx import Pbx, make_pbx, running_daemon, wait_until
from tests.support.truth import truth

AGENTS = 100


def step(pbx: Pbx, number: str, rate: int, seconds: int) -> tuple[int, int, float]:
    calls = rate * seconds
    run = sipp.callers(pbx.sip_target, calls=calls, rate=rate, hold_ms=30000, number=number,
                       limit=5000)
    result = run.wait(seconds + 120)
    return result.successful, result.failed, calls


def ceiling(pbx: Pbx, number: str, rates: list[int], seconds: int,
            check: object = None) -> tuple[int, list[dict[str, object]]]:
    best, rows = 0, []
    for rate in rates:
        pbx.queue_log.write_text("")
        t0 = time.monotonic()
        ok, failed, calls = step(pbx, number, rate, seconds)
        verdict = failed == 0 and ok == calls
        extra = check(calls) if (check and verdict) else {}  # type: ignore[operator]
        verdict = verdict and extra.get("records_ok", True)
        rows.append({"rate": rate, "calls": calls, "ok": ok, "failed": failed,
                     "elapsed_s": round(time.monotonic() - t0, 1), **extra})
        print(json.dumps(rows[-1]), flush=True)
        if not verdict:
            break
        best = rate
        time.sleep(3)
    return best, rows


def make_db(kind: str, tmp: Path) -> Database:
    if kind == "sqlite":
        db = Database(f"sqlite:///{tmp / 'bench.db'}")
    else:
        name = f"civic311_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1/test",
                                 isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        db = Database(f"postgresql+psycopg://postgres@127.0.0.1/{name}")
    schema.upgrade(db)
    return db


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    ap.add_argument("--rates", default="10,25,50,75,100,150,200,300")
    args = ap.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="civic311-bench-"))
    pbx = make_pbx(tmp, default_cache_dir(), agent_count=str(AGENTS),
                   queues=json.dumps([{"name": "citywide", "title": "311", "wrapup_s": 0}]),
                   log_level="WARNING")
    pbx.start()
    try:
        pbx.reset()
        print("# Asterisk alone (self-test line 3119)", flush=True)
        alone, alone_rows = ceiling(pbx, "3119", rates, args.seconds)

        db = make_db(args.db, tmp)
        for ext in pbx.settings.agent_extensions:  # each registers, then logs in
            pbx.add_agent(ext, ["citywide"], ring_ms=0, talk_ms=500)

        def check(calls: int) -> dict[str, object]:
            logged = wait_until(lambda: (t := truth(pbx.queue_log)) and len(t) == calls
                                and all(c["outcome"] for c in t.values()) and t, 60,
                                what="queue_log to settle")
            def records() -> dict[str, CallRecord]:
                with db.session() as s:
                    return {r.uniqueid: r for r in s.scalars(
                        select(CallRecord).where(CallRecord.uniqueid.in_(list(logged))))}
            try:
                got = wait_until(lambda: (r := records()) and len(r) == len(logged)
                                 and all(x.outcome for x in r.values()) and r, 30,
                                 what="records")
            except AssertionError:
                got = records()
            bad = [u for u, e in logged.items() if u not in got
                   or got[u].outcome != e["outcome"] or got[u].wait_s != e["wait_s"]
                   or got[u].talk_s != e["talk_s"]]
            with db.session() as s:
                beat = json.loads(s.execute(sa.text(
                    "SELECT detail FROM heartbeats WHERE component='daemon'")).scalar_one())
            return {"records": len(got), "mismatched_or_lost": len(bad),
                    "records_ok": not bad, "bridge_lag_p99_ms": beat.get("bridge_lag_p99_ms")}

        print("# Full path (3111 -> FastAGI IVR -> queue -> agents, daemon recording)", flush=True)
        with running_daemon(pbx, db.url, tmp / "daemon.log"):
            full, full_rows = ceiling(pbx, "3111", rates, args.seconds, check)
        print(json.dumps({"asterisk_only_ceiling_cps": alone, "full_path_ceiling_cps": full,
                          "ratio": round(full / alone, 3) if alone else None,
                          "seconds_per_step": args.seconds, "db": args.db}), flush=True)
    finally:
        pbx.stop_phones()
        pbx.stop()


if __name__ == "__main__":
    main()
