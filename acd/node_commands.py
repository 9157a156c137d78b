"""Agent commands when agents are shared by the nodes (``frontdoor_agents``, docs/nodes.md).

An agent registered with the front door is a queue member on every node, so a log-in,
log-out, pause or unpause asked for on the web must be carried out by every node's daemon,
not by whichever reads it first. Each node keeps how far it has gone in a log cursor of its
own (``<node>:agent_commands``, its ``offset`` the last command id it carried out) and
takes every such command past it, whatever another node made of it. The command's status
is the sum: ``failed`` when any node failed it, each node's word in ``detail``. Any other
command (a transfer) is taken while pending, as on a single node: by the first daemon.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from acd.models import AgentCommand, LogCursor
from acd.states import CommandKind
from foundation.db import utcnow

MEMBERSHIP = (CommandKind.LOGIN, CommandKind.LOGOUT, CommandKind.PAUSE, CommandKind.UNPAUSE)


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


def commands_for(s: Session, node: str, limit: int = 50) -> list[AgentCommand]:
    """What node ``node`` has to carry out, oldest first."""
    after = _cursor(s, node).offset
    stmt = (select(AgentCommand)
            .where(AgentCommand.id > after,
                   or_(AgentCommand.action.in_([str(k) for k in MEMBERSHIP]),
                       AgentCommand.status == "pending"))
            .order_by(AgentCommand.id).limit(limit))
    commands = list(s.scalars(stmt))
    s.expunge_all()
    return commands


def finish(s: Session, node: str, command_id: int, ok: bool, detail: str) -> None:
    """Node ``node`` carried out ``command_id``: its word goes into the command's detail;
    the first word sets the status, a later failure turns it to ``failed``."""
    cmd = s.get(AgentCommand, command_id, with_for_update=True)
    if cmd is not None:
        said = f"{node}: {detail}"
        if cmd.status == "pending":
            cmd.status, cmd.detail = ("done" if ok else "failed"), said[:500]
        else:
            cmd.detail = f"{cmd.detail}; {said}"[:500]
            if not ok:
                cmd.status = "failed"
        cmd.done_at = utcnow()
    cursor = _cursor(s, node)
    cursor.offset = max(cursor.offset, command_id)
    cursor.updated_at = utcnow()
