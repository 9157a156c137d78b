"""Agent commands when agents are shared by the nodes (``frontdoor_agents``, docs/nodes.md).

An agent registered with the front door is a queue member on every node, so a log-in,
log-out, pause or unpause asked for on the web must be carried out by every node's daemon,
not by whichever reads it first. Each node keeps how far it has gone in a log cursor of its
own (``<node>:agent_commands``, its ``offset`` the last command id it carried out) and
takes every such command past it, whatever another node made of it. The command's status
is the sum: ``failed`` when any node failed it, each node's word in ``detail``.

Any other command (a transfer: it acts on the agent's call) belongs to the one node whose
Asterisk has that call. Each node asks its own Asterisk whether it has the agent's channel
(``acd.command_loop``) and only then ``take``s the command: one conditional update, so one
node wins even if two believed they had it. The channel, not the call record, decides: the
records are written a batch after the answer, and one left open by a lost event would
name the wrong node. While a node carries a command out it stays ``pending`` (the desktop
follows that status), marked in ``detail`` as taken. A command nobody takes within
``TAKE_WITHIN_S``, or taken and never finished within ``FINISH_WITHIN_S`` (its node died
mid-action), is failed by any node (``expire``), with a word naming the node the records
put the call on and whether its daemon is down.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from acd.live_store import daemon_component
from acd.models import AgentCommand, CallRecord, LogCursor
from acd.states import CommandKind
from foundation import heartbeat
from foundation.db import utcnow

MEMBERSHIP = (CommandKind.LOGIN, CommandKind.LOGOUT, CommandKind.PAUSE, CommandKind.UNPAUSE)
_MEMBERSHIP = [str(k) for k in MEMBERSHIP]
TAKE_WITHIN_S = 10.0  # a live node finds its agent's channel within a tick or two (0.5 s)
FINISH_WITHIN_S = 60.0  # far above an action's own timeouts (CoreShowChannels: 10 s)
TAKEN = "taken by "  # ``detail`` of a call-bound command a node is carrying out


def call_bound(action: str) -> bool:
    """Whether ``action`` acts on the agent's call (one node's channel), not its membership."""
    return action not in _MEMBERSHIP


def cursor_name(node: str) -> str:
    return f"{node}:agent_commands"


def _cursor(s: Session, node: str) -> LogCursor:
    """This node's cursor; a node seen for the first time starts after every command
    already carried out (it does not replay the history of the center's log-ins)."""
    cursor = s.get(LogCursor, cursor_name(node))
    if cursor is None:
        done = s.scalar(select(func.max(AgentCommand.id)).where(
            AgentCommand.status != "pending"))
        cursor = LogCursor(name=cursor_name(node), node=node, offset=done or 0)
        s.add(cursor)
        s.flush()
    return cursor


def _untaken() -> ColumnElement[bool]:
    """A call-bound command still pending that no node has taken."""
    return and_(AgentCommand.action.not_in(_MEMBERSHIP), AgentCommand.status == "pending",
                AgentCommand.detail == "")


def commands_for(s: Session, node: str, limit: int = 50) -> list[AgentCommand]:
    """What node ``node`` may carry out, oldest first: every membership command past its
    cursor, and every call-bound one still pending that no node has taken (whatever the
    cursor: one skipped because the call was not here yet is looked at again)."""
    after = _cursor(s, node).offset
    stmt = (select(AgentCommand)
            .where(or_(and_(AgentCommand.id > after, AgentCommand.action.in_(_MEMBERSHIP)),
                       _untaken()))
            .order_by(AgentCommand.id).limit(limit))
    commands = list(s.scalars(stmt))
    s.expunge_all()
    return commands


def take(s: Session, node: str, command_id: int) -> bool:
    """Node ``node`` has the agent's call: True when it is the one node to carry the command
    out (the update only matches a command still pending and untaken)."""
    took = s.execute(update(AgentCommand).where(AgentCommand.id == command_id, _untaken())
                     .values(detail=f"{TAKEN}{node}"))
    return bool(took.rowcount)  # type: ignore[attr-defined]


def finish(s: Session, node: str, command_id: int, ok: bool, detail: str) -> None:
    """Node ``node`` carried out ``command_id``: its word goes into the command's detail;
    the first word sets the status, a later failure turns it to ``failed``. One UPDATE, so
    two nodes finishing at once both keep their word (SQLite has no row lock to read under)."""
    said = f"{node}: {detail}"[:500]
    first = AgentCommand.status == "pending"
    s.execute(update(AgentCommand).where(AgentCommand.id == command_id).values(
        detail=case((first, said),
                    else_=func.substr(AgentCommand.detail + "; " + said, 1, 500)),
        status=case((first, "done" if ok else "failed"),
                    else_=AgentCommand.status if ok else "failed"),
        done_at=utcnow()))
    cursor = _cursor(s, node)
    cursor.offset = max(cursor.offset, command_id)
    cursor.updated_at = utcnow()


def call_node(s: Session, agent: str) -> str | None:
    """The node the records put ``agent``'s call on (its newest answered, unended record)."""
    return s.scalar(select(CallRecord.node).where(
        CallRecord.agent == agent, CallRecord.answered_at.is_not(None),
        CallRecord.ended_at.is_(None)).order_by(CallRecord.answered_at.desc()).limit(1))


def _why(s: Session, cmd: AgentCommand, taker: str | None, now: datetime) -> str:
    beats = heartbeat.read_all(s, now)

    def down(node: str) -> str:
        ok = beats.get(daemon_component(node), {}).get("ok")
        return "" if ok else f" (node {node}'s daemon is down)"

    if taker:
        return (f"not carried out: node {taker} took it and said nothing within "
                f"{FINISH_WITHIN_S:.0f} s{down(taker)}")
    where = call_node(s, cmd.agent)
    if where is None:
        return (f"not carried out: no node found agent {cmd.agent} on a call within "
                f"{TAKE_WITHIN_S:.0f} s")
    return (f"not carried out: agent {cmd.agent}'s call is on node {where}, which did not "
            f"take it within {TAKE_WITHIN_S:.0f} s{down(where)}")


def expire(s: Session, node: str, now: datetime | None = None) -> list[tuple[int, str]]:
    """Fail the call-bound commands left too long: untaken past ``TAKE_WITHIN_S``, taken and
    unfinished past ``FINISH_WITHIN_S``; ``node`` signs the word. (id, word) of each."""
    now = now or utcnow()
    stale = s.scalars(select(AgentCommand).where(
        AgentCommand.action.not_in(_MEMBERSHIP), AgentCommand.status == "pending",
        AgentCommand.created_at <= now - timedelta(seconds=TAKE_WITHIN_S))
        .order_by(AgentCommand.id))
    failed = []
    for cmd in list(stale):
        taker = cmd.detail.removeprefix(TAKEN) if cmd.detail.startswith(TAKEN) else None
        if taker and now - cmd.created_at < timedelta(seconds=FINISH_WITHIN_S):
            continue
        word = _why(s, cmd, taker, now)
        done = s.execute(update(AgentCommand).where(
            AgentCommand.id == cmd.id, AgentCommand.status == "pending",
            AgentCommand.detail == cmd.detail).values(
            status="failed", detail=f"{node}: {word}"[:500], done_at=now))
        if done.rowcount:  # type: ignore[attr-defined]
            failed.append((cmd.id, word))
    return failed
