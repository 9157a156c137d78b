"""Agents at the front door and device state between nodes, as rendered: each node dials its
agents at the front door; the front door registers them against their own accounts (by
digest hash) and refuses a second call; two nodes publish to each other exactly the
resources the other accepts; a single node renders none of it."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError

from foundation.settings import Settings, load_settings
from telephony import devstate, frontdoor, phones, sipp
from telephony.install import locate
from telephony.render import render_all
from tests.unit.telephony.test_phone_accounts import of_type

needs_kamailio = pytest.mark.skipif(
    not Path(frontdoor.MODULE_DIRS[0], "dispatcher.so").exists(),
    reason="Kamailio is not installed (scripts/system-deps.sh)")


def node(tmp_path: Path, name: str, sip_port: int, **kw: object) -> Settings:
    """A node of one center: the agents' passwords and the center's secret are shared."""
    passwords = {str(100 + i): f"agent-secret-{i:04d}" for i in range(8)}
    return load_settings(data_dir=str(tmp_path / name), node=name, sip_port=sip_port,
                         agent_sip_passwords=passwords, sip_secret="center-secret-1234",
                         frontdoor_port=5999, **kw)


def test_a_single_node_renders_no_front_door_agents_and_no_shared_state(tmp_path: Path) -> None:
    settings = load_settings(data_dir=str(tmp_path))
    conf = render_all(settings, locate(settings))
    aor = of_type(conf["pjsip.conf"], "aor")["agent100"]
    assert "contact" not in aor and aor["max_contacts"] == "1"  # phones register here
    assert not of_type(conf["pjsip.conf"], "outbound-publish")
    assert not of_type(conf["pjsip.conf"], "asterisk-publication")
    assert "entityid" not in conf["asterisk.conf"]
    assert "publish" not in conf["modules.conf"]
    assert devstate.sharing(settings) is None
    assert phones.account(settings, "100").server == settings.sip_server_name
    # the browser phone registers with this Asterisk's own WebSocket, as before
    browser = of_type(conf["pjsip.conf"], "aor")["agent100-webrtc"]
    assert "contact" not in browser and browser["max_contacts"] == "1"
    assert phones.browser_phone(settings, "100").websocket == (
        f"ws://127.0.0.1:{settings.http_port}/ws")


def test_each_node_dials_its_agents_at_the_front_door(tmp_path: Path) -> None:
    east = node(tmp_path, "east", 5160, frontdoor_agents=True)
    files = render_all(east, locate(east))
    pjsip = files["pjsip.conf"]
    # the daemon hears of a phone's contact turning unreachable (acd.phone_reach)
    assert "eventfilter = Event: ContactStatus[^A-Za-z]" in files["manager.conf"]
    assert "ContactStatus" not in render_all(
        node(tmp_path, "solo", 5160), locate(east))["manager.conf"]
    aors = of_type(pjsip, "aor")
    endpoints = of_type(pjsip, "endpoint")
    for ext in east.agent_extensions:
        user = f"agent{ext}"
        assert aors[user]["contact"] == f"sip:{user}@127.0.0.1:5999"
        assert aors[user]["max_contacts"] == "0"  # never registered straight to a node
        assert int(aors[user]["qualify_frequency"]) > 0  # unreachable while not at the door
        assert endpoints[user]["rewrite_contact"] == "no"
        # the browser phone too: dialled at the front door, over UDP, still WebRTC media
        assert aors[f"{user}-webrtc"]["contact"] == f"sip:{user}-webrtc@127.0.0.1:5999"
        assert aors[f"{user}-webrtc"]["max_contacts"] == "0"
        assert endpoints[f"{user}-webrtc"]["rewrite_contact"] == "no"
        assert endpoints[f"{user}-webrtc"]["webrtc"] == "yes"
    acct = phones.account(east, "100")
    assert (acct.server, [(t.protocol, t.port) for t in acct.transports]) == (
        "127.0.0.1", [("udp", 5999), ("tcp", 5999)])
    tls = east.model_copy(update={"sip_tls_cert_file": Path("/etc/ssl/pbx.pem"),
                                  "sip_tls_key_file": Path("/etc/ssl/pbx.key")})
    assert [(t.protocol, t.port) for t in phones.account(tls, "100").transports] == [
        ("udp", 5999), ("tcp", 5999), ("tls", 5071)]


def test_two_nodes_publish_to_each_other_what_the_other_accepts(tmp_path: Path) -> None:
    peers = {"east": "127.0.0.1:5160", "west": "127.0.0.1:5260"}
    both = {n: node(tmp_path, n, int(t.split(":")[1]), devstate_peers=peers)
            for n, t in peers.items()}
    conf = {n: render_all(s, locate(s)) for n, s in both.items()}
    for me, other in (("east", "west"), ("west", "east")):
        mine, theirs = conf[me]["pjsip.conf"], conf[other]["pjsip.conf"]
        (publish,) = of_type(mine, "outbound-publish").values()
        resource, _, where = publish["server_uri"].removeprefix("sip:").partition("@")
        assert where == peers[other] and publish["event"] == "asterisk-devicestate"
        assert publish["@device_state_filter"] == devstate.DEVICES
        # the peer has that resource, for this endpoint, and takes its device states
        inbound = of_type(theirs, "inbound-publication")[resource]
        accepted = of_type(theirs, "asterisk-publication")[
            inbound["event_asterisk-devicestate"]]
        assert accepted["device_state"] == "yes"
        assert accepted["device_state_filter"] == devstate.DEVICES
        # its publisher authenticates with the password the peer challenges with
        user = publish["from_uri"].removeprefix("sip:").partition("@")[0]
        assert inbound["endpoint"] == user
        out_auth = of_type(mine, "auth")[publish["outbound_auth"]]
        in_auth = of_type(theirs, "auth")[of_type(theirs, "endpoint")[user]["auth"]]
        assert (out_auth["username"], out_auth["password"]) == (
            in_auth["username"], in_auth["password"])
        assert out_auth["password"] != both[me].sip_secret
        assert "res_pjsip_publish_asterisk.so" in conf[me]["modules.conf"]
    ids = [c["asterisk.conf"].split("entityid = ")[1].split()[0] for c in conf.values()]
    assert len(set(ids)) == 2, "two nodes with one entity id ignore each other's states"


@pytest.mark.parametrize("peers", [{"West": "127.0.0.1:5260"}, {"west": "127.0.0.1"},
                                   {"west": "host:5260;x"}])
def test_a_peer_that_cannot_be_named_in_pjsip_conf_is_refused(tmp_path: Path,
                                                               peers: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        load_settings(data_dir=str(tmp_path), devstate_peers=peers)


@needs_kamailio
def test_the_front_door_registers_agents_by_digest_hash_and_refuses_a_second_call(
        tmp_path: Path) -> None:
    east = node(tmp_path, "east", 5160, frontdoor_agents=True)
    cfg = frontdoor.render(east, tmp_path / "fd", ["127.0.0.1:5160"])["kamailio.cfg"]
    for ext, password in east.agent_sip_passwords.items():
        ha1 = hashlib.md5(f"agent{ext}:civic311:{password}".encode()).hexdigest()
        assert f'$sht(agents=>agent{ext}) = "{ha1}";' in cfg
        assert password not in cfg
    assert 'save("location", "0x04")' in cfg and 'lookup("location")' in cfg
    assert '$au != $tU' in cfg  # an agent registers as itself only
    assert 'get_profile_size("agent"' in cfg and 'sl_send_reply("486"' in cfg
    assert 'lock("$var(agent)")' in cfg and '"lock_set_size"' in cfg  # without, no lock
    assert 'ds_is_from_list("1", "2")' in cfg  # only a node rings an agent

    alone = frontdoor.render(node(tmp_path, "solo", 5160), tmp_path / "fd2",
                             ["127.0.0.1:5160"])["kamailio.cfg"]
    assert "registrar.so" not in alone and "$sht(agents" not in alone
    assert 'sl_send_reply("405"' in alone
    # a front door of nodes only: UDP, no NAT handling, no TLS, even with a certificate
    certified = node(tmp_path, "solo", 5160, sip_tls_cert_file="/nonexistent.pem",
                     sip_tls_key_file="/nonexistent.key")
    assert frontdoor.render(certified, tmp_path / "fd2", ["127.0.0.1:5160"])[
        "kamailio.cfg"] == alone
    assert "listen=tcp" not in alone and "nathelper" not in alone and "tls" not in alone


def cert_pair(tmp_path: Path) -> dict[str, object]:
    cert, key = tmp_path / "sip.pem", tmp_path / "sip.key"
    cert.write_text("certificate")
    key.write_text("key")
    return {"sip_tls_cert_file": str(cert), "sip_tls_key_file": str(key)}


@needs_kamailio
def test_the_front_door_rings_a_phone_behind_nat_where_it_registered_from(
        tmp_path: Path) -> None:
    east = node(tmp_path, "east", 5160, frontdoor_agents=True, frontdoor_natping_s=15)
    cfg = frontdoor.render(east, tmp_path / "fd", ["127.0.0.1:5160"])["kamailio.cfg"]
    assert 'loadmodule "nathelper.so"' in cfg
    assert 'nat_uac_test("19")' in cfg and "force_rport();" in cfg
    # the REGISTER's source is saved as received, pinged on UDP
    nat = cfg[cfg.index("if (isflagset(5))"):]
    assert nat.index("fix_nated_register();") < nat.index("setbflag(7)") < nat.index(
        'save("location"')
    assert 'modparam("nathelper", "natping_interval", 15)' in cfg
    assert 'modparam("nathelper", "ping_nated_only", 1)' in cfg
    assert 'modparam("usrloc", "nat_bflag", 6)' in cfg
    assert 'modparam("nathelper", "sipping_bflag", 7)' in cfg
    # the phone's answer is aliased to its source, and in-dialog requests go there
    assert 't_on_reply("AGENT_REPLY")' in cfg and "set_contact_alias();" in cfg
    assert "handle_ruri_alias();" in cfg
    assert "listen=tcp:127.0.0.1:5999" in cfg and "listen=tls" not in cfg
    assert "tls.so" not in cfg


@needs_kamailio
def test_the_front_door_listens_on_tls_with_the_centers_certificate(tmp_path: Path) -> None:
    if not Path(frontdoor.MODULE_DIRS[0], "tls.so").exists():
        pytest.skip("kamailio-tls-modules is not installed (scripts/system-deps.sh)")
    files = cert_pair(tmp_path)
    east = node(tmp_path, "east", 5160, frontdoor_agents=True, frontdoor_tls_port=5998,
                **files)
    cfg = frontdoor.render(east, tmp_path / "fd", ["127.0.0.1:5160"])["kamailio.cfg"]
    assert "listen=tls:127.0.0.1:5998" in cfg and "enable_tls=yes" in cfg
    assert f'modparam("tls", "certificate", "{files["sip_tls_cert_file"]}")' in cfg
    assert f'modparam("tls", "private_key", "{files["sip_tls_key_file"]}")' in cfg
    assert cfg.index('loadmodule "tls.so"') < cfg.index('modparam("tls"')


def test_a_missing_tls_file_is_a_clear_error(tmp_path: Path) -> None:
    files = cert_pair(tmp_path)
    Path(str(files["sip_tls_key_file"])).unlink()
    east = node(tmp_path, "east", 5160, frontdoor_agents=True, **files)
    with pytest.raises(frontdoor.FrontDoorError, match="does not exist|tls module"):
        frontdoor.render(east, tmp_path / "fd", ["127.0.0.1:5160"])


# ``kamcmd ul.lookup location agent100`` of Kamailio 5.6 (Debian bookworm), shortened
UL_LOOKUP = """{
	AoR: agent100
	Contacts: {
		Contact: {
			Address: sip:agent100@127.0.0.1:17640;line=17640xc2f39f18
			Expires: 298
			Q: -1
			Call-ID: 1-5063@127.0.0.1
			User-Agent: civic311 SIPp phone
			Socket: udp:127.0.0.1:17633
		}
	}
}
"""


def test_the_contacts_registered_at_the_front_door_are_read() -> None:
    assert frontdoor.parse_contacts(UL_LOOKUP) == [
        "sip:agent100@127.0.0.1:17640;line=17640xc2f39f18"]
    assert frontdoor.parse_contacts("error: 500 - AOR not found in location table") == []


def test_a_phone_behind_the_front_door_routes_its_bye(tmp_path: Path) -> None:
    plain = sipp.answering(tmp_path, 200, 1000)
    assert "[routes]" not in plain.read_text()
    assert "Record-Route" not in plain.read_text()
    text = sipp.routed(plain).read_text()
    bye = text[text.index("BYE [next_url]"):]
    assert bye.index("[routes]") < bye.index("Content-Length")
    # its ringing and its answer copy the Record-Route, so Asterisk's BYE goes back that way
    answers = [m for m in text.split("<send") if "SIP/2.0 180" in m or "a=rtpmap" in m]
    assert len(answers) == 2
    assert all(m.index("[last_Record-Route:]") < m.index("Contact:") for m in answers)
    assert text.count("[last_Record-Route:]") == 2


@needs_kamailio
def test_the_front_door_speaks_for_a_dead_node_as_the_others_accept(tmp_path: Path) -> None:
    peers = {"east": "127.0.0.1:5160", "west": "127.0.0.1:5260"}
    east, west = (node(tmp_path, n, int(t.split(":")[1]), devstate_peers=peers,
                       frontdoor_agents=True) for n, t in peers.items())
    files = frontdoor.render(east, tmp_path / "fd", list(peers.values()))
    cfg = files["kamailio.cfg"]
    pjsip = render_all(west, locate(west))["pjsip.conf"]
    # west files a state under the eid in the body, on the resource east publishes to
    accepted = of_type(pjsip, "inbound-publication")["devstate-east"]
    assert accepted["event_asterisk-devicestate"] == "devstate-east"
    assert f'$var(eid) = "{devstate.entity_id("east")}";' in cfg
    assert '$var(resource) = "devstate-east";' in cfg and '"state":"UNKNOWN"' in cfg
    # with west's publisher credentials, as a digest hash in the realm west challenges in
    auth = of_type(pjsip, "auth")[of_type(pjsip, "endpoint")[accepted["endpoint"]]["auth"]]
    ha1 = hashlib.md5(f"{auth['username']}:{auth['realm']}:{auth['password']}".encode())
    assert f'$uac_req(apasswd) = "{ha1.hexdigest()}";' in cfg
    assert auth["password"] not in cfg and f'$uac_req(auser) = "{auth["username"]}";' in cfg
    assert "uac_req_send()" in cfg and "evroute" not in cfg.split("route[PUBLISH]")[1]
    assert "$Ts - $sht(nodes=>east::down) >= 10" in cfg  # frontdoor_node_dead_s
    # and its agents' calls end: each is in its node's profile, by the node's name
    assert files["dispatcher.list"].splitlines()[1:] == [
        "1 sip:127.0.0.1:5160 0 0 name=1;node=east", "1 sip:127.0.0.1:5260 0 0 name=2;node=west"]
    assert 'set_dlg_profile("node", "$(var(node_attrs){param.value,node})");' in cfg
    assert 'dlg_set_timeout_by_profile("node", "east", "1");' in cfg
    assert 'modparam("dialog", "send_bye", 1)' in cfg
    # one node, or no shared device state: nothing of it
    solo = frontdoor.render(node(tmp_path, "solo", 5160, frontdoor_agents=True),
                            tmp_path / "fd2", ["127.0.0.1:5160"])["kamailio.cfg"]
    assert "uac.so" not in solo and "route[NODES]" not in solo and "send_bye" not in solo


def test_a_phone_behind_nat_writes_its_private_address(tmp_path: Path) -> None:
    answer = sipp.natted(sipp.answering(tmp_path, 200, 1000), "192.168.1.23:5060")
    text = answer.read_text()
    assert "[local_ip]:[local_port]" not in text
    assert "Via: SIP/2.0/[transport] 192.168.1.23:5060;rport;" in text
    assert "Contact: <sip:192.168.1.23:5060;transport=[transport]>" in text


def test_the_desktop_phone_gets_the_front_doors_websocket(tmp_path: Path) -> None:
    east = node(tmp_path, "east", 5160, frontdoor_agents=True, frontdoor_ws_port=5998)
    phone = phones.browser_phone(east, "100")
    assert (phone.user, phone.websocket) == ("agent100-webrtc", "ws://127.0.0.1:5998/ws")
    assert phones.training_phone(east).websocket.endswith(f":{east.http_port}/ws")  # a resident
    tls = node(tmp_path, "tls", 5160, frontdoor_agents=True, sip_server="pbx.city.example",
               sip_tls_cert_file=str(tmp_path / "c.pem"), sip_tls_key_file=str(tmp_path / "k.pem"))
    assert phones.browser_phone(tls, "100").websocket == "wss://pbx.city.example:5077/ws"


def test_shared_device_state_takes_in_the_browser_phones_at_the_front_door(
        tmp_path: Path) -> None:
    peers = {"west": "127.0.0.1:5260"}
    alone = devstate.sharing(node(tmp_path, "east", 5160, devstate_peers=peers))
    at_door = devstate.sharing(node(tmp_path, "east", 5160, devstate_peers=peers,
                                    frontdoor_agents=True))
    assert alone is not None and at_door is not None
    assert alone.devices == r"^PJSIP/agent[0-9]+$"
    assert at_door.devices == r"^PJSIP/agent[0-9]+(-webrtc)?$"


@needs_kamailio
def test_the_front_door_takes_browser_phones_over_websocket(tmp_path: Path) -> None:
    east = node(tmp_path, "east", 5160, frontdoor_agents=True, frontdoor_ws_port=5998)
    files = frontdoor.render(east, tmp_path / "fd", ["127.0.0.1:5160"])
    cfg = files["kamailio.cfg"]
    password = east.agent_sip_passwords["100"]
    ha1 = hashlib.md5(f"agent100-webrtc:civic311:{password}".encode())
    assert f'$sht(agents=>agent100-webrtc) = "{ha1.hexdigest()}";' in cfg
    assert "listen=tcp:127.0.0.1:5998" in cfg and "ws_handle_handshake()" in cfg
    assert "fix_nated_register()" in cfg and "handle_ruri_alias()" in cfg
    assert "s.striptail,7" in cfg  # agent100-webrtc's calls count as agent100's
    assert "tls.so" not in cfg
    assert "websocket.so" not in frontdoor.render(node(tmp_path, "solo", 5160), tmp_path / "f2",
                                                   ["127.0.0.1:5160"])["kamailio.cfg"]
    checked = subprocess.run(["/usr/sbin/kamailio", "-c", "-f", str(
        frontdoor.write(east, tmp_path / "fd", ["127.0.0.1:5160"]).config)],
        capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr[-2000:]


@needs_kamailio
def test_the_front_door_serves_wss_with_the_centers_certificate(tmp_path: Path) -> None:
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=pbx.city.example", "-keyout", str(key), "-out", str(cert)],
                   capture_output=True, check=True)
    tls = node(tmp_path, "east", 5160, frontdoor_agents=True, sip_tls_cert_file=str(cert),
               sip_tls_key_file=str(key))
    door = frontdoor.write(tls, tmp_path / "fd", ["127.0.0.1:5160"])
    assert "listen=tls:127.0.0.1:5077" in door.config.read_text()
    assert f'modparam("tls", "certificate", "{cert}")' in door.config.read_text()
    checked = subprocess.run(["/usr/sbin/kamailio", "-c", "-f", str(door.config)],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr[-2000:]


def test_a_front_door_without_the_websocket_module_is_a_clear_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "dispatcher.so").touch()
    monkeypatch.setattr(frontdoor, "modules_dir", lambda: str(tmp_path / "mods"))
    east = node(tmp_path, "east", 5160, frontdoor_agents=True)
    with pytest.raises(frontdoor.FrontDoorError, match="kamailio-websocket-modules"):
        frontdoor.render(east, tmp_path / "fd", ["127.0.0.1:5160"])
    frontdoor.render(node(tmp_path, "solo", 5160), tmp_path / "fd", ["127.0.0.1:5160"])


@needs_kamailio
def test_the_front_door_with_everything_on_is_one_valid_config(tmp_path: Path) -> None:
    """Agents (UDP, TCP, TLS, NAT, ws and wss), the trunk and the dead-node rule at once:
    one file Kamailio accepts, each listener once."""
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=pbx.city.example", "-keyout", str(key), "-out", str(cert)],
                   capture_output=True, check=True)
    peers = {"east": "127.0.0.1:5160", "west": "127.0.0.1:5260"}
    trunk = {"host": "192.0.2.10", "port": 5080, "auth": "ip", "match": ["192.0.2.10"],
             "caller_id": "(410) 555-0300", "dids": {"410-555-0311": "311"}}
    east = node(tmp_path, "east", 5160, frontdoor_agents=True, devstate_peers=peers,
                sip_tls_cert_file=str(cert), sip_tls_key_file=str(key), trunk=trunk,
                frontdoor_trunk=True)
    door = frontdoor.write(east, tmp_path / "fd", list(peers.values()))
    cfg = door.config.read_text()
    listens = [line for line in cfg.splitlines() if line.startswith("listen=")]
    assert len(listens) == len(set(listens)) == 6  # udp, trunk, tcp, ws, tls, wss
    assert "route[NODES]" in cfg and "route[TO_CARRIER]" in cfg and "ws_handle_handshake" in cfg
    checked = subprocess.run(["/usr/sbin/kamailio", "-c", "-f", str(door.config)],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr[-2000:]
