"""The carrier trunk through the SIP front door: two Asterisk nodes (east, west, each with its
daemon, one PostgreSQL), Kamailio in front, the SIPp carrier on 127.0.0.9 (its address known
to the front door only).

- The carrier's calls to a DID reach the front door and land on both nodes as the trunk's:
  the carrier endpoint, the DID's line, the caller in E.164, in the call records.
- Nobody else is the trunk: a call to the same DID from another address through the front
  door is a resident's; the carrier's own address straight to a node is not trusted; the
  front door's trunk socket refuses whoever is not a node.
- Each node's call out to the carrier leaves through the front door (the carrier sees the
  front door as its sender).
- A node that turns the carrier's call away (5xx), or sends no reply at all (frozen, before
  the probe could tell), is marked down, and the call goes on to the next node, still as
  the carrier's.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select

from acd.models import CallRecord
from acd.outbound.models import OutboundCall
from foundation.db import Database
from foundation.settings import default_cache_dir
from telephony import frontdoor, sipp
from telephony.ami import AmiBridge
from tests.conftest import make_database
from tests.support import carrier, ports, processes
from tests.support.pbx import Pbx, make_pbx, running_daemons, wait_until
from tests.support.records import assert_records_equal_logs

pytestmark = [pytest.mark.asterisk, pytest.mark.postgres]

EAST, WEST = "east", "west"
PORT_NAMES = ("sip_port", "ami_port", "agi_port", "agent_phone_base_port", "http_port",
              "https_port")
NODES = {EAST: ("node3", 25000), WEST: ("node2", 24000)}  # ports' prefix, first RTP port
DOOR = f"127.0.0.1:{ports.port('frontdoor_port')}"
TRUNK_SOCKET = f"127.0.0.1:{ports.port('frontdoor_trunk_port')}"
# the carrier knows the city by IP (a registration would give it the nodes' addresses)
TRUNK = {**carrier.TRUNK, "auth": "ip"}
SANITATION_DID = "14105550313"  # carrier.DIDS: sanitation's direct line
CALLER = "4105550142"


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[Database]:
    yield from make_database("postgres", tmp_path)


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[dict[str, Pbx]]:
    """Both nodes with the trunk behind the front door (the same settings on each)."""
    shared = {"TRUNK": json.dumps(TRUNK), "FRONTDOOR_TRUNK": "true",
              "FRONTDOOR_PORT": str(ports.port("frontdoor_port")),
              "FRONTDOOR_TRUNK_PORT": str(ports.port("frontdoor_trunk_port"))}
    made: dict[str, Pbx] = {}
    for name, (prefix, rtp) in NODES.items():
        first, last = ports.rtp_range(first=rtp, size=1000)
        made[name] = make_pbx(tmp_path / name, default_cache_dir(), NODE=name,
                              RTP_START=str(first), RTP_END=str(last), **shared,
                              **{k.upper(): str(ports.port(f"{prefix}_{k}")) for k in PORT_NAMES})
    try:
        with ThreadPoolExecutor(2) as pool:
            for started in [pool.submit(n.start) for n in made.values()]:
                started.result()
        yield made
    finally:
        for node in made.values():
            node.stop_phones()
            node.stop()


@pytest.fixture
def door(nodes: dict[str, Pbx], tmp_path: Path,
         request: pytest.FixtureRequest) -> Iterator[frontdoor.FrontDoor]:
    """Kamailio: dispatching to both nodes, with the trunk socket and the carrier's address;
    probing every second, or every ``request.param`` seconds (indirect parametrization)."""
    probe_s = getattr(request, "param", 1)
    settings = nodes[EAST].settings.model_copy(update={"frontdoor_probe_s": probe_s})
    door = frontdoor.write(settings, tmp_path / "frontdoor",
                           [n.sip_target for n in nodes.values()])
    log = (tmp_path / "kamailio.log").open("wb")
    proc = subprocess.Popen(door.command(), stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    try:
        wanted = {f"sip:{n.sip_target}" for n in nodes.values()}

        def both_active() -> bool:
            if proc.poll() is not None:
                raise AssertionError((tmp_path / "kamailio.log").read_text()[-3000:])
            state = frontdoor.destinations(door)
            return set(state) == wanted and all(f.startswith("A") for f in state.values())

        wait_until(both_active, 10, what="the front door to see both nodes answer OPTIONS")
        yield door
    finally:
        processes.stop(proc, 10)


def door_log(door: frontdoor.FrontDoor) -> str:
    return (door.run_dir.parent / "kamailio.log").read_text(errors="replace")


def channels_of(node: Pbx, caller: str) -> list[tuple[str, str]]:
    """(channel, context) of each channel up on the node with caller ID ``caller``."""
    rows = [line.split("!") for line in node.rx("core show channels concise").splitlines()]
    return [(r[0], r[1]) for r in rows if len(r) > 7 and r[7] == caller]


def outbound_rows(db: Database) -> list[OutboundCall]:
    with db.session() as s:
        return list(s.scalars(select(OutboundCall).order_by(OutboundCall.id)))


def call_out(node: Pbx, number: str) -> None:
    """A call out from the node's outbound route (a Local channel whose other half waits 2 s
    once the carrier answered, then hangs up), by AMI Originate."""
    s = node.settings

    async def work() -> None:
        bridge = AmiBridge(s.ami_host, s.ami_port, s.ami_user, s.ami_secret or "",
                           ping_interval_s=3600)
        async with bridge:
            await asyncio.wait_for(bridge.connected.wait(), 10)
            reply = await bridge.originate(
                wait_s=30, Channel=f"Local/{number}@civic311-outbound", Application="Wait",
                Data="2")
            assert reply.get("Response") == "Success", reply

    asyncio.run(work())


def test_the_carrier_reaches_both_nodes_through_the_front_door_and_nobody_else_is_it(
        nodes: dict[str, Pbx], door: frontdoor.FrontDoor, pg: Database,
        tmp_path: Path) -> None:
    east, west = nodes[EAST], nodes[WEST]
    logs = {EAST: east.queue_log, WEST: west.queue_log}
    with running_daemons([(east, tmp_path / "east.log"), (west, tmp_path / "west.log")],
                         pg.url):
        east.add_agent("100", ["sanitation"], ring_ms=200, talk_ms=500)
        west.add_agent("101", ["sanitation"], ring_ms=200, talk_ms=500)
        calls = [carrier.carrier_call(DOOR, did=SANITATION_DID, caller=CALLER)
                 for _ in range(4)]
        for call in calls:
            result = call.wait(90)
            assert (result.successful, result.failed) == (1, 0), call.log.read_text()[-2000:]
        assert_records_equal_logs(pg, logs, 4)
        with pg.session() as s:
            rows = list(s.scalars(select(CallRecord)))
        # the trunk's: its endpoint, the DID's line, the caller in E.164, on both nodes
        assert sorted(r.node for r in rows) == [EAST, EAST, WEST, WEST]
        for r in rows:
            assert (r.queue, r.caller_number, r.outcome) == (
                "sanitation", f"+1{CALLER}", "answered"), r.__dict__
            assert (r.channel or "").startswith("PJSIP/carrier-"), r.channel
        assert len(re.findall(r"carrier call \S+ from 127\.0\.0\.9", door_log(door))) == 4

        # the same DID from another address through the front door: a resident's call
        # (the test nodes trust residents from 127.0.0.1, the front door's address)
        other = sipp.stranger(DOOR, number=SANITATION_DID, user="+14105550177",
                              bind_ip="127.0.0.7")
        up = wait_until(lambda: [(n, c) for n in nodes.values()
                                 for c in channels_of(n, "+14105550177")], 15,
                        what="the stranger's call up on a node")
        assert [c for _, c in up] == [(up[0][1][0], "civic311-inbound")], up
        assert up[0][1][0].startswith("PJSIP/trunk-"), up  # the residents' endpoint
        up[0][0].rx(f"channel request hangup {up[0][1][0]}")
        other.wait(30)

        # the carrier's own address straight to a node is no longer the trunk: challenged
        direct = sipp.stranger(east.sip_target, number=SANITATION_DID, user=CALLER,
                               bind_ip=carrier.CARRIER_IP)
        direct.wait(30)
        assert direct.events() == ["refused"], direct.log.read_text()[-2000:]
        # and the front door's trunk socket takes calls out from the nodes only
        spoof = sipp.stranger(TRUNK_SOCKET, number="14105550199", user="civiccity311",
                              bind_ip="127.0.0.7")
        spoof.wait(30)
        assert spoof.events() == ["refused"], spoof.log.read_text()[-2000:]
        assert "INVITE to the trunk socket from 127.0.0.7" in door_log(door)
        with pg.session() as s:
            assert len(list(s.scalars(select(CallRecord)))) == 4  # none of them a trunk call

        # each node calls out to the carrier by its dial policy ([civic311-outbound], as a
        # desk phone dialling does): through the front door, which the carrier sees as sender
        gateway = carrier.carrier(ring_ms=100, talk_ms=10000)
        try:
            for node in (east, west):
                call_out(node, "4105550199")
            wait_until(lambda: gateway.events().count("hung up by the city") == 2, 20,
                       what="both nodes' calls out answered and ended (BYEs through the door)")
            invites = [e for e in gateway.events() if e.startswith("invite ")]
            assert len(invites) == 2 and gateway.events().count("answered") == 2, invites
            for invite in invites:
                assert invite.startswith("invite +14105550199 ") and invite.endswith(
                    f" via {DOOR}"), invite
                assert carrier.CITY_CALLER_ID in invite.split(" pai ")[1], invite
            out = wait_until(lambda: [c for c in outbound_rows(pg) if c.outcome] or None, 15,
                             what="the calls out recorded")
            wait_until(lambda: len([c for c in outbound_rows(pg) if c.outcome]) == 2, 15,
                       what="both calls out recorded")
            assert out[0].to_carrier == "+14105550199"
            assert [c.outcome for c in outbound_rows(pg)] == ["answered", "answered"]
            assert len(re.findall(r"node 127\.0\.0\.1:\d+ calls the carrier",
                                  door_log(door))) == 2
        finally:
            gateway.stop()
    assert not [ln for ln in door_log(door).splitlines() if " ERROR: " in ln]



def test_a_carrier_call_a_node_turns_away_is_answered_by_the_next_node(
        nodes: dict[str, Pbx], door: frontdoor.FrontDoor, pg: Database,
        tmp_path: Path) -> None:
    """East answers OPTIONS (the front door's probe finds it healthy) but turns the DID's
    calls away with 503 (its dialplan hangs them up as congested, cause 34): the front door's
    failure route marks it down and sends each such call on to west, from the trunk socket
    again, so west takes it as the carrier's; the carrier sees every call answered."""
    east, west = nodes[EAST], nodes[WEST]
    east.rx(f"dialplan add extension {SANITATION_DID},1,Hangup(34) into civic311-carrier "
            "replace")
    assert "Hangup(34)" in east.rx(f"dialplan show {SANITATION_DID}@civic311-carrier")
    with running_daemons([(east, tmp_path / "east.log"), (west, tmp_path / "west.log")],
                         pg.url):
        west.add_agent("101", ["sanitation"], ring_ms=200, talk_ms=500)
        for _ in range(4):  # round robin: the second at the latest is sent to east first
            call = carrier.carrier_call(DOOR, did=SANITATION_DID, caller=CALLER)
            result = call.wait(90)
            assert (result.successful, result.failed) == (1, 0), call.log.read_text()[-2000:]
        east_sip = re.escape(f"sip:{east.sip_target}")
        turned = re.findall(rf"node {east_sip} failed \(503\) for \S+: marked down, next node",
                            door_log(door))
        assert turned, door_log(door)[-3000:]
        assert_records_equal_logs(pg, {EAST: east.queue_log, WEST: west.queue_log}, 4)
        with pg.session() as s:
            rows = list(s.scalars(select(CallRecord)))
        assert [r.node for r in rows] == [WEST] * 4
        for r in rows:  # on west as the trunk's: sent from the trunk socket on the retry too
            assert (r.queue, r.caller_number, r.outcome) == (
                "sanitation", f"+1{CALLER}", "answered"), r.__dict__
            assert (r.channel or "").startswith("PJSIP/carrier-"), r.channel
    assert not [ln for ln in door_log(door).splitlines() if " ERROR: " in ln]


@pytest.mark.parametrize("door", [3600], indirect=True)  # no probe: the call finds it out
def test_a_carrier_call_a_node_does_not_answer_is_answered_by_the_next_node(
        nodes: dict[str, Pbx], door: frontdoor.FrontDoor, pg: Database,
        tmp_path: Path) -> None:
    """East freezes (SIGSTOP) before the front door's probe could tell: of two carrier
    calls sent at once, round robin gives one to east, which sends no reply; after the
    front door's 2 s (tm's fr_timer) its failure route marks east down and sends the call
    on to west, from the trunk socket again, so west takes it as the carrier's. East is
    killed frozen (it never saw the call), so the records equal the queue_logs."""
    east, west = nodes[EAST], nodes[WEST]
    assert east.proc is not None
    with running_daemons([(east, tmp_path / "east.log"), (west, tmp_path / "west.log")],
                         pg.url):
        west.add_agent("101", ["sanitation"], ring_ms=200, talk_ms=500)
        east.proc.send_signal(signal.SIGSTOP)
        try:
            calls = [carrier.carrier_call(DOOR, did=SANITATION_DID, caller=CALLER)
                     for _ in range(2)]
            for call in calls:
                result = call.wait(90)
                assert (result.successful, result.failed) == (1, 0), \
                    call.log.read_text()[-2000:]
        finally:
            east.proc.send_signal(signal.SIGKILL)
            east.proc.wait(10)
        east_sip = re.escape(f"sip:{east.sip_target}")
        timed_out = re.findall(rf"node {east_sip} failed \(408\) for \S+: marked down, next "
                               "node", door_log(door))
        assert len(timed_out) == 1, door_log(door)[-3000:]
        assert_records_equal_logs(pg, {EAST: east.queue_log, WEST: west.queue_log}, 2)
        with pg.session() as s:
            rows = list(s.scalars(select(CallRecord)))
        assert [(r.node, r.outcome) for r in rows] == [(WEST, "answered")] * 2
        assert all((r.channel or "").startswith("PJSIP/carrier-") for r in rows), rows
