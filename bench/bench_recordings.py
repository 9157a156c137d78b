"""What recording costs, measured side by side in one run, as ratios.

1. Asterisk CPU per answered queue call with the queue's policy "none" and "all" (MixMonitor
   writing a WAV of every call): SIPp callers talking (RTP) to the direct line of a queue,
   answered by SIPp agent phones; rounds alternate none/all; CPU = the Asterisk process's
   user + system time (from /proc) over the round.
2. Cataloguing: moving a finished recording from the spool into the data directory with
   duration, size and SHA-256, per recording, against a bare file move of the same files.

Run as root: ``.venv/bin/python -m bench.bench_recordings [--calls 40] [--rounds 2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from center import schema
from foundation.db import Database
from foundation.settings import default_cache_dir
from recordings import ami, asterisk_sync
from recordings.catalog import Paths, catalog
from recordings.policy import RecordingPolicy
from tests.support.pbx import Pbx, make_pbx
from tests.support.recording_files import call_record, write_wav
from tests.support.talking_phones import talking_caller

AGENTS = ["100", "101", "102", "103", "104", "105", "106", "107"]


def asterisk_cpu_s(pbx: Pbx) -> float:
    assert pbx.proc is not None
    pid = int(pbx.proc.pid)
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick


def round_cpu(pbx: Pbx, mode: str, calls: int) -> tuple[float, int]:
    policies = [RecordingPolicy(q, mode=mode) for q in pbx.settings.queue_names()]
    asyncio.run(ami.with_bridge(pbx.settings, lambda b: asterisk_sync.push(b, policies)))
    spool = pbx.install.spool_dir / "monitor" / "civic311"
    before_files = len(list(spool.glob("*.wav"))) if spool.exists() else 0
    cpu0 = asterisk_cpu_s(pbx)
    run = talking_caller(pbx.sip_target, hold_ms=30000, number="queue-citywide",
                         calls=calls, rate=4)
    result = run.wait(calls + 120)
    time.sleep(1)
    cpu = asterisk_cpu_s(pbx) - cpu0
    files = (len(list(spool.glob("*.wav"))) if spool.exists() else 0) - before_files
    if result.failed:
        raise SystemExit(f"{result.failed} failed calls with policy {mode}")
    return cpu / max(result.successful, 1), files


def catalog_bench(n: int, seconds: float, tmp: Path) -> tuple[float, float]:
    db = Database(f"sqlite:///{tmp / 'cat.db'}")
    schema.upgrade(db)
    src = tmp / "src"
    answered = datetime.now(UTC) - timedelta(hours=1)
    uids = [f"1700000000.{i}" for i in range(n)]
    for uid in uids:
        write_wav(src / f"{uid}.wav", seconds)
    # bare move: the floor any cataloguing pays
    plain = tmp / "plain"
    shutil.copytree(src, tmp / "plain-src")
    plain.mkdir()
    t0 = time.perf_counter()
    for uid in uids:
        shutil.move(str(tmp / "plain-src" / f"{uid}.wav"), str(plain / f"{uid}.wav"))
    bare = (time.perf_counter() - t0) / n
    paths = Paths(tmp / "data", tmp / "spool")
    shutil.copytree(src, paths.incoming)
    with db.session() as s:
        for uid in uids:
            s.add(call_record(uid, "citywide", "100", answered, seconds))
    t0 = time.perf_counter()
    with db.session() as s:
        counts = catalog(s, paths, ["citywide"], datetime.now(UTC))
    full = (time.perf_counter() - t0) / n
    assert counts == {"ok": n}, counts
    db.dispose()
    return bare, full


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--catalog", type=int, default=200)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="civic311-bench-rec-"))
    pbx = make_pbx(tmp, default_cache_dir())
    pbx.start()
    try:
        for ext in AGENTS:
            pbx.add_agent(ext, ["citywide"], ring_ms=100, talk_ms=3000)
        per: dict[str, list[float]] = {"none": [], "all": []}
        files: dict[str, int] = {"none": 0, "all": 0}
        for _ in range(args.rounds):
            for mode in ("none", "all"):
                cpu, made = round_cpu(pbx, mode, args.calls)
                per[mode].append(cpu)
                files[mode] += made
        none_ms = 1000 * min(per["none"])
        all_ms = 1000 * min(per["all"])
        print(f"Asterisk CPU per answered 3 s call, best of {args.rounds} rounds of "
              f"{args.calls} calls: none {none_ms:.1f} ms, all {all_ms:.1f} ms, "
              f"ratio {all_ms / none_ms:.2f}x; recordings written: none {files['none']}, "
              f"all {files['all']}")
    finally:
        pbx.stop_phones()
        pbx.stop()
    bare, full = catalog_bench(args.catalog, 60.0, tmp)
    print(f"Catalog of {args.catalog} one-minute recordings: bare move {1000 * bare:.2f} ms, "
          f"catalog (move + WAV header + SHA-256 + row) {1000 * full:.2f} ms per recording, "
          f"ratio {full / bare:.1f}x, {1 / full:.0f} recordings/s")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
