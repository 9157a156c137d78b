"""The AMI effect of each agent command kind: one small action class each.

An agent has two devices (``telephony.phones.devices``): the desk phone ``PJSIP/agentEXT``
and the desktop's browser phone ``PJSIP/agentEXT-webrtc``. A log-in makes the agent a
member through the browser phone when it is registered (the agent is at the desktop), else
through the desk phone; pause, unpause and log-out act on whichever device is the member.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from acd import transfer
from acd.states import CommandKind
from telephony.ami import AmiError
from telephony.phones import devices

# Asterisk device states of a device that cannot ring (no registered contact)
UNREACHABLE = {"UNAVAILABLE", "INVALID", "UNKNOWN", ""}
QUALIFY_S = 1.0  # how long a log-in at the front door waits for a browser phone's qualify
QUALIFY_POLL_S = 0.1


class Ami(Protocol):
    async def action(self, name: str, wait_s: float = ..., **fields: Any) -> Any: ...


@dataclass(frozen=True)
class Command:
    """What to carry out: ``queues`` are the queue asked for, else every queue."""

    agent: str
    queue: str | None
    queues: Sequence[str]
    reason: str
    target: str = ""  # a transfer's extension (acd.transfer)

    @property
    def interfaces(self) -> tuple[str, str]:
        """(desk phone, browser phone)."""
        return devices(self.agent)


async def phone_in_use(ami: Ami, agent: str, qualify_s: float = 0) -> str:
    """Agent ``agent``'s device to ring: the browser phone when it is registered (the agent
    is at the desktop), else the desk phone. With ``qualify_s`` (agents at the front door,
    where a node learns that a browser phone registered only from its own qualify, every
    ``agent_qualify_s``), a browser phone not reachable yet is qualified at once and waited
    for that long."""
    desk, browser = devices(agent)
    if await reachable(ami, browser):
        return browser
    if qualify_s > 0:
        with contextlib.suppress(AmiError):
            await ami.action("PJSIPQualify", Endpoint=browser.removeprefix("PJSIP/"))
            loop = asyncio.get_running_loop()
            deadline = loop.time() + qualify_s
            while loop.time() < deadline:  # its OPTIONS' answer sets the device's state
                await asyncio.sleep(QUALIFY_POLL_S)
                if await reachable(ami, browser):
                    return browser
    return desk


async def reachable(ami: Ami, device: str) -> bool:
    reply = await ami.action("Getvar", Variable=f"DEVICE_STATE({device})")
    state = str((reply[0] if isinstance(reply, list) else reply).get("Value") or "")
    return state.upper() not in UNREACHABLE


@dataclass(frozen=True)
class LoginAction:
    ami: Ami
    qualify_s: float = 0  # phone_in_use's

    async def run(self, c: Command) -> str:
        device = await phone_in_use(self.ami, c.agent, self.qualify_s)
        await self.ami.action("QueueAdd", Queue=c.queue, Interface=device,
                              MemberName=c.agent, Penalty=0, Paused="false")
        return f"logged in to {c.queue}{' (browser phone)' if device != c.interfaces[0] else ''}"


@dataclass(frozen=True)
class LogoutAction:
    ami: Ami

    async def run(self, c: Command) -> str:
        removed = []
        for q in c.queues:
            for device in c.interfaces:
                with contextlib.suppress(AmiError):  # not a member of that queue
                    await self.ami.action("QueueRemove", Queue=q, Interface=device)
                    removed.append(q)
        if not removed:
            raise AmiError(f"agent {c.agent} is not logged in to {c.queue or 'any queue'}")
        return f"logged out of {', '.join(removed)}"


@dataclass(frozen=True)
class PauseAction:
    ami: Ami
    paused: bool = True

    async def run(self, c: Command) -> str:
        fields: dict[str, Any] = {"Paused": "true" if self.paused else "false"}
        if c.queue:
            fields["Queue"] = c.queue
        if self.paused and c.reason:
            fields["Reason"] = c.reason
        errors = []
        for device in c.interfaces:  # the agent is a member through one of them
            try:
                await self.ami.action("QueuePause", Interface=device, **fields)
                break
            except AmiError as exc:
                errors.append(exc)
        else:
            raise errors[0]
        word = "paused" if self.paused else "unpaused"
        return f"{word}{' (' + c.reason + ')' if c.reason else ''}"


@dataclass(frozen=True)
class UnpauseAction(PauseAction):
    paused: bool = False


async def agent_channel(ami: Ami, agent: str) -> str:
    """The agent phone's bridged channel (``PJSIP/agentNNN-…``); AmiError when on no call."""
    reply = await ami.action("CoreShowChannels", wait_s=10)
    prefix = f"PJSIP/agent{agent}-"
    for msg in reply if isinstance(reply, list) else []:
        if (msg.get("Event") == "CoreShowChannel" and msg.get("BridgeId")
                and str(msg.get("Channel", "")).startswith(prefix)):
            return str(msg["Channel"])
    raise AmiError(f"agent {agent} is on no call")


