"""The carrier trunk behind the front door, as rendered: each node takes as the carrier only
the front door's trunk socket (address and port) and calls out to it; the front door
listens on that socket, tells the carrier by its source addresses, sends only the carrier's
calls from the trunk socket and lets only a node call out through it. Without
``frontdoor_trunk`` the trunk renders as it always has, whatever the other front-door
settings say."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from foundation.settings import Settings, load_settings
from telephony import frontdoor
from telephony.install import locate
from telephony.render import render_all
from tests.unit.telephony.test_frontdoor_agents import needs_kamailio
from tests.unit.telephony.test_phone_accounts import of_type

TRUNK: dict[str, Any] = {"host": "192.0.2.10", "port": 5080, "auth": "ip",
                         "match": ["192.0.2.10", "198.51.100.0/28"],
                         "caller_id": "(410) 555-0300", "dids": {"410-555-0311": "311"}}
NODES = ["10.0.0.5:5060", "10.0.0.6:5060"]


def node(tmp_path: Path, name: str = "east", **kw: Any) -> Settings:
    return load_settings(data_dir=str(tmp_path / name), node=name, **{
        "frontdoor_host": "10.0.0.2", "frontdoor_port": 5070, "trunk": TRUNK,
        "frontdoor_trunk": True, "frontdoor_trunk_port": 5071, **kw})


def test_without_frontdoor_trunk_the_trunk_renders_as_before(tmp_path: Path) -> None:
    plain = load_settings(data_dir=str(tmp_path / "a"), trunk=TRUNK)
    moved = load_settings(data_dir=str(tmp_path / "a"), trunk=TRUNK, frontdoor_trunk=False,
                          frontdoor_trunk_port=6001, frontdoor_host="10.9.9.9")
    conf = render_all(plain, locate(plain))
    assert render_all(moved, locate(moved)) == conf  # the door's settings change nothing
    pjsip = conf["pjsip.conf"]
    assert of_type(pjsip, "identify")["carrier"]["match"] == "198.51.100.0/28"  # last match
    assert "match = 192.0.2.10\n" in pjsip
    assert of_type(pjsip, "aor")["carrier"]["contact"] == "sip:192.0.2.10:5080"
    assert of_type(pjsip, "endpoint")["carrier"]["rewrite_contact"] == "yes"
    assert frontdoor.trunk(plain) is None


def test_each_node_takes_only_the_front_doors_trunk_socket_as_the_carrier(
        tmp_path: Path) -> None:
    for name in ("east", "west"):
        settings = node(tmp_path, name)
        pjsip = render_all(settings, locate(settings))["pjsip.conf"]
        identify = [line for line in pjsip.splitlines() if line.startswith("match = ")]
        assert identify[-1] == "match = 10.0.0.2:5071"  # the carrier's, after the residents'
        assert "192.0.2.10" not in pjsip and "198.51.100" not in pjsip
        assert of_type(pjsip, "aor")["carrier"]["contact"] == "sip:10.0.0.2:5071"
        endpoint = of_type(pjsip, "endpoint")["carrier"]
        assert endpoint["rewrite_contact"] == "no"  # the dialog follows the door's routes
        assert endpoint["context"] == "civic311-carrier"
        assert not of_type(pjsip, "registration")


def test_the_carrier_identify_sorts_before_the_trusted_residents_one(tmp_path: Path) -> None:
    """Asterisk takes the first identify (by name) whose match fits: with residents trusted
    by address on the front door's host, the carrier's (address and port) must come first."""
    settings = node(tmp_path, resident_trust_local=True, frontdoor_host="127.0.0.1")
    identifies = of_type(render_all(settings, locate(settings))["pjsip.conf"], "identify")
    assert identifies["carrier"]["match"] == "127.0.0.1:5071"
    assert identifies["trunk"]["match"] == "127.0.0.1/32"
    assert sorted(identifies)[0] == "carrier"


@needs_kamailio
def test_the_front_door_tells_the_carrier_by_address_and_lets_only_nodes_call_out(
        tmp_path: Path) -> None:
    settings = node(tmp_path)
    cfg = frontdoor.render(settings, tmp_path / "fd", NODES)["kamailio.cfg"]
    assert "listen=udp:10.0.0.2:5070\n" in cfg and "listen=udp:10.0.0.2:5071\n" in cfg
    # the carrier's addresses, as networks; nothing the request says makes a carrier call
    nets = re.findall(r'is_in_subnet\("\$si", "([^"]+)"\)', cfg)
    assert nets == ["192.0.2.10/32", "198.51.100.0/28"]
    carrier_socket = cfg[cfg.index("route[CARRIER_SOCKET]"):]
    assert carrier_socket.index("isflagset(1)") < carrier_socket.index(
        '$fs = "udp:10.0.0.2:5071"')
    # calls out: a node only, to the carrier's address, from the door's main socket
    out = cfg[cfg.index("route[TO_CARRIER]"):]
    out = out[:out.index("\n}\n")]
    assert 'ds_is_from_list("1", "2")' in out and 'sl_send_reply("403"' in out
    assert '$rd = "192.0.2.10";' in out and "$rp = 5080;" in out
    assert '$fs = "udp:10.0.0.2:5070";' in out
    assert "if ($Rp == 5071) {\n\t\troute(TO_CARRIER);" in cfg
    # the node's identify and the door's trunk socket are one address
    pjsip = render_all(settings, locate(settings))["pjsip.conf"]
    assert f"listen=udp:{of_type(pjsip, 'identify')['carrier']['match']}\n" in cfg

    alone = frontdoor.render(load_settings(data_dir=str(tmp_path / "solo"), trunk=TRUNK),
                             tmp_path / "fd2", NODES)["kamailio.cfg"]
    assert "ipops.so" not in alone and "TO_CARRIER" not in alone
    assert alone.count("listen=") == 1


@pytest.mark.parametrize(("change", "error"), [
    ({"trunk": None}, "no trunk"),
    ({"trunk": {**TRUNK, "auth": "register", "username": "city311",
                "password": "carrier-secret-123"}}, 'auth = "ip"'),
    ({"trunk": {**TRUNK, "host": "sip.carrier.example", "match": []}}, "not an IP"),
    ({"frontdoor_trunk_port": 5070}, "must differ"),
])
def test_a_trunk_the_front_door_cannot_carry_is_refused(
        tmp_path: Path, change: dict[str, Any], error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        node(tmp_path, **change)
