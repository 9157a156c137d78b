"""Every port a test process listens on, in one table, moved per checkout and per worker.

``CIVIC311_TEST_PORT_OFFSET`` moves a whole checkout (steps of 100, for suites of several
checkouts side by side, one process each), and each pytest-xdist worker
(``PYTEST_XDIST_WORKER`` = gw0, gw1, ...) adds ``WORKER_STRIDE`` more, so every worker has
its own Asterisk, SIPp phones and servers. tests/unit/test_test_ports.py proves that no two
workers' ports meet; add a new fixed port to ``FIXED`` and that test checks it too. RTP and
SIPp media ports are ranges above these (Asterisk and SIPp move on from a taken one).
"""

from __future__ import annotations

import os

# a stride that no difference between two ports below is a small multiple of
WORKER_STRIDE = 52
MAX_WORKERS = 3
AGENT_PHONES = 8  # Settings.agent_count: one SIPp phone port per agent

# name -> port at offset 0; the test PBX's and the `civic311 up` test's own Asterisk
FIXED = {
    "sip_port": 15060, "ami_port": 15038, "agi_port": 14573, "agent_phone_base_port": 15080,
    "http_port": 15088, "https_port": 15089,
    "resident_phone": 16150, "referral_phone": 15079, "carrier": 15070,
    "up_sip_port": 16060, "up_ami_port": 16038, "up_agi_port": 16573,
    "up_agent_phone_base_port": 16080, "up_web_port": 18311,
    # tests/integration/test_clean_stop.py's `civic311 up`
    "stop_sip_port": 16045, "stop_ami_port": 16025, "stop_agi_port": 16650,
    "stop_agent_phone_base_port": 16000, "stop_web_port": 18420,
    # tests/integration/recordings/test_recordings_disk_full.py's Asterisk
    "full_sip_port": 16047, "full_ami_port": 16027, "full_agi_port": 16652,
    "full_agent_phone_base_port": 16010,
    # tests/browser/test_browser_phone_wss.py's Asterisk (TLS: SIP, HTTPS and WSS)
    "wss_sip_port": 17000, "wss_ami_port": 17001, "wss_agi_port": 17002,
    "wss_agent_phone_base_port": 17003, "wss_http_port": 17011, "wss_https_port": 17012,
    "wss_sip_tls_port": 17013,
    # tests/integration/test_frontdoor_pbx.py: a second node's Asterisk and the front door
    "node2_sip_port": 17020, "node2_ami_port": 17021, "node2_agi_port": 17022,
    "node2_agent_phone_base_port": 17023, "node2_http_port": 17031, "node2_https_port": 17032,
    "frontdoor_port": 17033,
    # tests/integration/test_frontdoor_agents_pbx.py: its other node (node2_* is the first)
    "node3_sip_port": 17034, "node3_ami_port": 17035, "node3_agi_port": 17036,
    "node3_agent_phone_base_port": 17037, "node3_http_port": 17045, "node3_https_port": 17046,
    # tests/integration/test_frontdoor_trunk_pbx.py: the front door's trunk socket
    "frontdoor_trunk_port": 17047,
    # tests/integration/test_frontdoor_nat_tls_pbx.py: the front door's TLS port, and the
    # local end of the TLS tunnel (socat) a TCP-only SIPp phone registers over TLS through
    "frontdoor_tls_port": 17048, "tls_tunnel": 17049,
    # the front door's WebSocket for browser phones (tests/browser/test_frontdoor_browser_phone.py)
    "frontdoor_ws_port": 17050,
}
PHONE_BASES = tuple(name for name in FIXED if name.endswith("agent_phone_base_port"))


def offset(environ: os._Environ[str] | dict[str, str] = os.environ) -> int:
    checkout = int(environ.get("CIVIC311_TEST_PORT_OFFSET", "0"))
    worker = int(environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    return checkout + WORKER_STRIDE * worker


OFFSET = offset()


def port(name: str) -> int:
    return FIXED[name] + OFFSET


def rtp_range(first: int = 21000, size: int = 2998) -> tuple[int, int]:
    """An Asterisk's RTP ports, from ``first`` (at offset 0) moved three per offset step:
    ranges may overlap (Asterisk takes the next free port) but stay above the fixed ports."""
    return first + 3 * OFFSET, first + size + 3 * OFFSET


def ports_at(off: int) -> list[int]:
    """Every fixed port a process at offset ``off`` may bind."""
    out = []
    for name, base in FIXED.items():
        width = AGENT_PHONES if name in PHONE_BASES else 1
        out += [base + off + i for i in range(width)]
    return out
