"""The SIP front door: Kamailio's config rendered from ``asterisk_conf/templates/kamailio`` and its
command line, for ``civic311 frontdoor render|run`` and the tests (docs/nodes.md).

Kamailio (Debian's ``kamailio`` package) runs unprivileged in a directory of its own: its
config, the dispatcher's list of Asterisk nodes, its control socket and pid file.

With ``frontdoor_agents`` it is also the agents' registrar: each desk phone registers here
with its own account (``telephony.phones``), checked against the account's digest secret
(HA1, so the config holds no password), and every node dials ``agentEXT@<front door>``,
which rings the phone wherever it registered — at most one call at a time per agent.

With the nodes' device state shared as well (``devstate_peers``), it speaks for a dead node
(``DeadNodes``): res_pjsip_publish_asterisk keeps a peer's last states with no expiry, so a
node that dies with an agent on a call would leave that agent in use on every other node.

With ``frontdoor_trunk`` the carrier trunk comes here too: the carrier's calls (told by its
source addresses) go to a healthy node from a socket of their own, which each node's
identify takes as the carrier; the nodes' calls out arrive at that socket and leave for the
carrier from the front door's main one, the one address the carrier knows.

Phones may register over UDP, TCP or (with the center's SIP TLS certificate) TLS; one
behind NAT, or on a connection, is rung at the address and connection its REGISTER came
from (nathelper), whatever its Contact says, and one behind NAT is pinged to keep its
NAT's binding open.

The agents' browser phones (``agentEXT-webrtc``) register here as well, over SIP on a
WebSocket (ws on ``frontdoor_ws_port``; wss on ``frontdoor_wss_port`` with the center's
certificate when ``sip_tls`` is set): Kamailio relays their signalling, and the media
(DTLS-SRTP, ICE) flows between the browser and the node as when the browser registered to
the node.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from foundation.settings import Settings
from telephony import devstate, phones
from telephony.install import write_atomic
from telephony.trunk import config as trunk_config

TEMPLATES = Path(str(resources.files("asterisk_conf") / "templates" / "kamailio"))
MODULE_DIRS = ("/usr/lib/x86_64-linux-gnu/kamailio/modules", "/usr/lib/kamailio/modules",
               "/usr/lib64/kamailio/modules")
DISPATCH_SET = 1  # the dispatcher set of the Asterisk nodes
REALM = "civic311"  # the digest realm agent phones authenticate in at the front door


class FrontDoorError(RuntimeError):
    """Kamailio is not installed, or there is no node to send calls to."""


@dataclass(frozen=True)
class FrontDoor:
    """A rendered front door: where its files are and how to run it."""

    run_dir: Path

    @property
    def config(self) -> Path:
        return self.run_dir / "kamailio.cfg"

    @property
    def list_file(self) -> Path:
        return self.run_dir / "dispatcher.list"

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "kamailio.pid"

    def command(self) -> list[str]:
        """Kamailio in the foreground (``-DD``), logging to stderr (``-E``)."""
        exe = shutil.which("kamailio") or shutil.which("kamailio", path="/usr/sbin:/sbin")
        if exe is None:
            raise FrontDoorError("Kamailio is not installed: apt-get install kamailio")
        return [exe, "-DD", "-E", "-f", str(self.config), "-P", str(self.pid_file),
                "-Y", str(self.run_dir), "-w", str(self.run_dir), "-m", "32", "-M", "8"]


def modules_dir() -> str:
    for d in MODULE_DIRS:
        if Path(d, "dispatcher.so").exists():
            return d
    raise FrontDoorError("Kamailio's dispatcher module is missing: apt-get install kamailio")


def tls_files(settings: Settings, modules: str) -> tuple[Path, Path] | None:
    """The certificate and key the front door's TLS listener uses (the center's SIP TLS
    ones), or None when it has none: TLS is for agents' phones, so only with agents."""
    if not (settings.frontdoor_agents and settings.sip_tls):
        return None
    if not Path(modules, "tls.so").exists():
        raise FrontDoorError("Kamailio's tls module is missing: apt-get install "
                             "kamailio-tls-modules (or unset sip_tls_cert_file)")
    assert settings.sip_tls_cert_file and settings.sip_tls_key_file
    for f in (settings.sip_tls_cert_file, settings.sip_tls_key_file):
        if not f.is_file():
            raise FrontDoorError(f"the front door's TLS file {f} does not exist")
    return settings.sip_tls_cert_file, settings.sip_tls_key_file


