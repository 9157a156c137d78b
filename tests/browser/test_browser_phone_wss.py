"""The browser phone over TLS, and an agent's call out from the desktop through the carrier.

An Asterisk of its own with a certificate generated for 127.0.0.1 (HTTPS and SIP over a
secure WebSocket, ``wss://``), the carrier trunk pointing at the SIPp carrier
(tests/support/carrier.py), and headless Chromium told to trust that one certificate (its
public key's hash, for this browser only). The agent's browser phone registers over wss;
the agent calls a local number from the desktop's Call out: the browser phone rings first
(the desktop's Originate picks the registered browser phone over the desk phone), the agent
answers, Asterisk dials the number through the trunk with the city's caller ID, the carrier
answers and talks, audio flows both ways (WebRTC getStats and Asterisk's RTP counters), the
agent hangs up; the outbound record, the supervisor's outbound list and its report show the
call with the caller ID it went out with."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from acd.outbound.models import OutboundCall
from foundation.db import Database
from foundation.settings import default_cache_dir
from foundation.users import create_user
from telephony import sipp
from tests.browser.conftest import start_web, stop_web
from tests.browser.test_browser_phone import MEDIA_FLAGS, asterisk_rx_packets, logged_in, stats
from tests.conftest import TEST_PASSWORD
from tests.support import carrier, ports
from tests.support.pbx import Pbx, make_pbx, running_daemon, wait_until

pytestmark = [pytest.mark.asterisk, pytest.mark.postgres]

PORTS = {k.upper(): str(ports.port(f"wss_{k}")) for k in (
    "sip_port", "ami_port", "agi_port", "agent_phone_base_port", "http_port", "https_port",
    "sip_tls_port")}
PORTS["RTP_START"], PORTS["RTP_END"] = (str(p) for p in ports.rtp_range(26000, 998))
NUMBER = "(410) 555-0188"  # a local number: the dial policy allows it


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """A self-signed certificate for 127.0.0.1: (cert, key, base64 SHA-256 of its public key)."""
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "wss.crt", d / "wss.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True,
                   timeout=60)
    der = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-pubkey"],
                         check=True, capture_output=True, timeout=30).stdout
    spki = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=der,
                          check=True, capture_output=True, timeout=30).stdout
    return cert, key, base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest.fixture(scope="module")
def tls_pbx(tmp_path_factory: pytest.TempPathFactory,
            certificate: tuple[Path, Path, str]) -> Iterator[Pbx]:
    cert, key, _ = certificate
    pbx = make_pbx(tmp_path_factory.mktemp("wss-pbx"), default_cache_dir(),
                   SIP_TLS_CERT_FILE=str(cert), SIP_TLS_KEY_FILE=str(key), **PORTS)
    try:
        pbx.start()
        yield pbx
    finally:
        pbx.stop_phones()
        pbx.stop()


@pytest.fixture(scope="module")
def tls_chromium(certificate: tuple[Path, Path, str]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Chromium is not installed (make system-deps installs it)")
    with sync_playwright() as p:  # trust this certificate's key, and no other
        browser = p.chromium.launch(executable_path=path, args=[
            *MEDIA_FLAGS, f"--ignore-certificate-errors-spki-list={certificate[2]}"])
        yield browser
        browser.close()


def test_the_browser_phone_calls_out_through_the_carrier_over_wss(
        tls_pbx: Pbx, pg_db: Database, tls_chromium: Any, tmp_path: Path) -> None:
    pbx = tls_pbx
    assert pbx.settings.sip_tls
    with pg_db.session() as s:
        create_user(s, "agent100", TEST_PASSWORD, "agent", agent_ext="100")
    with pg_db.session() as s:
        create_user(s, "sup1", TEST_PASSWORD, "supervisor")
    gateway = carrier.carrier(ring_ms=200, talk_ms=30000, speech=sipp.SPEECH_PCAP)
    try:
        with running_daemon(pbx, pg_db.url, tmp_path / "daemon.log"):
            proc, base = start_web(pbx, pg_db, tmp_path / "web.log")
            try:
                call_out(pbx, pg_db, tls_chromium, base, gateway)
            finally:
                stop_web(proc)
    finally:
        gateway.stop()


def call_out(pbx: Pbx, db: Database, browser: Any, base: str,
             gateway: sipp.SippProcess) -> None:
    agent = logged_in(browser, base, "agent100", "/agent/desktop")
    account = agent.evaluate("fetch(document.getElementById('phone').dataset.account)"
                             ".then(r => r.json())")
    assert account["websocket"] == f"wss://127.0.0.1:{pbx.settings.https_port}/ws", account
    agent.wait_for_selector("#phone[data-registered=yes]", timeout=20_000)
    contacts = pbx.rx("pjsip show contacts")
    assert "agent100-webrtc" in contacts, contacts

    outbound = agent.get_by_role("region", name="Call out")
    outbound.wait_for(state="visible", timeout=10_000)
    outbound.get_by_label("Number to call").fill(NUMBER)
    outbound.get_by_role("button", name="Call").click()
    agent.wait_for_selector("#phone[data-call=ringing]", timeout=20_000)  # its own phone first
    agent.click("button[data-phone=answer]")
    agent.wait_for_selector("#phone[data-call=talking]", timeout=10_000)

    def invites() -> list[str]:
        return [e for e in gateway.events() if e.startswith("invite ")]

    wait_until(lambda: "answered" in gateway.events(), 15, what="the carrier to answer")
    (invite,) = invites()
    assert invite.startswith("invite +14105550188 "), invite
    assert carrier.CITY_CALLER_ID in invite.split(" pai ")[1], invite  # P-Asserted-Identity
    # audio both ways: the carrier's speech reaches the browser, the browser's reaches Asterisk
    # (2 s of it at least: Asterisk counts the call's answered time in whole seconds)
    wait_until(lambda: stats(agent)["bytesReceived"] > 16000, 15, what="audio at the agent")
    assert stats(agent)["bytesSent"] > 0
    wait_until(lambda: asterisk_rx_packets(pbx, "agent100-webrtc") > 20, 15,
               what="Asterisk to receive the agent's RTP")
    agent.click("button[data-phone=hangup]")
    agent.wait_for_selector("#phone[data-call=idle]", timeout=10_000)

    def ended() -> OutboundCall | None:
        with db.session() as s:
            row = s.scalar(select(OutboundCall))
            return row if row is not None and row.outcome else None

    call = wait_until(ended, 15, what="the outbound record to be completed")
    assert (call.agent, call.requested_by, call.number, call.to_carrier, call.caller_id,
            call.kind, call.outcome) == ("100", "agent100", "4105550188", "+14105550188",
                                         carrier.CITY_CALLER_ID, "local", "answered")
    assert call.talk_s is not None and call.talk_s > 0

    sup = logged_in(browser, base, "sup1", "/calls/outbound")
    row = sup.locator("#outbound-calls tbody tr").first
    assert "4105550188" in row.inner_text() and carrier.CITY_CALLER_ID in row.inner_text()
    assert "answered" in row.inner_text()
    assert sup.inner_text("#outbound-summary [data-field=calls]") == "1"
    report = sup.evaluate("fetch('/calls/outbound?format=json').then(r => r.json())")
    assert report["summary"]["answered"] == 1
    assert report["calls"][0]["caller_id"] == carrier.CITY_CALLER_ID