@dataclass(frozen=True)
class BlindTransferAction:
    """The agent's caller to the target at once (AMI BlindTransfer of the agent's channel:
    its bridge peer, the caller, runs the target in ``civic311-transfer``)."""

    ami: Ami

    async def run(self, c: Command) -> str:
        channel = await agent_channel(self.ami, c.agent)
        await self.ami.action("BlindTransfer", Channel=channel, Exten=c.target,
                              Context=transfer.TRANSFER_CONTEXT)
        return f"transferred to {c.target}"


class Consults:
    """Who each agent channel is consulting in an attended transfer the desktop asked for.

    Asterisk's AttendedTransfer event names the target by the consultation's channel, but
    leaves it out while the Local channel into ``civic311-atxfer`` is being optimised away
    (two channels of the bridge changing places at the moment of the transfer). The daemon
    then names it from here, by the transferer's channel; an unknown one stays unnamed.
    """

    MAX = 1000  # consultations never completed are forgotten, oldest first

    def __init__(self) -> None:
        self._by_channel: dict[str, str] = {}

    def note(self, channel: str, target: str) -> None:
        self._by_channel.pop(channel, None)
        self._by_channel[channel] = target
        while len(self._by_channel) > self.MAX:
            del self._by_channel[next(iter(self._by_channel))]

    def take(self, channel: str) -> str:
        return self._by_channel.pop(channel, "")


@dataclass(frozen=True)
class AttendedTransferAction:
    """The agent's phone calls the target while the caller hears music (AMI Atxfer, the
    features' atxfer code on the agent's channel); the transfer completes when the agent
    hangs up (the caller then talks to the target), or is cancelled by the target's hang-up."""

    ami: Ami
    consults: Consults

    async def run(self, c: Command) -> str:
        channel = await agent_channel(self.ami, c.agent)
        target = transfer.target_of(f"Local/{c.target}@{transfer.ATXFER_CONTEXT}")
        self.consults.note(channel, target)
        await self.ami.action("Atxfer", Channel=channel, Exten=c.target,
                              Context=transfer.ATXFER_CONTEXT)
        return f"consulting {target}"


Action = (LoginAction | LogoutAction | PauseAction | UnpauseAction | BlindTransferAction
          | AttendedTransferAction)


def action_for(kind: str, ami: Ami, consults: Consults, qualify_s: float = 0) -> Action:
    """The action carrying out ``kind`` (anything unknown unpauses, as it always did);
    ``qualify_s`` is a log-in's (``phone_in_use``)."""
    if kind == CommandKind.BLIND_TRANSFER:
        return BlindTransferAction(ami)
    if kind == CommandKind.ATTENDED_TRANSFER:
        return AttendedTransferAction(ami, consults)
    if kind == CommandKind.LOGIN:
        return LoginAction(ami, qualify_s)
    if kind == CommandKind.LOGOUT:
        return LogoutAction(ami)
    if kind == CommandKind.PAUSE:
        return PauseAction(ami)
    return UnpauseAction(ami)