def dispatcher_list(nodes: list[str], names: dict[str, str] | None = None) -> str:
    """The dispatcher's list: one line per node (``host:port`` of its SIP transport), with
    the node's name as an attribute when ``names`` (target -> name) knows it."""
    if not nodes:
        raise FrontDoorError("the front door has no node: set frontdoor_nodes or add nodes")
    names = names or {}
    lines = ["# set destination flags priority attributes (rendered by civic311)"]
    lines += [f"{DISPATCH_SET} sip:{node} 0 0 name={i}"
              + (f";node={names[node]}" if node in names else "")
              for i, node in enumerate(nodes, 1)]
    return "\n".join(lines) + "\n"


def digest_ha1(user: str, password: str, realm: str = REALM) -> str:
    """RFC 2617's HA1, MD5(user:realm:password): what the front door checks a phone's
    digest response against, so its config never holds the password itself."""
    return hashlib.md5(f"{user}:{realm}:{password}".encode(), usedforsecurity=False).hexdigest()


def agent_digests(settings: Settings) -> list[tuple[str, str]]:
    """(SIP user, HA1) of every agent's desk phone and browser phone (the same password);
    [] unless ``frontdoor_agents``."""
    if not settings.frontdoor_agents:
        return []
    out = []
    for a in phones.accounts(settings):
        browser = phones.webrtc_user(a.ext)
        out += [(a.user, digest_ha1(a.user, a.password)),
                (browser, digest_ha1(browser, a.password))]
    return out


def need_module(mdir: str, name: str, package: str) -> None:
    if not Path(mdir, f"{name}.so").exists():
        raise FrontDoorError(f"Kamailio's {name} module is missing (browser phones at the "
                             f"front door need it): apt-get install {package}")


@dataclass(frozen=True)
class Node:
    """A node the front door dispatches to, by the name it shares device state under."""

    name: str
    target: str  # host:port of its SIP transport, as in the dispatcher's list
    entity_id: str


@dataclass(frozen=True)
class DeadNodes:
    """What the front door needs to speak for a node down ``after_s`` seconds: once, it
    PUBLISHes to every other node, in the dead node's name (its entity id, in the body, is
    what Asterisk files a state under), state UNKNOWN for every agent's device. UNKNOWN
    ranks below every state a node gives a device itself, so each node's own view of the
    agent stands. When the node answers again, the front door asks it to publish all its
    states again (the module's own "refresh" request), which undoes all of that if the node
    had never died (a frozen process, a network cut)."""

    nodes: tuple[Node, ...]
    after_s: int
    publisher: str
    ha1: str  # the publisher's digest hash in the nodes' realm, never its password

    def others(self, node: Node) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n != node)


def dead_nodes(settings: Settings, nodes: list[str]) -> DeadNodes | None:
    """None unless agents are at the front door and two of its nodes share device state
    (a destination that is no named node, per ``devstate.named_nodes``, is not spoken for)."""
    names = devstate.named_nodes(settings)
    named = tuple(Node(names[t], t, devstate.entity_id(names[t])) for t in nodes if t in names)
    if not settings.frontdoor_agents or len(named) < 2:
        return None
    ha1 = digest_ha1(devstate.PUBLISHER, devstate.secret(settings), devstate.REALM)
    return DeadNodes(named, settings.frontdoor_node_dead_s, devstate.PUBLISHER, ha1)


