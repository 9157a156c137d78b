"""Agent state spans with several nodes (docs/nodes.md): each node's daemon keeps its own
spans of an agent it shares with another node, its start closes only its own, the
node-lost rule ends the lost node's at its loss, and every reader of spans (agent time and
its rollups, occupancy, pause by reason, the agents page) sees one agent in its busiest
state, each second once: equal to a second-by-second oracle computed from the moves."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from acd import live_store, queries, range_report, rollup
from acd.agents import Transition
from acd.daemon import Daemon
from acd.models import AgentStateSpan
from acd.node_lost import close_lost_calls
from acd.states import AgentState
from foundation import heartbeat
from foundation.db import Database, utcnow
from foundation.settings import DEFAULT_NODE, Settings, load_settings
from telephony.install import Install
from tests import conftest as c

# 14:00 UTC two days ago: inside that city day (New York), which the rollups can cover
T = rollup.floor(utcnow() - timedelta(days=2), 24 * 60) + timedelta(hours=14)
HOUR = 3600
ZONE = "America/New_York"
# busiest first: what a supervisor sees an agent doing when two nodes disagree
BUSIEST = ["on_call", "ringing", "wrapup", "paused", "available"]
Move = tuple[str, str, str, str, int]  # node, agent, state, reason, second after T


def at(second: float) -> datetime:
    return T + timedelta(seconds=second)


def write(database: Database, node: str, moves: list[Move]) -> None:
    """``moves`` written as ``node``'s daemon writes its board's moves: one batch."""
    with database.session() as s:
        live_store.record_moves(s, [Transition(a, st, r, at(k)) for n, a, st, r, k in moves
                                    if n == node], node)


def spans(database: Database) -> list[tuple[str, str, str, datetime, datetime | None]]:
    with database.session() as s:
        return [(sp.node, sp.agent, sp.state, sp.started_at, sp.ended_at) for sp in s.scalars(
            select(AgentStateSpan).order_by(AgentStateSpan.node, AgentStateSpan.agent,
                                            AgentStateSpan.started_at))]


def open_spans(database: Database) -> dict[tuple[str, str], str]:
    """(node, agent) -> state of every open span."""
    return {(n, a): st for n, a, st, _, t1 in spans(database) if t1 is None}


def test_each_node_keeps_its_own_spans_of_a_shared_agent(database: Database) -> None:
    # 107 is logged in on both nodes; main and west move it in the same instant at T+30
    write(database, DEFAULT_NODE, [("main", "107", "available", "", 0)])
    write(database, "west", [("west", "107", "available", "", 5)])
    write(database, DEFAULT_NODE, [("main", "107", "ringing", "", 30)])
    write(database, "west", [("west", "107", "paused", "lunch", 30)])
    write(database, DEFAULT_NODE, [("main", "107", "on_call", "", 32),
                                   ("main", "107", "wrapup", "", 92)])
    # before spans kept a node, west's move closed main's span (and the other way round)
    assert open_spans(database) == {("main", "107"): "wrapup", ("west", "107"): "paused"}
    assert [(n, st, t0, t1) for n, _, st, t0, t1 in spans(database)] == [
        ("main", "available", at(0), at(30)), ("main", "ringing", at(30), at(32)),
        ("main", "on_call", at(32), at(92)), ("main", "wrapup", at(92), None),
        ("west", "available", at(5), at(30)), ("west", "paused", at(30), None)]
    with database.session() as s:  # an open span of each node runs to the period's end
        seconds = queries.state_seconds(s, T, at(100))
    # one agent: 0-30 available, 30-32 ringing over the pause, 32-92 on the call over it,
    # 92-100 wrap-up over it; the pause itself never shows, each second counted once
    assert seconds == pytest.approx({("107", "available", ""): 30.0,
                                     ("107", "ringing", ""): 2.0,
                                     ("107", "on_call", ""): 60.0,
                                     ("107", "wrapup", ""): 8.0})
    write(database, DEFAULT_NODE, [("main", "107", "available", "", 100)])
    with database.session() as s:
        seconds = queries.state_seconds(s, at(100), at(130))
    assert seconds == pytest.approx({("107", "paused", "lunch"): 30.0})  # paused beats idle


def daemon(settings_dir: Path, database: Database, node: str) -> Daemon:
    settings = load_settings(data_dir=str(settings_dir / node), ami_port=1, ami_secret="s",
                             agi_port=0, node=node)
    return Daemon(settings, database, Install(None, settings_dir, settings_dir,
                                              settings_dir, settings_dir, settings_dir))


def test_a_daemon_start_closes_only_its_own_nodes_spans(database: Database,
                                                        tmp_path: Path) -> None:
    write(database, DEFAULT_NODE, [("main", "107", "on_call", "", -60),
                                   ("main", "108", "available", "", -60)])
    write(database, "west", [("west", "107", "available", "", -50),
                             ("west", "109", "paused", "break", -40)])
    west, main = daemon(tmp_path, database, "west"), daemon(tmp_path, database, DEFAULT_NODE)
    try:
        before = utcnow()
        west._prepare_database()  # west's daemon starts (as ``Daemon.prepare`` does)
        after = utcnow()
        assert open_spans(database) == {("main", "107"): "on_call",
                                        ("main", "108"): "available"}
        closed = {a: t1 for n, a, _, _, t1 in spans(database) if n == "west"}
        assert set(closed) == {"107", "109"}
        assert all(t1 is not None and before <= t1 <= after for t1 in closed.values())
        # its snapshot reopens west's truth through the daemon's own write path
        west._persist([], [Transition("107", AgentState.AVAILABLE, "", after)], None)
        main._prepare_database()  # now main's daemon starts: west's new span stands
        assert open_spans(database) == {("west", "107"): "available"}
    finally:
        west.writer.shutdown(wait=True)
        main.writer.shutdown(wait=True)


def beat(database: Database, node: str, when: datetime) -> None:
    with database.session() as s:
        heartbeat.beat(s, live_store.daemon_component(node), True, node=node)
        row = s.get(heartbeat.Heartbeat, live_store.daemon_component(node))
        assert row is not None
        row.updated_at = when


def test_the_node_lost_rule_ends_the_lost_nodes_spans_at_its_loss(
        database: Database, caplog: pytest.LogCaptureFixture) -> None:
    last_beat = at(60)
    write(database, DEFAULT_NODE, [("main", "107", "available", "", 0)])
    write(database, "west", [("west", "107", "on_call", "", 10),
                             ("west", "109", "paused", "lunch", 20)])
    write(database, "west", [("west", "108", "available", "", 61)])  # after its last beat
    beat(database, "west", last_beat)
    now = last_beat + timedelta(seconds=601)
    beat(database, DEFAULT_NODE, now - timedelta(seconds=2))
    with caplog.at_level(logging.WARNING, logger="acd.node_lost"):
        assert close_lost_calls(database, now, 600) == {}  # no calls: only spans
    assert "node west" in caplog.text and "3 agent state spans ended" in caplog.text
    assert open_spans(database) == {("main", "107"): "available"}
    ends = {a: (t0, t1) for n, a, _, t0, t1 in spans(database) if n == "west"}
    assert ends == {"107": (at(10), last_beat), "109": (at(20), last_beat),
                    "108": (at(61), at(61))}  # never ending before it began
    with database.session() as s:  # from the loss on, 107 is what main says: available
        seconds = queries.state_seconds(s, at(0), at(120))
    assert seconds == pytest.approx({("107", "available", ""): 10.0 + 60.0,
                                     ("107", "on_call", ""): 50.0,
                                     ("109", "paused", "lunch"): 40.0})
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="acd.node_lost"):
        assert close_lost_calls(database, now + timedelta(minutes=1), 600) == {}
    assert caplog.text == ""  # a second run finds nothing open


def moves_of(rng: random.Random) -> list[Move]:
    """An hour of moves: 107 and 108 on main and west (108's moves in the same instants on
    both), 109 on west only; logged out in between now and then, everyone out by T+3590."""
    moves: list[Move] = []
    states = ["available"] * 3 + ["ringing", "on_call", "on_call", "wrapup", "paused",
                                   "logged_out"]
    instants = sorted(rng.sample(range(1, 3580), 90))
    for node, agent in (("main", "107"), ("west", "107"), ("main", "108"), ("west", "108"),
                        ("west", "109")):
        ks = instants if agent == "108" else sorted(rng.sample(range(1, 3580), 90))
        for k in [0, *ks]:
            state = rng.choice(states)
            reason = rng.choice(["lunch", "break", ""]) if state == "paused" else ""
            moves.append((node, agent, state, reason, k))
        moves.append((node, agent, "logged_out", "", 3590))
    return moves


def write_interleaved(database: Database, moves: list[Move]) -> None:
    """The two daemons write their boards' moves in batches of ten minutes, turn about."""
    for lo in range(0, HOUR, 600):
        nodes = ["main", "west"] if lo % 1200 else ["west", "main"]
        for node in nodes:
            write(database, node, [m for m in moves if lo <= m[4] < lo + 600 and m[0] == node])


