"""Device state shared between nodes, so an agent on a call on one node shows in use on all.

Asterisk's own mechanism (res_pjsip_publish_asterisk, docs.asterisk.org "Exchanging Device
and Mailbox State Using PJSIP"): each node PUBLISHes every change of its agents' desk phone
devices (``PJSIP/agentEXT``) to every peer, which files it under the sender's entity id;
``DEVICE_STATE()`` and app_queue read the aggregate of all nodes' states, so a queue with
``ringinuse = no`` does not ring an agent who talks on another node. Rendered into
pjsip.conf, asterisk.conf (the node's own ``entityid``) and modules.conf when
``devstate_peers`` names the other nodes; nothing is rendered for a single node.

Each node publishes as the endpoint ``civic311-node`` (identified by its From user and
challenged in realm ``civic311-node`` with a secret derived from the center's ``sip_secret``,
which all nodes share), to the resource ``devstate-<its own node>`` on the peer.

A peer's states have no expiry in Asterisk (res_pjsip_publish_asterisk keeps whatever a peer
last published until it publishes again), so a node that dies with an agent on a call would
leave that agent in use on every other node: the front door speaks for a dead node instead
(``named_nodes``; telephony/frontdoor.py, docs/nodes.md).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from foundation.settings import Settings

PUBLISHER = "civic311-node"  # the endpoint, digest user and From user of every node
REALM = "civic311-node"  # the digest realm a node challenges publishers in
# only the agents' desk phones: they ring through the front door, so every node dials the
# same device; a browser phone registered to one node has its truth there. With
# frontdoor_agents the browser phones ring through the front door too, and are shared.
DEVICES = r"^PJSIP/agent[0-9]+$"
DEVICES_AT_DOOR = r"^PJSIP/agent[0-9]+(-webrtc)?$"


@dataclass(frozen=True)
class Peer:
    """Another node, as this node's pjsip.conf names it."""

    name: str
    target: str  # host:port of its SIP transport

    @property
    def publish(self) -> str:
        """This node's outbound-publish to the peer."""
        return f"devstate-to-{self.name}"

    @property
    def resource(self) -> str:
        """The inbound-publication (and asterisk-publication) the peer publishes to here."""
        return f"devstate-{self.name}"


@dataclass(frozen=True)
class Sharing:
    """What pjsip.conf, asterisk.conf and modules.conf need to share device state."""

    node: str
    entity_id: str
    secret: str
    peers: tuple[Peer, ...]
    devices: str = DEVICES
    publisher: str = PUBLISHER
    realm: str = REALM


def entity_id(node: str) -> str:
    """The node's Asterisk entity id (``entityid``): a locally administered MAC-like id made
    from its name. Asterisk's default is the machine's MAC, the same for two nodes on one
    machine, and a node ignores device state that carries its own id."""
    digest = hashlib.sha256(f"civic311 node {node}".encode()).digest()
    return ":".join(f"{b:02x}" for b in (0x02, *digest[:5]))


def secret(settings: Settings) -> str:
    """The nodes' shared PUBLISH password, derived from ``sip_secret`` (never that itself)."""
    key = (settings.sip_secret or "").encode()
    return hmac.new(key, b"civic311 device state", hashlib.sha256).hexdigest()[:32]


def sharing(settings: Settings) -> Sharing | None:
    """None unless ``devstate_peers`` names another node."""
    peers = tuple(Peer(n, t) for n, t in sorted(settings.devstate_peers.items())
                  if n != settings.node)
    if not peers:
        return None
    if not settings.sip_secret:
        raise ValueError("sharing device state between nodes needs sip_secret (secrets.toml)")
    return Sharing(settings.node, entity_id(settings.node), secret(settings), peers,
                   DEVICES_AT_DOOR if settings.frontdoor_agents else DEVICES)


def named_nodes(settings: Settings) -> dict[str, str]:
    """Every node sharing device state by the ``host:port`` of its SIP transport: this node
    and its ``devstate_peers`` ({} when it names none). What the front door knows of which
    node a dispatcher destination is, and so under which entity id it speaks for it."""
    peers = {t: n for n, t in settings.devstate_peers.items() if n != settings.node}
    if not peers:
        return {}
    return {f"{settings.sip_host}:{settings.sip_port}": settings.node, **peers}