@dataclass(frozen=True)
class Trunk:
    """The carrier as the front door knows it (``frontdoor_trunk``)."""

    port: int  # the front door's trunk socket: carrier calls leave from it, nodes' arrive
    networks: list[str]  # the carrier's addresses (CIDRs): its requests come from these
    host: str  # where the nodes' calls out go
    carrier_port: int


def trunk(settings: Settings) -> Trunk | None:
    """The trunk through the front door, or None (the carrier reaches a node directly)."""
    t = settings.trunk
    if t is None or not settings.frontdoor_trunk:
        return None
    return Trunk(settings.frontdoor_trunk_port, trunk_config.carrier_networks(settings),
                 t.host, t.port)


def render(settings: Settings, run_dir: Path, nodes: list[str]) -> dict[str, str]:
    """Every file of the front door, by name."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    door = FrontDoor(run_dir)
    modules = modules_dir()
    if settings.frontdoor_agents:
        need_module(modules, "websocket", "kamailio-websocket-modules")
    tls = tls_files(settings, modules)
    cfg = env.get_template("kamailio.cfg.j2").render(
        debug=1, children=2, host=settings.frontdoor_host, port=settings.frontdoor_port,
        modules_dir=modules, run_dir=run_dir, list_file=door.list_file,
        probe_s=settings.frontdoor_probe_s, fr_timer_ms=2000, agents=agent_digests(settings),
        realm=REALM, dead=dead_nodes(settings, nodes), trunk=trunk(settings),
        tls=tls, tls_port=settings.frontdoor_tls_port, natping_s=settings.frontdoor_natping_s,
        ws_port=settings.frontdoor_ws_port,
        wss_port=settings.frontdoor_wss_port if tls else None,
        webrtc_suffix=phones.WEBRTC_SUFFIX)
    names = devstate.named_nodes(settings)
    return {door.config.name: cfg, door.list_file.name: dispatcher_list(nodes, names)}


def write(settings: Settings, run_dir: Path, nodes: list[str]) -> FrontDoor:
    run_dir.mkdir(parents=True, exist_ok=True)
    for name, text in render(settings, run_dir, nodes).items():
        write_atomic(run_dir / name, text, 0o640)
    return FrontDoor(run_dir)


def parse_destinations(text: str) -> dict[str, str]:
    """``kamcmd dispatcher.list`` output -> {node URI: flags}; flags ``A`` active, ``I``
    inactive, ``D`` disabled, then ``P``/``X`` while it is being probed."""
    found = re.findall(r"URI:\s*(\S+)\s+FLAGS:\s*(\S+)", text)
    return {uri: flags for uri, flags in found}


def kamcmd(door: FrontDoor, *command: str, timeout: float = 5) -> str | None:
    """One command on the running front door's control socket; None when it is not up."""
    exe = shutil.which("kamcmd") or shutil.which("kamcmd", path="/usr/sbin:/sbin")
    if exe is None:
        raise FrontDoorError("kamcmd is missing: apt-get install kamailio")
    proc = subprocess.run([exe, "-s", f"unix:{door.run_dir}/kamailio_ctl", *command],
                          capture_output=True, text=True, timeout=timeout, check=False)
    return proc.stdout if proc.returncode == 0 else None


def destinations(door: FrontDoor, timeout: float = 5) -> dict[str, str]:
    """What the running front door thinks of each node now ({} when it is not up)."""
    out = kamcmd(door, "dispatcher.list", timeout=timeout)
    return parse_destinations(out) if out is not None else {}


def parse_contacts(text: str) -> list[str]:
    """``kamcmd ul.lookup location AOR`` output -> the contact URIs registered to it."""
    return re.findall(r"Address:\s*(\S+)", text)


def registered(door: FrontDoor, user: str, timeout: float = 5) -> list[str]:
    """The contacts phone account ``user`` has registered at the front door now."""
    out = kamcmd(door, "ul.lookup", "location", user, timeout=timeout)
    return parse_contacts(out) if out is not None else []
