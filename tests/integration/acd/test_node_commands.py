"""Agents shared by the nodes: every node's daemon carries out every log-in, log-out and
pause asked for on the web (each its own progress), a transfer only once, and the command
says what each node made of it (``acd.node_commands``)."""

from __future__ import annotations

from acd import live_store, node_commands
from acd.models import AgentCommand
from acd.states import CommandKind
from acd.transfer import TargetKind
from foundation.db import Database

QUEUES = ["citywide"]


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