def oracle(moves: list[Move], lo: int = 0, hi: int = HOUR
           ) -> dict[tuple[str, str, str], float]:
    """Second by second over [lo, hi) from the moves themselves: on each node an agent is in
    its last move's state (none once logged out); the agent in the busiest of them (the one
    entered first among equals)."""
    out: dict[tuple[str, str, str], float] = {}
    for agent in {m[1] for m in moves}:
        mine = [m for m in moves if m[1] == agent]
        for k in range(lo, hi):
            now = []
            for node in {m[0] for m in mine}:
                last = [m for m in mine if m[0] == node and m[4] <= k]
                if last and last[-1][2] != "logged_out":
                    now.append(last[-1])
            if now:
                _, _, st, reason, _ = min(now, key=lambda m: (BUSIEST.index(m[2]), m[4], m[0]))
                out[(agent, st, reason)] = out.get((agent, st, reason), 0.0) + 1.0
    return out


def test_reports_merge_the_nodes_and_count_no_second_twice(
        app: Any, database: Database, users: dict[str, str], settings: Settings) -> None:
    moves = moves_of(random.Random(1917))
    write_interleaved(database, moves)
    want = oracle(moves)
    in_states = {a: sum(v for k, v in want.items() if k[0] == a) for a in ("107", "108", "109")}
    assert all(0 < v <= HOUR for v in in_states.values())
    stored = {a: sum(((t1 or at(HOUR)) - t0).total_seconds()
                     for _, agent, _, t0, t1 in spans(database) if agent == a)
              for a in ("107", "108")}
    # the nodes overlap: summed as stored, the spans would count shared time twice
    assert all(stored[a] > in_states[a] + 60 for a in stored)
    day = range_report.Range(T.date(), T.date(), ZONE)

    def figures() -> tuple[Any, ...]:
        with database.session() as s:
            return (queries.state_seconds(s, *day.bounds()),
                    queries.state_seconds(s, at(437), at(2999)),
                    range_report.pause_by_reason(s, day),
                    queries.staffing_of_all(s, *day.bounds(), now=utcnow()).occupancy)

    def paused(seconds: dict[tuple[str, str, str], float]) -> dict[str, float]:
        out: dict[str, float] = {}
        for (_, st, reason), v in seconds.items():
            if st == "paused":
                out[reason or "no reason"] = out.get(reason or "no reason", 0.0) + v
        return out

    handle = sum(v for k, v in want.items() if k[1] in ("on_call", "wrapup"))
    staffed = sum(v for k, v in want.items() if k[1] != "paused")
    edge = oracle(moves, 437, 2999)

    def check() -> None:
        whole, part, pauses, occupancy = figures()
        assert whole == pytest.approx(want)
        assert {a: sum(v for k, v in whole.items() if k[0] == a) for a in in_states} == \
            pytest.approx(in_states)  # every second of an agent once
        assert part == pytest.approx(edge)  # a period cutting spans at both ends
        assert pauses == pytest.approx(paused(want))
        assert occupancy == pytest.approx(handle / staffed)

    check()  # from the spans
    rollup.rollup(database, day.bounds()[0], utcnow() + timedelta(minutes=15),
                  settings.sl_thresholds_s, settings.short_abandon_s, ZONE)
    with database.session() as s:
        assert rollup.settled(s, *day.bounds(), rollup.AGENT_COVERAGE) is not None
    check()  # from the agent time rollups, rebuilt from the merged spans

    client = app.test_client()
    c.login(client, users["supervisor"])
    page = client.get(f"/reports/agents?day={T.date()}").get_data(as_text=True)
    for agent in in_states:
        row = page.split(f'data-agent="{agent}"')[1].split("</tr>")[0]
        for st in AgentState:
            if st == AgentState.LOGGED_OUT:
                continue
            sec = sum(v for k, v in want.items() if k[0] == agent and k[1] == st)
            assert f'data-state="{st}" data-seconds="{sec:.0f}"' in row, (agent, st)
