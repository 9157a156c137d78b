"""The agent desktop's browser phone registered with the SIP front door, rung by both nodes.

Two real Asterisk nodes (east, west) with their daemons, Kamailio in front of them
(``frontdoor_agents``), the real web app and headless Chromium with fake media devices. The
desktop's phone gets the front door's WebSocket, registers there (not with a node), and the
agent goes ready on the desktop at once: each daemon qualifies the browser phone through the
front door first (on its own a node checks every 30 s) and makes it the member. Then two
SIPp residents call the
front door one after the other: round robin puts one on each node, each node rings the
browser once through Kamailio, the agent answers, and media flows straight between the
browser and that node (DTLS-SRTP and ICE: the browser's WebRTC counters and the node's RTP
counters both grow). Kamailio relays the signalling only and logs no error.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from foundation.db import Database
from foundation.users import create_user
from telephony import frontdoor, sipp
from tests.browser import test_browser_phone as browser_phone
from tests.browser.conftest import start_web, stop_web
from tests.browser.test_browser_phone import asterisk_rx_packets, logged_in, stats
from tests.conftest import TEST_PASSWORD
from tests.integration import test_frontdoor_agents_pbx as agents_pbx
from tests.integration.test_frontdoor_agents_pbx import EAST, QUEUE, WEST, door_errors, door_target
from tests.support.pbx import EXPRESS_LINE, Pbx, running_daemons, wait_until

pytestmark = [pytest.mark.asterisk, pytest.mark.postgres]

# the two nodes, the front door and the database of the desk phones' front-door test, and
# the browser with fake media of the browser phone's test
nodes, door, pg = agents_pbx.nodes, agents_pbx.door, agents_pbx.pg
media_chromium = browser_phone.media_chromium

BROWSER = "agent100-webrtc"


def registered_at_door(door: frontdoor.FrontDoor, page: Any) -> list[str]:
    page.wait_for_selector("#phone[data-registered=yes]", timeout=20_000)
    return wait_until(lambda: frontdoor.registered(door, BROWSER), 10,
                      what=f"{BROWSER} registered at the front door")


def browser_channel_node(nodes: dict[str, Pbx]) -> str:
    """The node whose channel to the browser phone is up now ('' while none is)."""
    for name, node in nodes.items():
        if re.search(rf"PJSIP/{BROWSER}-\S+\s.*Up", node.rx("core show channels")):
            return name
    return ""


def test_the_browser_phone_registers_at_the_front_door_and_takes_both_nodes_calls(
        nodes: dict[str, Pbx], door: frontdoor.FrontDoor, pg: Database,
        media_chromium: Any, tmp_path: Path) -> None:
    east, west = nodes[EAST], nodes[WEST]
    with pg.session() as s:
        create_user(s, "agent100", TEST_PASSWORD, "agent", agent_ext="100")
    with running_daemons([(east, tmp_path / "east.log"), (west, tmp_path / "west.log")],
                         pg.url):
        proc, base = start_web(east, pg, tmp_path / "web.log")
        try:
            agent = logged_in(media_chromium, base, "agent100", "/agent/desktop")
            contacts = registered_at_door(door, agent)
            assert any("transport=ws" in c for c in contacts), contacts  # over the WebSocket
            for node in (east, west):  # no node holds a registration of its own
                assert f"{BROWSER}@127.0.0.1:{east.settings.frontdoor_port}" in node.rx(
                    f"pjsip show aor {BROWSER}")
            agent.click("button[data-agent=ready]")
            for node in (east, west):  # each daemon made the browser phone the member
                wait_until(lambda node=node: f"PJSIP/{BROWSER}" in node.rx(
                    f"queue show {QUEUE}"), 15, what=f"{node.settings.node}'s log-in")
            agent.wait_for_selector("#phone[data-agent=available]", timeout=20_000)

            served = [take_a_call(nodes, door, agent), None]
            # the desktop reloads after a call (wrap-up): the phone registers again, and a
            # node whose qualify found it gone meanwhile has its daemon qualify it again
            registered_at_door(door, agent)
            served[1] = take_a_call(nodes, door, agent)
            assert set(served) == {EAST, WEST}, f"both calls on {served}"
        finally:
            stop_web(proc)
    assert door_errors(door) == []


def take_a_call(nodes: dict[str, Pbx], door: frontdoor.FrontDoor, agent: Any) -> str:
    """A resident calls the front door; the browser rings once, answers, media flows both
    ways with the node that took the call; the agent hangs up. Returns that node."""
    caller = sipp.callers(door_target(), calls=1, rate=1, hold_ms=60_000,
                          number=EXPRESS_LINE, speech=sipp.SPEECH_PCAP)
    try:
        agent.wait_for_selector("#phone[data-call=ringing]", timeout=30_000)
        agent.click("button[data-phone=answer]")
        agent.wait_for_selector("#phone[data-call=talking]", timeout=10_000)
        node = wait_until(lambda: browser_channel_node(nodes), 10,
                          what="the node's channel to the browser")
        # the browser gets the caller's speech from the node, the node the browser's tone
        wait_until(lambda: stats(agent)["bytesReceived"] > 2000, 15, what="audio at the agent")
        wait_until(lambda: stats(agent)["bytesSent"] > 2000, 15, what="audio from the agent")
        wait_until(lambda: asterisk_rx_packets(nodes[node], BROWSER) > 20, 15,
                   what=f"{node} to receive the browser's RTP")
        agent.click("button[data-phone=hangup]")
        agent.wait_for_selector("#phone[data-call=idle]", timeout=10_000)
        assert caller.wait(30).failed == 0
    finally:
        caller.stop()
    return node
