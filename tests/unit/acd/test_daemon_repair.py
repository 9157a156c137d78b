"""Events the live path loses (a failed batch, a full inbox) trigger reconciliation at once
instead of waiting for the timer."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

from acd.daemon import Daemon
from center import schema
from foundation.db import Database
from foundation.settings import load_settings
from telephony.ami import Inbox
from telephony.provision import Install

JOIN = {"Event": "QueueCallerJoin", "Uniqueid": "1.1", "Queue": "citywide", "Position": "1",
        "CallerIDNum": "+12125550100", "Timestamp": "1795400000.0"}


def daemon(tmp_path: Path) -> Daemon:
    settings = load_settings(data_dir=str(tmp_path / "data"), ami_port=1, ami_secret="s",
                             agi_port=0)
    db = Database(f"sqlite:///{tmp_path / 'd.db'}")
    schema.upgrade(db)
    return Daemon(settings, db, Install(None, tmp_path, tmp_path, tmp_path, tmp_path, tmp_path))


async def consume_once(d: Daemon, *items: tuple[float, dict[str, Any]]) -> None:
    for item in items:
        d.bridge.events.put(item)
    task = asyncio.create_task(d.consume())
    for _ in range(100):
        await asyncio.sleep(0.01)
        if not d.bridge.events and d.received:
            break
    await asyncio.sleep(0.05)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def test_a_failed_batch_asks_for_reconciliation(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    d = daemon(tmp_path)

    def broken(*args: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(d, "_persist", broken)
    asyncio.run(consume_once(d, (0.0, JOIN)))
    assert d.repair.is_set()


def test_dropped_events_ask_for_reconciliation(tmp_path: Path) -> None:
    d = daemon(tmp_path)

    async def run() -> tuple[bool, bool]:
        await consume_once(d, (0.0, JOIN))
        healthy = d.repair.is_set()
        d.bridge.dropped = 3
        await consume_once(d, (0.0, {**JOIN, "Uniqueid": "1.2"}))
        return healthy, d.repair.is_set()

    assert asyncio.run(run()) == (False, True)  # a healthy batch does not ask; a drop does
    assert d.dropped_seen == 3


def test_events_queued_before_a_snapshot_are_recorded_too(tmp_path: Path) -> None:
    """After a (re)login the snapshot marker lands behind events already queued; the board
    restarts from the snapshot, but every event of the batch is still recorded (they were
    once dropped from the records and only reconciliation brought them back)."""
    from sqlalchemy import select

    from acd.daemon import SNAPSHOT_BEGIN
    from acd.models import CallRecord

    d = daemon(tmp_path)
    before = {**JOIN, "Uniqueid": "2.1"}
    after = {**JOIN, "Uniqueid": "2.2", "Position": "2"}
    asyncio.run(consume_once(d, (0.0, before), (0.0, {"Event": SNAPSHOT_BEGIN}), (0.0, after)))
    with d.db.session() as s:
        assert sorted(s.scalars(select(CallRecord.uniqueid))) == ["2.1", "2.2"]


def test_the_inbox_keeps_order_bounds_and_batches() -> None:
    async def run() -> tuple[list[Any], list[Any], bool, int]:
        inbox = Inbox(limit=3)
        assert all(inbox.put((float(i), {"n": str(i)})) for i in range(3))
        full = inbox.put((3.0, {"n": "3"}))  # over the limit: refused, nothing kept
        first = await inbox.take(2)
        rest = await inbox.take(10)
        waiter = asyncio.create_task(inbox.take(10))  # waits until something arrives
        await asyncio.sleep(0.01)
        assert not waiter.done()
        inbox.put((4.0, {"n": "4"}))
        late = await asyncio.wait_for(waiter, 1)
        return first, rest + late, full, len(inbox)

    first, rest, full, left = asyncio.run(run())
    assert [m["n"] for _, m in first] == ["0", "1"]
    assert [m["n"] for _, m in rest] == ["2", "4"]
    assert full is False and left == 0
