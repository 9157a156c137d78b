"""Live monitoring: ring the supervisor's own phone and, once answered, ChanSpy on an agent.

``spy(bridge, supervisor_ext, agent_ext, mode)`` is what the wallboard (or any holder of an
``AmiBridge``) calls; the web route calls it through a short AMI session. The dialplan side
is the ``civic311-spy`` context in extensions.conf: the mode is its extension, so Asterisk
itself only ever runs the three ChanSpy option sets below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telephony.ami import AmiBridge, AmiError

# ChanSpy options per mode (kept equal to extensions.conf [civic311-spy]):
# q quiet, b bridged calls only, E end with the agent's call, S stop when nothing to spy on;
# w whisper (the agent hears the supervisor), B barge (both parties hear the supervisor).
MODES = {"listen": "qbES", "whisper": "qbESw", "barge": "qbESB"}
SPY_CONTEXT = "civic311-spy"


class MonitorError(ValueError):
    """The spy request cannot be carried out; the message says why."""


@dataclass(frozen=True)
class SpyStarted:
    supervisor_channel: str
    agent_channel: str
    mode: str
    options: str


def _ext(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value.isdigit() or not 2 <= len(value) <= 8:
        raise MonitorError(f"{what} must be a phone extension (digits), not {value!r}")
    return value


def validate(supervisor_ext: str, agent_ext: str, mode: str,
             known: list[str] | None = None) -> tuple[str, str, str]:
    sup, agent = _ext(supervisor_ext, "the supervisor's phone"), _ext(agent_ext, "the agent")
    if mode not in MODES:
        raise MonitorError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if sup == agent:
        raise MonitorError("the supervisor's phone cannot spy on itself")
    if known is not None:
        for ext in (sup, agent):
            if ext not in known:
                raise MonitorError(f"extension {ext} is not a phone of this center")
    return sup, agent, mode


async def agent_channel(bridge: AmiBridge, agent_ext: str) -> str | None:
    """The agent phone's live bridged channel (``PJSIP/agentNNN-…``), or None."""
    reply = await bridge.action("CoreShowChannels", wait_s=10)
    prefix = f"PJSIP/agent{agent_ext}-"
    for msg in reply if isinstance(reply, list) else []:
        if msg.get("Event") != "CoreShowChannel":
            continue
        if str(msg.get("Channel", "")).startswith(prefix) and msg.get("BridgeId"):
            return str(msg["Channel"])
    return None


async def spy(bridge: AmiBridge, supervisor_ext: str, agent_ext: str, mode: str,
              answer_wait_s: float = 25.0, known: list[str] | None = None) -> SpyStarted:
    """Ring ``supervisor_ext`` and spy on ``agent_ext``'s call in ``mode``.

    Raises MonitorError when the agent is on no call or the supervisor does not answer.
    """
    sup, agent, mode = validate(supervisor_ext, agent_ext, mode, known)
    target = await agent_channel(bridge, agent)
    if target is None:
        raise MonitorError(f"agent {agent} is on no call right now")
    reply: Any = await bridge.originate(
        wait_s=answer_wait_s + 5, Channel=f"PJSIP/agent{sup}", Context=SPY_CONTEXT,
        Exten=mode, Priority="1", Timeout=str(int(answer_wait_s * 1000)),
        Variable=f"SPY_AGENT={agent}", CallerID=f'"{mode.title()} {agent}" <{agent}>')
    if reply.get("Response") != "Success":
        raise MonitorError(f"the phone {sup} did not answer ({reply.get('Reason', '?')})")
    return SpyStarted(str(reply.get("Channel", "")), target, mode, MODES[mode])


__all__ = ["MODES", "AmiError", "MonitorError", "SpyStarted", "spy", "validate"]
