"""AMI ingestion: a recorded real AMI stream replayed over TCP at full speed, side by side.

1. Bare: panoramisk's ``Manager`` logs in and counts every event (its parse rate).
2. Full: the telephony daemon's own path — ``AmiBridge`` -> normalizer -> live board ->
   call records, agent spans and board versions written to the database — until every
   event is applied.

The stream is tests/data/ami_mixed.txt (recorded from the real Asterisk by
tests/data/record_ami.py), repeated with fresh uniqueids per copy so every copy makes new
calls. Prints events/s of both and their ratio (the target is full >= 0.5 x bare).

Run: ``.venv/bin/python -m bench.bench_ingest [--copies 1600] [--db postgres|sqlite]``.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from panoramisk import Manager
from panoramisk.message import Message
from sqlalchemy import func, select

from acd.daemon import Daemon
from acd.models import CallRecord
from acd.normalizer import normalize
from acd.recorder import RECORD_EVENTS
from center import schema
from foundation.db import Database
from foundation.settings import load_settings
from telephony.ami import flatten
from telephony.provision import Install

STREAM = Path(__file__).parents[1] / "tests" / "data" / "ami_mixed.txt"
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def build_stream(copies: int) -> tuple[bytes, int]:
    raw = STREAM.read_bytes().decode("utf-8", "ignore")
    blocks = [b for b in raw.split("\r\n\r\n") if b.startswith("Event:")
              and not b.startswith("Event: FullyBooted")]
    body = "\r\n\r\n".join(blocks) + "\r\n\r\n"
    ids = re.compile(r"(\d{10})\.(\d+)")
    out = [ids.sub(lambda m, i=i: f"{m.group(1)}.{i:06d}{m.group(2)}", body)
           for i in range(copies)]
    return "".join(out).encode(), len(blocks) * copies


def record_events(stream: bytes) -> int:
    """How many events of the stream change a call record: what the full run must apply."""
    blocks = stream.decode().split("\r\n\r\n")
    messages = (Message.from_line(b) for b in blocks if b.strip())
    return sum(1 for m in messages
               if m is not None and isinstance(normalize(flatten(m)), RECORD_EVENTS))


class FakeAsterisk:
    """Answers every action with Success; after Login, blasts the stream once."""

    def __init__(self, stream: bytes) -> None:
        self.stream = stream
        self.port = 0
        self.snapshots = 0  # QueueStatusComplete events sent (the daemon counts them too)

    async def start(self) -> None:
        server = await asyncio.start_server(self.serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        try:
            while True:
                block = await reader.readuntil(b"\r\n\r\n")
                fields = dict(line.split(": ", 1) for line in block.decode().split("\r\n")
                              if ": " in line)
                action, aid = fields.get("Action", "").lower(), fields.get("ActionID", "")
                writer.write(f"Response: Success\r\nActionID: {aid}\r\nMessage: ok\r\n\r\n"
                             .encode())
                if action == "queuestatus":
                    self.snapshots += 1
                    writer.write(f"Event: QueueStatusComplete\r\nActionID: {aid}\r\n\r\n"
                                 .encode())
                if action == "login":
                    writer.write(self.stream)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()


async def bare(stream: bytes, n: int) -> float:
    fake = FakeAsterisk(stream)
    await fake.start()
    done = asyncio.Event()
    count = 0
    t0 = 0.0

    def on_event(manager: Any, msg: Any) -> None:
        nonlocal count
        count += 1
        if count == n:
            done.set()

    manager = Manager(host="127.0.0.1", port=fake.port, username="u", secret="s",
                      events="on", ping_delay=3600, loop=asyncio.get_running_loop())
    manager.register_event("*", on_event)
    t0 = time.perf_counter()
    await manager.connect()
    await asyncio.wait_for(done.wait(), 600)
    elapsed = time.perf_counter() - t0
    manager.close()
    return elapsed


async def full(stream: bytes, n: int, db: Database, tmp: Path) -> tuple[float, int, int]:
    fake = FakeAsterisk(stream)
    await fake.start()
    settings = load_settings(data_dir=str(tmp / "data"), ami_port=fake.port, ami_secret="s",
                             agi_port=0)
    (tmp / "log").mkdir()
    install = Install(None, tmp, tmp / "log", tmp, tmp, tmp)
    daemon = Daemon(settings, db, install)
    await daemon.prepare()  # as the daemon does before it logs in to AMI (Daemon.run)
    t0 = time.perf_counter()
    async with daemon.bridge:
        consumer = asyncio.create_task(daemon.consume())
        # every event either applied or skipped at the bridge as one nothing uses
        while daemon.received + daemon.bridge.skipped < n + fake.snapshots:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - t0
        consumer.cancel()
    daemon.writer.shutdown(wait=True)
    return elapsed, daemon.bridge.dropped, daemon.recorder.applied


def fresh_database(kind: str, tmp: Path) -> tuple[Database, Any]:
    """A migrated empty database and a function that drops it."""
    if kind == "sqlite":
        path = tmp / f"bench-{uuid.uuid4().hex[:8]}.db"
        db = Database(f"sqlite:///{path}")
        schema.upgrade(db)
        return db, lambda: (db.dispose(), path.unlink())
    name = f"civic311_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    db = Database(admin.url.set(database=name).render_as_string(hide_password=False))
    schema.upgrade(db)

    def drop() -> None:
        db.dispose()
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return db, drop


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--copies", type=int, default=600)
    ap.add_argument("--repeat", type=int, default=3, help="alternating pairs; medians kept")
    ap.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    args = ap.parse_args()
    stream, n = build_stream(args.copies)
    expected = record_events(stream)
    bares, fulls = [], []
    with tempfile.TemporaryDirectory() as tmpdir:
        for i in range(args.repeat):
            bares.append(asyncio.run(bare(stream, n)))
            db, drop = fresh_database(args.db, Path(tmpdir))
            try:
                run = Path(tmpdir) / f"run{i}"
                run.mkdir()
                t_full, dropped, applied = asyncio.run(full(stream, n, db, run))
                with db.session() as s:
                    calls = s.scalar(select(func.count(CallRecord.id)))
            finally:
                drop()
            assert dropped == 0, f"{dropped} events dropped"
            assert applied == expected, f"{applied} of {expected} record events applied"
            fulls.append(t_full)
    t_bare, t_full = statistics.median(bares), statistics.median(fulls)
    print(f"events: {n} ({args.copies} copies of {STREAM.name}), database: {args.db}, "
          f"{args.repeat} alternating runs (medians)")
    print(f"bare panoramisk parse : {n / t_bare:10.0f} events/s ({t_bare:.2f} s)")
    print(f"full daemon ingestion : {n / t_full:10.0f} events/s ({t_full:.2f} s), "
          f"{calls} call records, all {applied} record events applied, 0 dropped")
    print(f"ratio full / bare     : {t_bare / t_full:.2f}")


if __name__ == "__main__":
    main()
