"""Telephony nodes: one Asterisk and its daemon each, all writing to one database.

A node other than the center's own is described by a small settings file,
``<data_dir>/nodes/<NAME>.toml``: its name (``Settings.node``, rendered as Asterisk's
``systemname``) and its ports. It is read over the center's own settings
(``--config center.toml:<data_dir>/nodes/NAME.toml``), so everything else is shared.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from foundation.settings import DEFAULT_NODE, NODE_NAME, Settings
from telephony.install import write_atomic

# the settings a node has of its own; every port moves by the node's step unless given
PORTS = ("sip_port", "ami_port", "agi_port", "http_port", "https_port", "sip_tls_port",
         "rtp_start", "rtp_end", "agent_phone_base_port")


class NodeError(ValueError):
    """A node name that cannot be used, or one that exists already."""


def nodes_dir(settings: Settings) -> Path:
    return settings.data_dir / "nodes"


def node_file(settings: Settings, name: str) -> Path:
    return nodes_dir(settings) / f"{name}.toml"


def node_values(settings: Settings, name: str, step: int,
                ports: dict[str, int] | None = None) -> dict[str, Any]:
    """The settings of node ``name``: the center's ports moved by ``step`` unless given."""
    if not re.fullmatch(NODE_NAME, name) or name == DEFAULT_NODE:
        raise NodeError(f"{name!r}: a node is named with 1 to 16 lower-case letters, digits "
                        f"or hyphens, starting with a letter, and is not {DEFAULT_NODE!r}")
    given = ports or {}
    values: dict[str, Any] = {"node": name}
    for key in PORTS:
        values[key] = given.get(key, getattr(settings, key) + step)
    return values


def write_node(settings: Settings, values: dict[str, Any], replace: bool = False) -> Path:
    """``<data_dir>/nodes/<node>.toml``; refuses to overwrite unless ``replace``."""
    path = node_file(settings, values["node"])
    if path.exists() and not replace:
        raise NodeError(f"node {values['node']!r} exists already ({path})")
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "# a civic311 telephony node, read over the center's settings (docs/nodes.md)\n"
    text += "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())
    write_atomic(path, text, 0o640)
    return path


def added_nodes(settings: Settings) -> list[dict[str, Any]]:
    """Every node file's settings, by name."""
    return [tomllib.loads(p.read_text()) for p in sorted(nodes_dir(settings).glob("*.toml"))]


def node_settings(settings: Settings, values: dict[str, Any]) -> Settings:
    """The center's settings as node ``values`` sees them."""
    return settings.model_copy(update=values)


def sip_targets(settings: Settings) -> list[str]:
    """The ``host:port`` the front door dispatches to: ``frontdoor_nodes`` when set, else
    this center's own Asterisk and every added node's."""
    if settings.frontdoor_nodes:
        return list(settings.frontdoor_nodes)
    own = [f"{settings.sip_host}:{settings.sip_port}"]
    return own + [f"{settings.sip_host}:{n['sip_port']}" for n in added_nodes(settings)]
