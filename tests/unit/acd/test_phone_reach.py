"""An agent's phone at the front door that a node found gone is qualified again after 1, 2,
4, 8 and 16 s until it answers; other contacts are left to the node's own qualify."""

from __future__ import annotations

import asyncio
from typing import Any

from acd.phone_reach import RETRIES_S, PhoneReach
from telephony.ami import AmiError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Ami:
    def __init__(self, down: bool = False) -> None:
        self.qualified: list[tuple[float, str]] = []
        self.down = down
        self.clock = Clock()

    async def action(self, name: str, wait_s: float = 5, **fields: Any) -> Any:
        if self.down:
            raise AmiError(f"{name}: AMI is not connected")
        assert name == "PJSIPQualify"
        self.qualified.append((self.clock.now - 1000.0, fields["Endpoint"]))
        return {"Response": "Success"}


def run_for(reach: PhoneReach, ami: Ami, seconds: float) -> None:
    """Tick every half second (the daemon's tick) for ``seconds``."""
    for _ in range(int(seconds * 2)):
        ami.clock.now += 0.5
        asyncio.run(reach.run())


def status(aor: str, state: str) -> dict[str, str]:
    return {"Event": "ContactStatus", "AOR": aor, "ContactStatus": state,
            "URI": f"sip:{aor}@127.0.0.1:5070"}


def test_a_phone_gone_is_asked_again_with_backoff_then_left_to_the_node() -> None:
    ami = Ami()
    reach = PhoneReach(ami, ami.clock)
    reach.seen(status("agent100-webrtc", "Unreachable"))
    run_for(reach, ami, 60)
    at = [t for t, _ in ami.qualified]
    assert at == [1.0, 3.0, 7.0, 15.0, 31.0]  # 1, 2, 4, 8, 16 s apart
    assert len(at) == len(RETRIES_S) and reach.due == {}


def test_a_phone_that_answers_is_asked_no_more() -> None:
    ami = Ami()
    reach = PhoneReach(ami, ami.clock)
    reach.seen(status("agent101", "Unreachable"))
    run_for(reach, ami, 3.5)
    reach.seen(status("agent101", "Reachable"))
    run_for(reach, ami, 60)
    assert ami.qualified == [(1.0, "agent101"), (3.0, "agent101")]


def test_other_contacts_and_states_are_left_alone() -> None:
    ami = Ami()
    reach = PhoneReach(ami, ami.clock)
    for aor, state in [("trunk", "Unreachable"), ("civic311-referral", "Unreachable"),
                       ("agent102", "Created"), ("agent103", "Unknown")]:
        reach.seen(status(aor, state))
    reach.seen(status("agent104", "Unreachable"))
    reach.seen(status("agent104", "Removed"))  # unregistered: nothing to reach
    run_for(reach, ami, 60)
    assert ami.qualified == []


def test_ami_down_loses_a_retry_not_the_phone() -> None:
    ami = Ami(down=True)
    reach = PhoneReach(ami, ami.clock)
    reach.seen(status("agent105", "Unreachable"))
    run_for(reach, ami, 1.5)  # the first retry's time passes with AMI down
    ami.down = False
    run_for(reach, ami, 60)
    assert [t for t, _ in ami.qualified] == [3.0, 7.0, 15.0, 31.0]
