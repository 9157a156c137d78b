"""Agent phones register with digest auth on the real Asterisk: only a phone that registered
with its own password is rung, and an INVITE from an address nobody trusts never reaches the
dialplan (no daemon needed: these are Asterisk's own decisions)."""

from __future__ import annotations

import re

import pytest

from telephony import runtime, sipp
from tests.support.pbx import Pbx, wait_until

pytestmark = pytest.mark.asterisk

LINE = "queue-sanitation"  # a direct queue line: no IVR, no daemon


def connected_agents(pbx: Pbx) -> list[str]:
    return [f[3] for f in (line.split("|") for line in pbx.queue_log.read_text().splitlines())
            if len(f) > 4 and f[4] == "CONNECT"]


def test_only_a_phone_registered_with_its_password_is_rung(clean_pbx: Pbx) -> None:
    # agent 101's user name with a wrong password: challenged, refused, never registered
    intruder = clean_pbx.phone("101", password="not-the-password-1")
    wait_until(lambda: "registration refused" in intruder.events(), 10,
               what="Asterisk to refuse the wrong password")
    assert runtime.registered_contact(clean_pbx.install, "agent101") is None
    agent = clean_pbx.add_agent("100", ["sanitation"], ring_ms=200, talk_ms=1000)
    clean_pbx.rx("queue add member PJSIP/agent101 to sanitation penalty 0 as 101")
    members = clean_pbx.rx("queue show sanitation")
    assert re.search(r"PJSIP/agent101\).*\(Unavailable\)", members), members

    result = clean_pbx.call(calls=2, rate=2, number=LINE, hold_ms=20000).wait(60)
    assert (result.successful, result.failed) == (2, 0), clean_pbx.queue_log.read_text()
    assert connected_agents(clean_pbx) == ["100", "100"]  # the registered phone took both
    assert agent.events().count("rung") == 2
    assert "rung" not in intruder.events()
    assert "registered" not in intruder.events()

    # a phone that logs off (unregisters) makes its agent unavailable at once
    clean_pbx.stop_phones()
    wait_until(lambda: re.search(r"PJSIP/agent100\).*\(Unavailable\)",
                                 clean_pbx.rx("queue show sanitation")), 10,
               what="agent 100 unavailable once the phone logged off")


def test_an_invite_from_an_untrusted_address_never_reaches_the_dialplan(
        clean_pbx: Pbx) -> None:
    # 127.0.0.2 is this machine too (Linux loopback answers all of 127/8) but not trusted:
    # an unknown caller, and one naming an agent without its password, are both refused
    for user in ("+14105550123", "agent100"):
        stranger = sipp.stranger(clean_pbx.sip_target, number="3119", user=user,
                                 bind_ip="127.0.0.2")
        result = stranger.wait(30)
        assert stranger.events() == ["refused"], (user, stranger.log.read_text()[-2000:])
        assert result.returncode == 0
    assert not clean_pbx.cdr_csv.exists() or clean_pbx.cdr_csv.read_text() == ""

    # the same INVITE from the trusted 127.0.0.1 (resident_trust_local, on in the tests) is
    # a resident's call: answered by the self-test line, and Asterisk writes its CDR
    caller = sipp.stranger(clean_pbx.sip_target, number="3119", user="+14105550123",
                           bind_ip="127.0.0.1")
    caller.wait(30)
    assert caller.events() == ["answered"], caller.log.read_text()[-2000:]
    wait_until(lambda: clean_pbx.cdr_csv.exists() and "3119" in clean_pbx.cdr_csv.read_text(),
               10, what="the trusted call's CDR")
