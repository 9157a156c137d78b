"""Agents' phones behind NAT, and over TCP and TLS, at the front door (real Kamailio, one real
Asterisk node, SIPp phones).

- Behind NAT: a phone's REGISTER (Via and Contact) names a private address, 192.168.1.23,
  while it listens on 127.0.0.1. The front door answers it at the packet's source, rings it
  there (nathelper: ``fix_nated_register``, the answer's Contact aliased) and pings it with
  OPTIONS to keep its NAT open; a queue call reaches it and is answered. A phone beside it
  that is not behind NAT is registered as it said and is not pinged.
- Over TLS: Debian's SIPp is built without TLS, so the phone is a SIPp TCP phone behind a
  TLS tunnel (socat, checking the front door's certificate against the center's); the
  front door keeps the TLS connection, and a queue call reaches the phone over it. A plain
  TCP phone (SIPp ``-t t1``) answers one too.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from foundation.secret_store import sip_password
from foundation.settings import default_cache_dir
from telephony import frontdoor, runtime, sipp
from tests.support import ports, processes
from tests.support.pbx import Pbx, make_pbx, wait_until

pytestmark = [pytest.mark.asterisk,
              pytest.mark.skipif(shutil.which("socat") is None or not Path(
                  frontdoor.MODULE_DIRS[0], "tls.so").exists(),
                  reason="needs socat and kamailio-tls-modules (scripts/system-deps.sh)")]

QUEUE = "citywide"
PRIVATE = "192.168.1.23:5060"  # what the phone behind NAT writes as its address
PORT_NAMES = ("sip_port", "ami_port", "agi_port", "agent_phone_base_port", "http_port",
              "https_port")


def door_target() -> str:
    return f"127.0.0.1:{ports.port('frontdoor_port')}"


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The center's SIP TLS certificate (for 127.0.0.1) and key."""
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "sip.pem", d / "sip.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pbx]:
    """The node on ports of its own (node2_*): the suite's shared PBX may be up on this
    worker with its agents' phones on the default ones."""
    tmp = tmp_path_factory.mktemp("node")
    first, last = ports.rtp_range(first=24000, size=1000)
    pbx = make_pbx(tmp, default_cache_dir(), FRONTDOOR_AGENTS="true",
                   FRONTDOOR_PORT=str(ports.port("frontdoor_port")),
                   RTP_START=str(first), RTP_END=str(last),
                   **{k.upper(): str(ports.port(f"node2_{k}")) for k in PORT_NAMES},
                   SIP_SECRET=secrets.token_urlsafe(18),
                   AGENT_SIP_PASSWORDS=json.dumps({str(100 + i): sip_password()
                                                   for i in range(8)}))
    try:
        pbx.start()
        yield pbx
    finally:
        pbx.stop_phones()
        pbx.stop()


