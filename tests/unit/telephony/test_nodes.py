"""Nodes: a node's name becomes its Asterisk's systemname and its own ports and tree; the
default node renders exactly what a single-node center always had; the front door's
Kamailio config and dispatcher list come from the nodes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from foundation.settings import DEFAULT_NODE, load_settings
from telephony import frontdoor, nodes
from telephony.install import locate
from telephony.render import render_all


def test_the_default_node_renders_no_systemname(tmp_path: Path) -> None:
    settings = load_settings(data_dir=str(tmp_path))
    assert settings.node == DEFAULT_NODE
    assert "systemname" not in render_all(settings, locate(settings))["asterisk.conf"]


def test_a_node_is_its_asterisks_systemname_with_its_own_ports_and_root(tmp_path: Path) -> None:
    center = load_settings(data_dir=str(tmp_path), asterisk_binary="chroot")
    values = nodes.node_values(center, "east", 100, {"sip_port": 6000})
    nodes.write_node(center, values)
    with pytest.raises(nodes.NodeError, match="exists already"):
        nodes.write_node(center, values)
    # the node's file read over the center's settings, as `civic311 --config A:B` does
    (tmp_path / "center.toml").write_text("short_abandon_s = 7\n")
    files = f"{tmp_path / 'center.toml'}{os.pathsep}{nodes.node_file(center, 'east')}"
    east = load_settings(files, data_dir=str(tmp_path), asterisk_binary="chroot")
    assert (east.node, east.sip_port, east.ami_port, east.short_abandon_s) == (
        "east", 6000, center.ami_port + 100, 7)
    conf = render_all(east, locate(east))
    assert "systemname = east" in conf["asterisk.conf"]
    assert f"bind = {east.sip_host}:6000" in conf["pjsip.conf"]
    assert locate(east).root != locate(center).root  # a clone of its own, never the center's
    assert nodes.sip_targets(center) == [f"127.0.0.1:{center.sip_port}", "127.0.0.1:6000"]


@pytest.mark.parametrize("name", ["Main", "main", "1east", "a" * 17, "east_1", ""])
def test_a_node_name_that_cannot_prefix_a_uniqueid_is_refused(tmp_path: Path,
                                                               name: str) -> None:
    center = load_settings(data_dir=str(tmp_path))
    with pytest.raises(nodes.NodeError):
        nodes.node_values(center, name, 100)
    if name != DEFAULT_NODE:
        with pytest.raises(ValidationError):
            load_settings(data_dir=str(tmp_path), node=name)


def test_the_front_door_dispatches_to_every_node_and_fails_over(tmp_path: Path) -> None:
    if not Path(frontdoor.MODULE_DIRS[0], "dispatcher.so").exists():
        pytest.skip("Kamailio is not installed (scripts/system-deps.sh)")
    settings = load_settings(data_dir=str(tmp_path), frontdoor_port=5999)
    files = frontdoor.render(settings, tmp_path / "fd", ["127.0.0.1:5160", "127.0.0.1:5260"])
    assert files["dispatcher.list"].splitlines()[1:] == [
        "1 sip:127.0.0.1:5160 0 0 name=1", "1 sip:127.0.0.1:5260 0 0 name=2"]
    cfg = files["kamailio.cfg"]
    assert "listen=udp:127.0.0.1:5999" in cfg
    assert 'ds_select_dst("1", "4")' in cfg and "ds_next_dst()" in cfg
    assert 't_check_status("5[0-9][0-9]")' in cfg
    assert f'"{tmp_path / "fd" / "dispatcher.list"}"' in cfg
    with pytest.raises(frontdoor.FrontDoorError):
        frontdoor.dispatcher_list([])
