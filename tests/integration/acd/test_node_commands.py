"""Agents shared by the nodes: every node's daemon carries out every log-in, log-out and
pause asked for on the web (each its own progress); a transfer only by the node whose
Asterisk has the agent's call, exactly once, or failed with a word after a bounded time;
and the command says what each node made of it (``acd.node_commands``, ``acd.command_loop``).

Two nodes' command loops run here against one database (SQLite and PostgreSQL), each in its
own threads, as two daemons would; what each node's Asterisk would answer to "is agent 107
on a call here?" is the one thing given (real Asterisk: tests/integration/
test_frontdoor_agents_pbx.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from acd import live_store, node_commands
from acd.command_loop import CommandLoop
from acd.models import AgentCommand
from acd.reconcile import reconcile
from acd.states import CommandKind
from acd.transfer import TargetKind
from foundation import heartbeat
from foundation.db import Database, utcnow
from telephony.ami import AmiError

QUEUES = ["citywide"]
T = 1_780_000_000


def ids(database: Database, node: str) -> list[int]:
    with database.session() as s:
        return [c.id for c in node_commands.commands_for(s, node)]


def test_every_node_carries_out_every_login_and_a_transfer_once(database: Database) -> None:
    with database.session() as s:
        login = live_store.request_command(s, "ana", "login", "100", "citywide", "", QUEUES).id
        xfer = live_store.request_transfer(s, "ana", "100", CommandKind.BLIND_TRANSFER,
                                           TargetKind.QUEUE, "citywide", QUEUES, ["100"]).id
    assert ids(database, "east") == ids(database, "west") == [login, xfer]

    with database.session() as s:
        node_commands.finish(s, "east", login, True, "logged in to citywide")
        node_commands.finish(s, "east", xfer, True, "transferred")
    assert ids(database, "east") == []
    assert ids(database, "west") == [login]  # the transfer was done, by east

    with database.session() as s:
        node_commands.finish(s, "west", login, False, "no such queue")
    with database.session() as s:
        cmd = s.get(AgentCommand, login)
        assert cmd is not None
        assert (cmd.status, cmd.detail) == (
            "failed", "east: logged in to citywide; west: no such queue")
    assert ids(database, "west") == []


def test_a_node_seen_for_the_first_time_does_not_replay_the_past(database: Database) -> None:
    with database.session() as s:
        old = live_store.request_command(s, "ana", "pause", "100", None, "lunch", QUEUES).id
        live_store.finish_command(s, old, True, "paused")  # a single node carried it out
        new = live_store.request_command(s, "ana", "unpause", "100", None, "", QUEUES).id
    assert ids(database, "north") == [new]
    with database.session() as s:
        node_commands.finish(s, "north", new, True, "unpaused")
    assert ids(database, "north") == []


class Node:
    """One node's daemon as far as commands go: its loop, what it carried out, and whether
    its Asterisk has a channel of agent 107 (``calls``)."""

    def __init__(self, database: Database, name: str, calls: set[str],
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.name, self.calls, self.done = name, calls, list[tuple[int, str]]()
        self.loop = CommandLoop(database, name, True, self.in_db, self.carry_out,
                                self.has_call, clock)

    @staticmethod
    async def in_db(fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    async def has_call(self, agent: str) -> bool:
        return agent in self.calls

    async def carry_out(self, c: AgentCommand) -> str:
        await asyncio.sleep(0.01)  # an AMI round trip: the other node runs meanwhile
        self.done.append((c.id, c.action))
        if node_commands.call_bound(c.action) and c.agent not in self.calls:
            raise AmiError(f"agent {c.agent} is on no call")
        return f"{c.action} {c.target or c.queue}"


def west_talking(database: Database, tmp_path: Path) -> None:
    """west's daemon has recorded agent 107 answering a caller (from west's queue_log)."""
    log = tmp_path / "west.log"
    log.write_text(f"{T}|west-{T}.1|citywide|NONE|ENTERQUEUE||+12125550001|1\n"
                   f"{T + 3}|west-{T}.1|citywide|PJSIP/agent107|CONNECT|3|x1|1\n")
    reconcile(database, log, node="west")


def transfer(database: Database, agent: str = "107") -> int:
    with database.session() as s:
        return live_store.request_transfer(s, "ana", agent, CommandKind.BLIND_TRANSFER,
                                           TargetKind.QUEUE, "citywide", QUEUES, [agent]).id


def command(database: Database, command_id: int) -> tuple[str, str]:
    with database.session() as s:
        cmd = s.get(AgentCommand, command_id)
        assert cmd is not None
        return cmd.status, cmd.detail


async def rounds(*nodes: Node, n: int = 4) -> None:
    for _ in range(n):
        await asyncio.gather(*(node.loop.run_once() for node in nodes))


def test_the_node_with_the_call_carries_out_the_transfer_once(
        database: Database, tmp_path: Path) -> None:
    west_talking(database, tmp_path)
    main, west = Node(database, "main", set()), Node(database, "west", {"107"})
    with database.session() as s:
        login = live_store.request_command(s, "ana", "login", "107", "citywide", "", QUEUES).id
    xfer = transfer(database)
    asyncio.run(rounds(main, west))

    assert main.done == [(login, "login")]  # main never touched the transfer
    assert west.done == [(login, "login"), (xfer, "xfer_blind")]
    assert command(database, xfer) == ("done", "west: xfer_blind queue-citywide")
    status, detail = command(database, login)  # every node, in whichever order they came
    assert (status, sorted(detail.split("; "))) == (
        "done", ["main: login citywide", "west: login citywide"])


def test_two_nodes_that_both_see_the_call_carry_it_out_once(
        database: Database, tmp_path: Path) -> None:
    """Even if both nodes answered "here" (they never should), one takes each command."""
    main, west = Node(database, "main", {"107"}), Node(database, "west", {"107"})
    xfers = [transfer(database) for _ in range(12)]
    asyncio.run(rounds(main, west))

    carried = sorted(i for node in (main, west) for i, _ in node.done)
    assert carried == xfers
    for i in xfers:
        status, detail = command(database, i)
        assert status == "done" and detail.split(":")[0] in ("main", "west")


def age(database: Database, command_id: int, seconds: float) -> None:
    with database.session() as s:
        cmd = s.get(AgentCommand, command_id)
        assert cmd is not None
        cmd.created_at = utcnow() - timedelta(seconds=seconds)


def test_a_transfer_for_a_node_that_is_down_fails_after_a_bounded_time(
        database: Database, tmp_path: Path) -> None:
    west_talking(database, tmp_path)
    with database.session() as s:  # west beat once, 40 s ago: its daemon is down
        heartbeat.beat(s, live_store.daemon_component("west"), True, node="west")
        row = s.get(heartbeat.Heartbeat, live_store.daemon_component("west"))
        assert row is not None
        row.updated_at = utcnow() - timedelta(seconds=40)
    main = Node(database, "main", set())
    xfer = transfer(database)
    asyncio.run(rounds(main, n=2))
    assert command(database, xfer) == ("pending", "")  # within the bound: west may yet

    age(database, xfer, node_commands.TAKE_WITHIN_S)
    asyncio.run(rounds(main, n=2))
    assert main.done == []
    assert command(database, xfer) == (
        "failed", "main: not carried out: agent 107's call is on node west, which did not "
        "take it within 10 s (node west's daemon is down)")


def test_a_transfer_nobody_finds_or_finishes_fails_with_a_word(
        database: Database, tmp_path: Path) -> None:
    main, west = Node(database, "main", set()), Node(database, "west", set())
    nowhere, dropped = transfer(database, "108"), transfer(database)
    with database.session() as s:  # west took it, then died before it said how it went
        assert node_commands.take(s, "west", dropped)
    with database.session() as s:
        assert not node_commands.take(s, "main", dropped)
    age(database, nowhere, node_commands.TAKE_WITHIN_S)
    age(database, dropped, node_commands.TAKE_WITHIN_S)
    asyncio.run(rounds(main, west))
    status, detail = command(database, nowhere)  # failed by whichever node came first
    assert status == "failed" and detail.partition(": ")[2] == (
        "not carried out: no node found agent 108 on a call within 10 s")
    assert command(database, dropped) == ("pending", "taken by west")  # it may yet answer

    age(database, dropped, node_commands.FINISH_WITHIN_S)
    asyncio.run(rounds(main))
    assert command(database, dropped) == (
        "failed", "main: not carried out: node west took it and said nothing within 60 s "
        "(node west's daemon is down)")
    assert main.done == west.done == []
