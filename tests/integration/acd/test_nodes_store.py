"""Two nodes' logs into one database: each record carries its node, each node has its own
log cursors and board row, and an Asterisk restart on one node closes only its own calls.
The default node keeps the names a single-node center always had."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from acd import live_store
from acd.models import CallRecord, LiveState, LogCursor
from acd.reconcile import reconcile
from acd.recorder import close_cut_calls
from foundation import heartbeat
from foundation.db import Database, utcnow
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
        assert live_store.board(s)[0] == 2  # both nodes' boards, one picture
    assert still_open == {f"{T + 3}.3"}
    assert boards == {"wallboard": DEFAULT_NODE, "wallboard@east": "east"}


def test_the_board_merges_the_nodes_and_leaves_a_silent_one_off(database: Database) -> None:
    def doc(caller: str, since: str, agent: str, state: str) -> dict[str, object]:
        return {"queues": {"citywide": [{"uniqueid": caller, "since": since, "position": 1}]},
                "agents": [{"agent": agent, "state": state, "reason": "", "since": since,
                            "queues": ["citywide"], "paused_in": [], "pause_reason": {},
                            "call": None}]}

    with database.session() as s:
        live_store.publish(s, doc("1.1", "2026-01-05T10:00:02+00:00", "100", "available"))
        live_store.publish(s, doc("east-2.1", "2026-01-05T10:00:01+00:00", "101", "on_call"),
                           node="east")
        for node in (DEFAULT_NODE, "east"):
            heartbeat.beat(s, live_store.daemon_component(node), True, node=node)
    with database.session() as s:
        version, board = live_store.board(s)
        assert live_store.board_version(s) == version == 2
        assert live_store.nodes_down(s) == frozenset()
    assert [(c["uniqueid"], c["node"]) for c in board["queues"]["citywide"]] == [
        ("east-2.1", "east"), ("1.1", DEFAULT_NODE)]  # oldest first, whichever node
    assert [(a["agent"], a["node"]) for a in board["agents"]] == [
        ("100", DEFAULT_NODE), ("101", "east")]
    assert [n["up"] for n in board["nodes"]] == [True, True]

    with database.session() as s:  # east's daemon goes silent (SIGKILL, machine lost)
        row = s.get(heartbeat.Heartbeat, "daemon@east")
        assert row is not None
        row.updated_at = utcnow() - heartbeat.STALE_AFTER - timedelta(seconds=1)
    with database.session() as s:
        assert live_store.nodes_down(s) == frozenset({"east"})
        _, board = live_store.board(s)
    assert [c["uniqueid"] for c in board["queues"]["citywide"]] == ["1.1"]  # no ghosts
    assert [a["agent"] for a in board["agents"]] == ["100"]
    assert {n["node"]: n["up"] for n in board["nodes"]} == {DEFAULT_NODE: True, "east": False}
