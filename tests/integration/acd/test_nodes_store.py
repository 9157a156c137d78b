"""Two nodes' logs into one database: each record carries its node, each node has its own
log cursors and board row, and an Asterisk restart on one node closes only its own calls.
The default node keeps the names a single-node center always had."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from acd import live_store
from acd.models import CallRecord, LiveState, LogCursor
from acd.reconcile import reconcile
from acd.recorder import close_cut_calls
from foundation.db import Database
from foundation.settings import DEFAULT_NODE

T = 1_780_000_000


def log(path: Path, prefix: str, calls: int, open_calls: int = 0) -> Path:
    """A queue_log of ``calls`` answered calls and ``open_calls`` still waiting."""
    lines = []
    for i in range(calls + open_calls):
        uid = f"{prefix}{T + i}.{i}"
        lines.append(f"{T + i}|{uid}|citywide|NONE|ENTERQUEUE||+1212555{i:04d}|1")
        if i < calls:
            lines += [f"{T + i + 2}|{uid}|citywide|PJSIP/agent100|CONNECT|2|{uid}x|1",
                      f"{T + i + 9}|{uid}|citywide|PJSIP/agent100|COMPLETECALLER|2|7|1"]
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


def test_each_node_keeps_its_own_cursors_records_and_board(database: Database,
                                                           tmp_path: Path) -> None:
    main = reconcile(database, log(tmp_path / "main.log", "", 3, open_calls=1))
    east = reconcile(database, log(tmp_path / "east.log", "east-", 2, open_calls=1),
                     node="east")
    assert (main.created, east.created) == (4, 3)
    # a second pass over both reads nothing new: each node's cursor is its own
    assert reconcile(database, tmp_path / "main.log").created == 0
    assert reconcile(database, tmp_path / "east.log", node="east").created == 0
    with database.session() as s:
        by_node = {r.uniqueid: r.node for r in s.scalars(select(CallRecord))}
        cursors = {c.name: c.node for c in s.scalars(select(LogCursor))}
        live_store.publish(s, {"queues": {}, "agents": []})
        live_store.publish(s, {"queues": {}, "agents": []}, node="east")
    assert {n for u, n in by_node.items() if u.startswith("east-")} == {"east"}
    assert {n for u, n in by_node.items() if not u.startswith("east-")} == {DEFAULT_NODE}
    assert cursors == {"queue_log": DEFAULT_NODE, "east:queue_log": "east"}

    # east's Asterisk restarted: its waiting caller was cut, main's is still waiting
    assert close_cut_calls(database, datetime.fromtimestamp(T + 100, UTC), "east") == 1
    with database.session() as s:
        still_open = {r.uniqueid for r in s.scalars(
            select(CallRecord).where(CallRecord.outcome.is_(None)))}
        boards = {b.name: b.node for b in s.scalars(select(LiveState))}
        assert live_store.board(s)[0] == 1  # the wallboard page reads the default node's row
    assert still_open == {f"{T + 3}.3"}
    assert boards == {"wallboard": DEFAULT_NODE, "wallboard@east": "east"}
