"""Persistence of the live side: the published board, agent state spans, agent commands."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from acd import transfer
from acd.agents import Transition, WrapupEnded
from acd.live import merge_boards
from acd.models import COMMAND_ACTIONS, AgentCommand, AgentStateSpan, CallRecord, LiveState, table
from acd.states import AgentState, CommandKind
from foundation import bulk, heartbeat
from foundation.db import utcnow
from foundation.settings import DEFAULT_NODE

BOARD = "wallboard"
SPAN_FIELDS = ("agent", "state", "reason", "started_at", "ended_at", "node")


def board_name(node: str = DEFAULT_NODE) -> str:
    """The live-state row of ``node``'s board: ``wallboard`` for the default node, as a
    single-node center has always named it; ``wallboard@<node>`` for another."""
    return BOARD if node == DEFAULT_NODE else f"{BOARD}@{node}"


def publish(s: Session, doc: dict[str, Any], node: str = DEFAULT_NODE) -> int:
    """Store ``node``'s board document under a new version; returns that version.

    One statement (the version is bumped in the database, so several writers never reuse
    one); readers put the row's version into the document (``board``).
    """
    text = orjson.dumps(doc, default=str).decode()
    now = utcnow()
    name = board_name(node)
    version = s.scalar(update(LiveState).where(LiveState.name == name)
                       .values(version=LiveState.version + 1, doc=text, updated_at=now)
                       .returning(LiveState.version))
    if version is None:
        s.add(LiveState(name=name, node=node, version=1, doc=text, updated_at=now))
        s.flush()
        version = 1
    return int(version)


_BOARDS = or_(LiveState.name == BOARD, LiveState.name.like(f"{BOARD}@%"))


def board_version(s: Session) -> int:
    """The version of the one live picture: the sum of every node's board version, so it
    grows whenever any node publishes (a node going silent is ``nodes_down``'s news)."""
    return int(s.scalar(select(func.coalesce(func.sum(LiveState.version), 0))
                        .where(_BOARDS)) or 0)


def board(s: Session) -> tuple[int, dict[str, Any]]:
    """The live picture: the one node's board as it published it, or, with several nodes,
    every node's merged (``live.merge_boards``), those whose daemon went silent left out."""
    rows = list(s.scalars(select(LiveState).where(_BOARDS)))
    if not rows:
        return 0, {"version": 0, "queues": {}, "agents": []}
    if len(rows) == 1:
        row = rows[0]
        return row.version, {**json.loads(row.doc), "version": row.version}
    down = nodes_down(s)
    version = sum(r.version for r in rows)
    by_node = {r.node or DEFAULT_NODE: r for r in rows}
    merged = merge_boards({n: json.loads(r.doc) for n, r in by_node.items()},
                          {n: n not in down for n in by_node},
                          {n: r.updated_at.isoformat(timespec="seconds")
                           for n, r in by_node.items()})
    return version, {**merged, "version": version}


def nodes_down(s: Session) -> frozenset[str]:
    """The nodes with a board whose daemon stopped beating (or never beat): with one node
    there is nothing to merge and this is empty (a Twilio center publishes with no daemon)."""
    nodes = [n or DEFAULT_NODE for n in s.scalars(select(LiveState.node).where(_BOARDS))]
    if len(nodes) < 2:
        return frozenset()
    beats = heartbeat.read_all(s)
    return frozenset(n for n in nodes if not beats.get(daemon_component(n), {}).get("ok"))


def daemon_component(node: str) -> str:
    """The daemon's heartbeat row of ``node``: ``daemon`` for the default node."""
    return "daemon" if node == DEFAULT_NODE else f"daemon@{node}"


def daemon_node(component: str) -> str | None:
    """The node whose daemon beats as ``component`` (``daemon_component``'s inverse); None
    for any other component."""
    if component == "daemon":
        return DEFAULT_NODE
    prefix, at, node = component.partition("@")
    return node if prefix == "daemon" and at and node else None


def record_moves(s: Session, moves: Sequence[Transition | WrapupEnded],
                 node: str = DEFAULT_NODE) -> None:
    """Close and open ``node``'s state spans for transitions; store after-call work on its
    call. Only ``node``'s spans are touched: an agent shared with another node keeps that
    node's spans as its daemon wrote them (the readers merge them, ``acd.span_merge``).

    A batch is written in three statements whatever its size: one executemany closing
    each moved agent's open span, one inserting the new spans (those superseded within the
    batch already closed), one setting after-call work.
    """
    acw = [{"uid": m.uniqueid, "who": m.agent, "acw": round(m.acw_s, 3)} for m in moves
           if isinstance(m, WrapupEnded) and m.acw_s > 0]  # records start at 0
    by_agent: dict[str, list[Transition]] = {}
    for m in moves:
        if isinstance(m, Transition):
            by_agent.setdefault(m.agent, []).append(m)
    conn = s.connection()
    spans = table(AgentStateSpan)
    if by_agent:
        conn.execute(update(spans).where(spans.c.agent == bindparam("a"),
                                         spans.c.node == node,
                                         spans.c.ended_at.is_(None))
                     .values(ended_at=bindparam("t")),
                     [{"a": a, "t": ts[0].at} for a, ts in by_agent.items()])
        rows = [{"agent": t.agent, "state": t.state, "reason": t.reason, "started_at": t.at,
                 "ended_at": ts[i + 1].at if i + 1 < len(ts) else None, "node": node}
                for ts in by_agent.values() for i, t in enumerate(ts)
                if t.state != AgentState.LOGGED_OUT]
        bulk.insert_rows(conn, spans, SPAN_FIELDS, rows)
    if acw:
        calls = table(CallRecord)
        conn.execute(update(calls).where(calls.c.uniqueid == bindparam("uid"),  # the leg the
                                         calls.c.agent == bindparam("who"))  # agent wraps up
                     .values(acw_s=bindparam("acw")), acw)


def close_node_spans(s: Session, node: str, at: datetime) -> int:
    """End ``node``'s open spans at ``at`` (one that began later ends where it began);
    returns how many. A daemon starts blind: what its node had open ends now and its
    snapshot reopens the truth; the node-lost rule ends a lost node's at its loss. Other
    nodes' spans, of the same agents too, are theirs to close."""
    spans = list(s.scalars(select(AgentStateSpan).where(AgentStateSpan.ended_at.is_(None),
                                                        AgentStateSpan.node == node)))
    for span in spans:
        span.ended_at = max(at, span.started_at)
    s.flush()
    return len(spans)


class CommandError(ValueError):
    pass


def request_command(s: Session, by: str, action: str, agent: str, queue: str | None,
                    reason: str, known_queues: Sequence[str]) -> AgentCommand:
    """Validate and queue a command for the daemon; nothing is stored when it is invalid."""
    if action not in COMMAND_ACTIONS or action in TRANSFERS:  # transfers: request_transfer
        raise CommandError(f"unknown action {action!r}; one of {', '.join(COMMAND_ACTIONS)}")
    if not agent.isdigit() or len(agent) > 10:
        raise CommandError(f"agent must be an extension number, not {agent!r}")
    if queue and queue not in known_queues:
        raise CommandError(f"unknown queue {queue!r}")
    if action == CommandKind.LOGIN and not queue:
        raise CommandError("log-in needs a queue")
    reason = reason.strip()
    if len(reason) > 64 or any(c in reason for c in "\r\n"):
        raise CommandError("pause reason: one line, at most 64 characters")
    cmd = AgentCommand(created_at=utcnow(), requested_by=by, action=action, agent=agent,
                       queue=queue or None, reason=reason if action == "pause" else "",
                       status="pending", detail="")
    s.add(cmd)
    s.flush()
    return cmd


TRANSFERS = (CommandKind.BLIND_TRANSFER, CommandKind.ATTENDED_TRANSFER)


def request_transfer(s: Session, by: str, agent: str, kind: CommandKind,
                     target: transfer.TargetKind, value: str,
                     known_queues: Sequence[str], known_agents: Sequence[str]) -> AgentCommand:
    """Queue a transfer of ``agent``'s current caller for the daemon (``acd.transfer`` names
    the target); a bad target is refused here and nothing is stored."""
    if kind not in TRANSFERS:
        raise CommandError(f"not a transfer: {kind!r}")
    if not agent.isdigit() or len(agent) > 10:
        raise CommandError(f"agent must be an extension number, not {agent!r}")
    if target is transfer.TargetKind.QUEUE and value not in known_queues:
        raise CommandError(f"unknown queue {value!r}")
    if target is transfer.TargetKind.AGENT and (value not in known_agents or value == agent):
        raise CommandError(f"no other agent {value!r} to transfer to")
    try:
        exten = (transfer.blind_exten(target, value) if kind == CommandKind.BLIND_TRANSFER
                 else transfer.attended_exten(target, value))
    except transfer.TransferError as exc:
        raise CommandError(str(exc)) from None
    cmd = AgentCommand(created_at=utcnow(), requested_by=by, action=kind, agent=agent,
                       queue=None, reason="", target=exten, status="pending", detail="")
    s.add(cmd)
    s.flush()
    return cmd


def pending_commands(s: Session, limit: int = 50) -> list[AgentCommand]:
    stmt = (select(AgentCommand).where(AgentCommand.status == "pending")
            .order_by(AgentCommand.id).limit(limit))
    commands = list(s.scalars(stmt))
    s.expunge_all()
    return commands


def finish_command(s: Session, command_id: int, ok: bool, detail: str) -> None:
    s.execute(update(AgentCommand).where(AgentCommand.id == command_id).values(
        status="done" if ok else "failed", detail=detail[:500], done_at=utcnow()))
