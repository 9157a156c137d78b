"""The SIPp "carrier" the test PBX's trunk points at: 127.0.0.9 (Linux loopback answers all
of 127/8; the trunk's identify matches only this address), on a port derived from
tests/support/ports.py like every other test port.

``carrier()`` is the carrier's registrar and gateway (tests/sipp/carrier.xml: challenges
the trunk's REGISTER, answers the calls Asterisk sends out); ``carrier_call()`` is the
carrier delivering a resident's call to one of the city's numbers (a DID).
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path

from telephony import sipp
from tests.support import ports

CARRIER_IP = "127.0.0.9"
CARRIER_PORT = ports.port("carrier")
CARRIER_USER = "civiccity311"
CARRIER_PASSWORD = "carrier-test-secret-1"  # a test credential of the SIPp carrier only
CITY_CALLER_ID = "+14105550300"
DIDS = {"4105550311": "311", "+14105550312": "express", "14105550313": "sanitation"}

TRUNK = {"host": CARRIER_IP, "port": CARRIER_PORT, "auth": "register",
         "username": CARRIER_USER, "caller_id": CITY_CALLER_ID, "caller_name": "Civic City 311",
         "dids": DIDS, "retry_interval_s": 30}


def trunk_env() -> dict[str, str]:
    """The CIVIC311_* settings of the test PBX's trunk."""
    return {"CIVIC311_TRUNK": json.dumps(TRUNK), "CIVIC311_TRUNK_PASSWORD": CARRIER_PASSWORD}


def carrier(*, ring_ms: int = 300, talk_ms: int = 15000, user: str = CARRIER_USER,
            password: str = CARRIER_PASSWORD, speech: Path | None = None) -> sipp.SippProcess:
    """The carrier; with ``speech`` (sipp.SPEECH_PCAP) the called party talks once answered."""
    workdir = Path(tempfile.mkdtemp(prefix="civic311-carrier-"))
    scenario = sipp.render("carrier.xml", workdir, user=user, password=password,
                           ring_ms=ring_ms, talk_ms=talk_ms,
                           speech=sipp.play(speech) if speech else "")
    if speech:
        sipp.speaking_alaw(scenario)
    # -deadcall_wait 1: a registration's requests all share one Call-ID (Asterisk's "pjsip
    # send register" unregisters first), so an ended call must not swallow the next REGISTER
    argv = ["-sf", str(scenario), "-p", str(CARRIER_PORT), "-i", CARRIER_IP, "-mi", CARRIER_IP,
            "-deadcall_wait", "1",
            "-mp", str(42000 + 4 * (CARRIER_PORT % 2000)), "-trace_logs", "-log_file",
            str(workdir / "phone.log")]
    return sipp._start(argv, workdir)


def carrier_call(target: str, *, did: str, caller: str, hold_ms: int = 20000
                 ) -> sipp.SippProcess:
    """One call from the carrier's address to ``did``, with caller ID ``caller``."""
    workdir = Path(tempfile.mkdtemp(prefix="civic311-carrier-call-"))
    scenario = sipp.render("caller.xml", workdir, number=did, hold_ms=hold_ms, dtmf="")
    inf = workdir / "callers.csv"
    inf.write_text(f"SEQUENTIAL\n{caller}\n")
    argv = [target, "-sf", str(scenario), "-inf", str(inf), "-m", "1", "-i", CARRIER_IP,
            "-mi", CARRIER_IP, "-mp", str(30000 + 4 * random.randrange(2000)),
            "-timeout", "60s", "-timeout_error"]
    return sipp._start(argv, workdir)
