"""The desktop's outbound call: ring the agent's own phone (the browser phone when it is
registered, else the desk phone: ``acd.agent_actions.phone_in_use``); once they answer,
Asterisk dials the number (extensions.conf ``[civic311-outbound]``, where the dial policy is
enforced again). One AMI Originate with a timeout, like every action to Asterisk."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from acd.agent_actions import QUALIFY_S, phone_in_use
from foundation.settings import Settings
from telephony.ami import AmiBridge, AmiError
from telephony.trunk.config import OUTBOUND_CONTEXT

AGENT_RING_S = 25  # how long the agent's own phone rings before we give up


@dataclass(frozen=True)
class Placed:
    answered: bool  # the agent's phone answered (the number is being dialled)
    reason: str


async def place(bridge: AmiBridge, *, agent: str, dial: str, call_id: int, queue: str,
                ring_s: int = AGENT_RING_S, qualify_s: float = 0) -> Placed:
    """Ring ``agent``'s phone, then dial ``dial`` (digits the dial policy allowed);
    ``qualify_s`` as ``phone_in_use``'s."""
    if not (agent.isdigit() and dial.isdigit() and queue.replace("-", "").replace(
            "_", "").isalnum()):
        raise ValueError("agent, number and queue must be plain values")
    device = await phone_in_use(bridge, agent, qualify_s)
    reply: Any = await bridge.originate(
        wait_s=ring_s + 5, Channel=device, Context=OUTBOUND_CONTEXT,
        Exten=dial, Priority="1", Timeout=str(ring_s * 1000),
        Variable=f"OUT_ID={call_id},OUT_QUEUE={queue}",
        CallerID=f'"Calling {dial}" <{dial}>')
    if reply.get("Response") == "Success":
        return Placed(True, "dialling")
    return Placed(False, f"your phone did not answer ({reply.get('Reason', '?')})")


def run(settings: Settings, *, agent: str, dial: str, call_id: int, queue: str) -> Placed:
    """``place`` over a short AMI session of its own (a web request holds no connection)."""

    async def work() -> Placed:
        bridge = AmiBridge(settings.ami_host, settings.ami_port, settings.ami_user,
                           settings.ami_secret or "", ping_interval_s=3600)
        async with bridge:
            try:
                await asyncio.wait_for(bridge.connected.wait(), 5)
            except TimeoutError as exc:
                raise AmiError("Asterisk's AMI is not reachable") from exc
            return await place(bridge, agent=agent, dial=dial, call_id=call_id, queue=queue,
                               qualify_s=QUALIFY_S if settings.frontdoor_agents else 0)

    return asyncio.run(work())
