"""Two Asterisk nodes behind the SIP front door (Kamailio), one PostgreSQL: SIPp residents
call the front door, the calls are spread over both nodes, and every node's daemon writes
its calls, each with its node, equal to that node's own queue_log call for call. Then one
node is SIGKILLed with a caller waiting on it: the front door sends the new calls to the
other, and they are answered; when the dead node comes back, its daemon records the caller
it cut off as dropped (and nothing of the other node's). Killed again, it never comes back:
the node-lost rule closes the caller left waiting on it.

Agents here are SIPp phones registered straight to their node's Asterisk; agents registered
with the front door and rung by both nodes: tests/integration/test_frontdoor_agents_pbx.py.
"""

from __future__ import annotations

import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from acd.models import CallRecord
from acd.node_lost import How, close_lost_calls
from foundation.db import Database, utcnow
from foundation.settings import DEFAULT_NODE
from telephony import frontdoor, sipp
from tests.conftest import make_database
from tests.support import ports, processes
from tests.support.pbx import EXPRESS_LINE, Pbx, make_pbx, running_daemons, wait_until
from tests.support.records import assert_records_equal_logs
from tests.support.truth import truth

pytestmark = [pytest.mark.asterisk, pytest.mark.postgres]

WEST = "west"


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[Database]:
    yield from make_database("postgres", tmp_path)


@pytest.fixture
def west(pbx: Pbx, tmp_path: Path) -> Iterator[Pbx]:
    """The second node: its own root (a clone), directories, ports and systemname."""
    first, last = ports.rtp_range(first=24000, size=1000)
    node = make_pbx(tmp_path / "west", pbx.settings.cache_dir, NODE=WEST, **{
        k.upper(): str(ports.port(f"node2_{k}")) for k in (
            "sip_port", "ami_port", "agi_port", "agent_phone_base_port", "http_port",
            "https_port")}, RTP_START=str(first), RTP_END=str(last))
    try:
        node.start()
        yield node
    finally:
        node.stop_phones()
        node.stop()


@pytest.fixture
def door(clean_pbx: Pbx, west: Pbx, tmp_path: Path) -> Iterator[frontdoor.FrontDoor]:
    """Kamailio on the front-door port, dispatching to both nodes, both seen alive."""
    settings = clean_pbx.settings.model_copy(update={
        "frontdoor_port": ports.port("frontdoor_port"), "frontdoor_probe_s": 1})
    door = frontdoor.write(settings, tmp_path / "frontdoor",
                           [clean_pbx.sip_target, west.sip_target])
    log = (tmp_path / "kamailio.log").open("wb")
    proc = subprocess.Popen(door.command(), stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    try:
        wanted = {f"sip:{clean_pbx.sip_target}", f"sip:{west.sip_target}"}

        def both_active() -> bool:
            if proc.poll() is not None:
                raise AssertionError((tmp_path / "kamailio.log").read_text()[-3000:])
            state = frontdoor.destinations(door)
            return set(state) == wanted and all(f.startswith("A") for f in state.values())

        wait_until(both_active, 10, what="the front door to see both nodes answer OPTIONS")
        yield door
    finally:
        processes.stop(proc, 10)


def open_calls(db: Database) -> dict[str, int]:
    """How many calls each node has open in the records."""
    with db.session() as s:
        nodes = s.scalars(select(CallRecord.node).where(CallRecord.outcome.is_(None)))
        return dict(Counter(nodes))


def test_calls_through_the_front_door_spread_over_two_nodes_and_survive_one(
        clean_pbx: Pbx, west: Pbx, door: frontdoor.FrontDoor, pg: Database,
        tmp_path: Path) -> None:
    target = f"127.0.0.1:{ports.port('frontdoor_port')}"
    logs = {DEFAULT_NODE: clean_pbx.queue_log, WEST: west.queue_log}
    with running_daemons([(clean_pbx, tmp_path / "main.log"), (west, tmp_path / "west.log")],
                         pg.url):
        clean_pbx.add_agent("100", ["citywide"], ring_ms=200, talk_ms=500)
        west.add_agent("101", ["citywide"], ring_ms=200, talk_ms=500)
        result = sipp.callers(target, calls=4, rate=4, hold_ms=30000,
                              number=EXPRESS_LINE).wait(60)
        assert (result.successful, result.failed) == (4, 0)
        assert_records_equal_logs(pg, logs, 4)
        on_main, on_west = len(truth(clean_pbx.queue_log)), len(truth(west.queue_log))
        assert on_main > 0 and on_west > 0, "round robin put every call on one node"
        assert all(uid.startswith(f"{WEST}-") for uid in truth(west.queue_log))  # systemname

        # a caller waits on the west node (its one agent's phone rings on and on) when the
        # west node dies with no warning; new calls are answered by the main node
        west.rx("queue remove member PJSIP/agent101 from citywide")
        west.add_agent("102", ["citywide"], ring_ms=60000)
        waiting = sipp.callers(west.sip_target, calls=1, rate=1, hold_ms=60000,
                               number=EXPRESS_LINE)
        wait_until(lambda: open_calls(pg) == {WEST: 1}, 10, what="a caller waiting on west")
        assert west.proc is not None
        west.proc.send_signal(signal.SIGKILL)
        west.proc.wait()
        for phone in [*west.phones, waiting]:  # nothing left to unregister from
            phone.stop()
        west.phones.clear()
        after = sipp.callers(target, calls=3, rate=3, hold_ms=30000,
                             number=EXPRESS_LINE).wait(90)
        assert (after.successful, after.failed) == (3, 0)
        assert len(truth(clean_pbx.queue_log)) == on_main + 3
        # main's daemon may still be writing the end of its last call (seen once: {main: 1}
        # beside west's); west's stays open: nobody knows yet how it ended
        wait_until(lambda: open_calls(pg) == {WEST: 1}, 10,
                   what="only the call cut off on west left open")

        # west comes back: its daemon closes the call its Asterisk cut off, and only that one
        west.start()
        assert_records_equal_logs(pg, logs, 8)
        assert len(truth(west.queue_log)) == on_west + 1

        # west dies again, for good: its daemon lives on, beating without its Asterisk, and
        # the node-lost rule (its limit cut to 5 s here, above the daemons' 2 s beat; minutes
        # in production) closes the caller left waiting there, and nothing of main's
        west.add_agent("103", ["citywide"], ring_ms=60000)
        waiting = sipp.callers(west.sip_target, calls=1, rate=1, hold_ms=60000,
                               number=EXPRESS_LINE)
        wait_until(lambda: open_calls(pg) == {WEST: 1}, 10, what="a caller waiting on west")
        assert west.proc is not None
        west.proc.send_signal(signal.SIGKILL)
        west.proc.wait()
        west.proc = None  # never to come back
        for phone in [*west.phones, waiting]:
            phone.stop()
        west.phones.clear()
        closed = wait_until(lambda: close_lost_calls(pg, utcnow(), 5), 20,
                            what="the node-lost rule to find west without its Asterisk")
        assert closed == {WEST: 1}
        assert open_calls(pg) == {}
        assert_records_equal_logs(pg, logs, 9)
        with pg.session() as s:
            [lost] = s.scalars(select(CallRecord).where(CallRecord.notes.like("node %")))
            assert (lost.node, lost.outcome) == (WEST, "dropped")
            assert f"node {WEST} {How.NO_ASTERISK.value} since" in (lost.notes or "")
