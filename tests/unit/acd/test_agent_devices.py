"""Which device an agent's queue membership names: the browser phone when it is registered,
else the desk phone; pause and log-out reach the agent through either."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from acd.agent_actions import Command, LoginAction, LogoutAction, PauseAction
from telephony.ami import AmiError


class FakeAmi:
    """Asterisk as far as these actions see it: device states and queue members."""

    def __init__(self, states: dict[str, str], members: set[tuple[str, str]]) -> None:
        self.states, self.members = states, members
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def action(self, name: str, wait_s: float = 5, **fields: Any) -> Any:
        self.sent.append((name, fields))
        if name == "Getvar":
            device = fields["Variable"].removeprefix("DEVICE_STATE(").removesuffix(")")
            return {"Response": "Success", "Value": self.states.get(device, "UNAVAILABLE")}
        if name == "QueueAdd":
            self.members.add((fields["Queue"], fields["Interface"]))
        elif name == "QueueRemove":
            if (fields["Queue"], fields["Interface"]) not in self.members:
                raise AmiError("QueueRemove: Not there")
            self.members.discard((fields["Queue"], fields["Interface"]))
        elif name == "QueuePause" and not any(i == fields["Interface"] for _, i in self.members):
            raise AmiError("QueuePause: Interface not found")
        return {"Response": "Success"}


def cmd(queue: str | None = "citywide") -> Command:
    return Command("100", queue, ["citywide", "noise"], "break")


@pytest.mark.parametrize(("browser_state", "device"), [
    ("NOT_INUSE", "PJSIP/agent100-webrtc"), ("UNAVAILABLE", "PJSIP/agent100")])
def test_log_in_names_the_device_in_use(browser_state: str, device: str) -> None:
    ami = FakeAmi({"PJSIP/agent100-webrtc": browser_state}, set())
    asyncio.run(LoginAction(ami).run(cmd()))
    assert ami.members == {("citywide", device)}


class QualifyingAmi(FakeAmi):
    """A node whose agents are at the front door: the browser phone registered there a
    moment ago is unreachable here until a qualify finds it (its state set a poll later)."""

    async def action(self, name: str, wait_s: float = 5, **fields: Any) -> Any:
        if name == "PJSIPQualify" and fields["Endpoint"] == "agent100-webrtc":
            self.states["PJSIP/agent100-webrtc"] = "NOT_INUSE"
        return await super().action(name, wait_s, **fields)


@pytest.mark.parametrize(("qualify_s", "device"), [
    (1.0, "PJSIP/agent100-webrtc"), (0, "PJSIP/agent100")])
def test_log_in_at_the_front_door_qualifies_the_browser_phone_first(
        qualify_s: float, device: str) -> None:
    ami = QualifyingAmi({}, set())
    asyncio.run(LoginAction(ami, qualify_s).run(cmd()))
    assert ami.members == {("citywide", device)}
    assert [n for n, _ in ami.sent].count("PJSIPQualify") == (1 if qualify_s else 0)


def test_log_in_at_the_front_door_waits_no_longer_than_its_bound() -> None:
    """A browser phone that does not answer the qualify (not registered): the desk phone,
    after qualify_s."""
    ami = FakeAmi({}, set())
    asyncio.run(LoginAction(ami, 0.3).run(cmd()))
    assert ami.members == {("citywide", "PJSIP/agent100")}
    polls = [f for n, f in ami.sent if n == "Getvar"]
    assert 2 <= len(polls) <= 5, polls  # one at once, then every QUALIFY_POLL_S within 0.3 s


def test_pause_and_log_out_reach_the_browser_phone() -> None:
    ami = FakeAmi({}, {("citywide", "PJSIP/agent100-webrtc")})
    assert asyncio.run(PauseAction(ami).run(cmd(None))) == "paused (break)"
    paused = [f["Interface"] for n, f in ami.sent if n == "QueuePause"]
    assert paused[-1] == "PJSIP/agent100-webrtc"
    assert asyncio.run(LogoutAction(ami).run(cmd(None))) == "logged out of citywide"
    assert ami.members == set()


def test_pausing_an_agent_in_no_queue_fails() -> None:
    with pytest.raises(AmiError, match="Interface not found"):
        asyncio.run(PauseAction(FakeAmi({}, set())).run(cmd(None)))


@pytest.mark.parametrize(("browser_state", "device"), [
    ("NOT_INUSE", "PJSIP/agent100-webrtc"), ("UNAVAILABLE", "PJSIP/agent100")])
def test_a_call_out_rings_the_device_in_use(browser_state: str, device: str) -> None:
    """The desktop's call out rings the browser phone when it is registered (the agent is at
    the desktop), else the desk phone; then Asterisk dials the number."""
    from acd.outbound import originate

    class Bridge(FakeAmi):
        async def originate(self, wait_s: float = 30, **fields: Any) -> Any:
            self.sent.append(("Originate", fields))
            return {"Response": "Success"}

    ami = Bridge({"PJSIP/agent100-webrtc": browser_state}, set())
    placed = asyncio.run(originate.place(ami, agent="100", dial="4105550188",  # type: ignore[arg-type]
                                         call_id=7, queue="citywide"))
    assert placed.answered
    (fields,) = [f for n, f in ami.sent if n == "Originate"]
    assert (fields["Channel"], fields["Exten"], fields["Context"]) == (
        device, "4105550188", "civic311-outbound")
