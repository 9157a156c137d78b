"""Agents' phones at the front door, found again soon after they come back.

With ``frontdoor_agents`` a node reaches each agent's phone (desk and browser) through a
static contact at the front door, and learns whether it answers only from its own qualify,
every ``agent_qualify_s`` (30 s). Once a qualify has found a phone gone (the desktop
reloading after a call, a desk phone restarting), the node would not ring it for up to
that long after it registered again. So a contact of an agent's AOR that turns unreachable
(AMI ``ContactStatus``) is qualified again after 1, 2, 4, 8 and 16 s, until it answers; then
the node's own qualify carries on.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from telephony.ami import AmiError

log = logging.getLogger(__name__)

EVENT = "ContactStatus"  # let through by manager.conf with frontdoor_agents (telephony.render)
RETRIES_S = (1, 2, 4, 8, 16)  # after the last, agent_qualify_s (30 s) is no longer a wait


class Ami(Protocol):
    async def action(self, name: str, wait_s: float = ..., **fields: Any) -> Any: ...


class PhoneReach:
    def __init__(self, ami: Ami, clock: Callable[[], float] = time.monotonic) -> None:
        self.ami = ami
        self.clock = clock
        self.due: dict[str, tuple[float, int]] = {}  # AOR -> (next qualify, retries made)

    def seen(self, m: Mapping[str, Any]) -> None:
        """One ContactStatus event: an agent's phone gone is to be asked again soon."""
        aor, status = str(m.get("AOR", "")), m.get("ContactStatus", "")
        if not aor.startswith("agent"):
            return
        if status == "Unreachable":
            self.due[aor] = (self.clock() + RETRIES_S[0], 0)
        elif status in ("Reachable", "Removed"):
            self.due.pop(aor, None)

    async def run(self) -> None:
        """Qualify every phone whose time has come (a tick hook of the daemon)."""
        now = self.clock()
        for aor, (at, made) in list(self.due.items()):
            if at > now:
                continue
            if made + 1 < len(RETRIES_S):
                self.due[aor] = (now + RETRIES_S[made + 1], made + 1)
            else:
                del self.due[aor]
            with contextlib.suppress(AmiError):  # AMI gone: the next tick's turn
                await self.ami.action("PJSIPQualify", Endpoint=aor)
                log.debug("qualified %s again (retry %d)", aor, made + 1)
