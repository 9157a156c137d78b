"""Regression tests for the panoramisk 1.4 AMI defects the bridge defends against."""

from __future__ import annotations

import asyncio

import pytest

from telephony.ami import AmiBridge, AmiError
from tests.support.pbx import Pbx


class FakeAmi:
    """Answers the login, then records what it receives and never answers again."""

    def __init__(self) -> None:
        self.received = bytearray()
        self.connections = 0

    async def handle(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        self.connections += 1
        w.write(b"Asterisk Call Manager/11.0.0\r\n")
        block = await r.readuntil(b"\r\n\r\n")
        action_id = [line.split(": ", 1)[1] for line in block.decode().split("\r\n")
                     if line.lower().startswith("actionid")][0]
        w.write(f"Response: Success\r\nActionID: {action_id}\r\nMessage: Authentication "
                f"accepted\r\n\r\nEvent: FullyBooted\r\nStatus: Fully Booted\r\nUptime: 5\r\n"
                f"\r\n".encode())
        try:
            while data := await r.read(4096):
                self.received.extend(data)
        except (asyncio.CancelledError, ConnectionError):
            pass
        finally:
            w.close()


async def eventually(condition, within_s: float) -> None:  # type: ignore[no-untyped-def]
    """Poll ``condition`` every 50 ms until it holds (AssertionError after ``within_s``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within_s} s")
        await asyncio.sleep(0.05)


async def with_fake(test):  # type: ignore[no-untyped-def]
    fake = FakeAmi()
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        return await test(fake, port)
    finally:
        server.close()


def test_unanswered_pings_force_a_reconnect() -> None:
    async def test(fake: FakeAmi, port: int) -> int:
        bridge = AmiBridge("127.0.0.1", port, "u", "p", ping_interval_s=0.3)
        async with bridge:
            await asyncio.wait_for(bridge.connected.wait(), 3)
            await eventually(lambda: fake.connections >= 2, 10)  # pings went unanswered
        return fake.connections

    assert asyncio.run(with_fake(test)) >= 2  # panoramisk alone never notices


def test_actions_time_out_and_are_never_resent() -> None:
    async def test(fake: FakeAmi, port: int) -> bytes:
        bridge = AmiBridge("127.0.0.1", port, "u", "p", ping_interval_s=60)
        async with bridge:
            await asyncio.wait_for(bridge.connected.wait(), 3)
            with pytest.raises(AmiError):
                await bridge.action("QueueAdd", wait_s=0.3, Queue="citywide",
                                    Interface="PJSIP/agent100")
            bridge.manager.protocol.transport.abort()  # reconnect: nothing may be re-sent
            await asyncio.sleep(1.5)
        return bytes(fake.received)

    received = asyncio.run(with_fake(test))
    assert received.count(b"Action: QueueAdd") == 1


def test_caller_controlled_text_cannot_inject_headers() -> None:
    async def test(fake: FakeAmi, port: int) -> bytes:
        bridge = AmiBridge("127.0.0.1", port, "u", "p", ping_interval_s=60)
        async with bridge:
            await asyncio.wait_for(bridge.connected.wait(), 3)
            with pytest.raises(AmiError):
                await bridge.action("QueueLog", wait_s=0.3, Queue="citywide",
                                    Message="evil\r\nAction: Originate\r\nChannel: PJSIP/x")
        return bytes(fake.received)

    received = asyncio.run(with_fake(test))
    assert b"\r\nAction: Originate" not in received  # no second action on the wire
    assert b"evilAction: OriginateChannel: PJSIP/x" in received


@pytest.mark.asterisk
def test_queueadd_and_originate_answer_on_a_real_asterisk(clean_pbx: Pbx) -> None:
    clean_pbx.add_agent("106", [], ring_ms=200, talk_ms=1000)
    s = clean_pbx.settings

    async def test() -> tuple[str, str, str]:
        bridge = AmiBridge("127.0.0.1", s.ami_port, s.ami_user, s.ami_secret or "")
        async with bridge:
            await asyncio.wait_for(bridge.connected.wait(), 5)
            added = await bridge.action("QueueAdd", Queue="citywide",
                                        Interface="PJSIP/agent107", MemberName="107")
            removed = await bridge.action("QueueRemove", Queue="citywide",
                                          Interface="PJSIP/agent107")
            ok = await bridge.originate(Channel="PJSIP/agent106", Application="Wait",
                                        Data="1", wait_s=10)
            return added.get("Response"), removed.get("Response"), ok.get("Response")

    assert asyncio.run(test()) == ("Success", "Success", "Success")