@pytest.fixture(scope="module")
def door(node: Pbx, tls_files: tuple[Path, Path],
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[frontdoor.FrontDoor]:
    """Kamailio: UDP and TCP on the front-door port, TLS with the center's certificate,
    NAT pings every second."""
    tmp = tmp_path_factory.mktemp("door")
    cert, key = tls_files
    settings = node.settings.model_copy(update={
        "frontdoor_probe_s": 1, "frontdoor_natping_s": 1, "sip_tls_cert_file": cert,
        "sip_tls_key_file": key, "frontdoor_tls_port": ports.port("frontdoor_tls_port")})
    door = frontdoor.write(settings, tmp / "run", [node.sip_target])
    log = tmp / "kamailio.log"
    proc = subprocess.Popen(door.command(), stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    try:
        def up() -> bool:
            if proc.poll() is not None:
                raise AssertionError(log.read_text()[-3000:])
            return any(f.startswith("A") for f in frontdoor.destinations(door).values())

        wait_until(up, 10, what="the front door to see the node answer OPTIONS")
        yield door
    finally:
        node.stop_phones()
        processes.stop(proc, 10)
        errors = [ln for ln in log.read_text(errors="replace").splitlines() if " ERROR: " in ln]
        assert errors == [], errors


@pytest.fixture
def tunnel(tls_files: tuple[Path, Path]) -> Iterator[str]:
    """A TLS tunnel to the front door's TLS port (socat, verifying its certificate): a TCP
    phone connecting to the returned ``host:port`` registers over TLS."""
    local = ports.port("tls_tunnel")
    proc = subprocess.Popen(
        ["socat", f"TCP-LISTEN:{local},bind=127.0.0.1,reuseaddr,fork",
         f"OPENSSL:127.0.0.1:{ports.port('frontdoor_tls_port')},cafile={tls_files[0]},"
         "verify=1"], stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def listening() -> bool:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode() if proc.stderr else "socat ended")
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", local)) == 0

    try:
        wait_until(listening, 5, what="the TLS tunnel to listen")
        yield f"127.0.0.1:{local}"
    finally:
        processes.stop(proc, 5)


def at_door(node: Pbx, door: frontdoor.FrontDoor, ext: str, registrar: str,
            **kw: object) -> sipp.SippProcess:
    """Agent ``ext``'s phone registered at the front door through ``registrar``, reachable
    from the node through it (its qualify answered), and the queue's only member."""
    phone = sipp.agent_phone(node.settings.agent_phone_port(ext), registrar, f"agent{ext}",
                             node.settings.agent_sip_passwords[ext], ring_ms=200,
                             talk_ms=1000, proxied=True, **kw)  # type: ignore[arg-type]
    node.phones.append(phone)
    aor = f"agent{ext}"

    def registered() -> bool:
        if not phone.running():
            raise AssertionError(phone.log.read_text()[-2000:])
        return any(phone.line in c for c in frontdoor.registered(door, aor))

    wait_until(registered, 10, what=f"{aor} registered at the front door")

    def reachable() -> bool:
        got = runtime.registered_contact(node.install, aor)
        if got and got[1] == "Avail":
            return True
        node.rx(f"pjsip qualify {aor}")
        return False

    wait_until(reachable, 10, interval=0.5, what=f"the node to reach {aor} through the door")
    for other in re.findall(r"\(PJSIP/(agent\d+)", node.rx(f"queue show {QUEUE}")):
        node.rx(f"queue remove member PJSIP/{other} from {QUEUE}")  # the last phone's out
    node.rx(f"queue add member PJSIP/{aor} to {QUEUE} penalty 0 as {ext}")
    return phone


def received(door: frontdoor.FrontDoor, aor: str) -> str:
    """Where the front door rings ``aor`` when that is not its Contact ("" when it is)."""
    out = frontdoor.kamcmd(door, "ul.lookup", "location", aor) or ""
    got = next((ln.split(":", 1)[1].strip() for ln in out.splitlines()
                if ln.strip().startswith("Received:")), "")
    return "" if got == "[not set]" else got


def answered(node: Pbx, phone: sipp.SippProcess) -> None:
    """A resident's call to the queue rings ``phone``, which answers, talks and hangs up:
    the node's ACK reached the phone and the phone's BYE reached the node, both through
    the front door (the caller would hold on for 30 s)."""
    rung = phone.events().count("rung")
    ended = node.queue_log_events().count("COMPLETEAGENT")
    caller = node.call(hold_ms=30000)
    wait_until(lambda: node.queue_log_events().count("COMPLETEAGENT") > ended, 15,
               what="the agent to answer the queue call and hang up")
    assert caller.wait(30).failed == 0
    assert phone.events().count("rung") == rung + 1
    assert phone.running(), phone.log.read_text()[-2000:]


def test_a_phone_behind_nat_is_rung_where_its_register_came_from(
        node: Pbx, door: frontdoor.FrontDoor) -> None:
    plain = at_door(node, door, "101", door_target())
    natted = at_door(node, door, "100", door_target(), behind_nat=PRIVATE)
    port = node.settings.agent_phone_port("100")
    assert any(PRIVATE in c for c in frontdoor.registered(door, "agent100"))
    assert received(door, "agent100") == f"sip:127.0.0.1:{port}"
    answered(node, natted)
    wait_until(lambda: "options from sip:pinger@" in natted.events(), 5,
               what="the front door's NAT keepalive OPTIONS")
    # the phone on its own address is registered as it said, and never pinged
    assert received(door, "agent101") == ""
    assert "options from sip:pinger@" not in plain.events()


def test_phones_register_over_tls_and_tcp_and_answer_through_the_door(
        node: Pbx, door: frontdoor.FrontDoor, tunnel: str) -> None:
    over_tls = at_door(node, door, "102", tunnel, transport="t1")
    assert received(door, "agent102").endswith(";transport=tls")
    answered(node, over_tls)
    over_tcp = at_door(node, door, "103", door_target(), transport="t1")
    assert received(door, "agent103").endswith(";transport=tcp")
    answered(node, over_tcp)
