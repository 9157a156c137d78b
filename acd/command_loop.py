"""One node's pass over the agent commands asked for on the web (log-in, pause, transfer).

On a single node (or nodes with agents of their own) the daemon carries out every pending
command, first come. With agents shared by the nodes (``frontdoor_agents``) a membership
command is carried out by every node, and a call-bound one (a transfer) only by the node
whose Asterisk has the agent's call, taken once (``acd.node_commands``); one nobody can take
is failed after a bounded time. The loop is apart from the daemon so that two nodes' loops
can run against one database in a test, each with its own answer to "is the call here?".
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from acd import live_store, node_commands
from acd.models import AgentCommand
from foundation.db import Database, utcnow
from telephony.ami import AmiError

log = logging.getLogger(__name__)

InDb = Callable[..., Awaitable[Any]]  # runs a blocking function off the event loop


class CommandLoop:
    def __init__(self, db: Database, node: str, shared: bool, in_db: InDb,
                 carry_out: Callable[[AgentCommand], Awaitable[str]],
                 has_call: Callable[[str], Awaitable[bool]],
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.node, self.shared, self.in_db = db, node, shared, in_db
        self.carry_out, self.has_call, self.clock = carry_out, has_call, clock

    async def run_once(self) -> None:
        """Carry out what this node may, then fail the call-bound commands left too long."""
        for c in await self.in_db(self._pending):
            if self.shared and node_commands.call_bound(c.action):
                if not await self.has_call(c.agent):
                    continue  # another node's call, or none yet: that node takes it
                if not await self.in_db(self._take, c.id):
                    continue  # another node took it first
            try:
                detail = await self.carry_out(c)
                ok = True
            except AmiError as exc:
                ok, detail = False, str(exc)
            log.info("agent command %d %s %s %s: %s", c.id, c.action, c.agent,
                     c.queue or "*", detail)
            await self.in_db(self._finish, c.id, ok, detail)
        if self.shared:
            for command_id, word in await self.in_db(self._expire):
                log.warning("agent command %d failed: %s", command_id, word)

    def _pending(self) -> list[AgentCommand]:
        with self.db.session() as s:
            if self.shared:
                return node_commands.commands_for(s, self.node)
            return live_store.pending_commands(s)

    def _take(self, command_id: int) -> bool:
        with self.db.session() as s:
            return node_commands.take(s, self.node, command_id)

    def _finish(self, command_id: int, ok: bool, detail: str) -> None:
        with self.db.session() as s:
            if self.shared:
                node_commands.finish(s, self.node, command_id, ok, detail)
            else:
                live_store.finish_command(s, command_id, ok, detail)

    def _expire(self) -> list[tuple[int, str]]:
        with self.db.session() as s:
            return node_commands.expire(s, self.node, self.clock())
