"""``civic311 node add|list`` and ``civic311 frontdoor render|run`` (docs/nodes.md)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from foundation.cli import Context, pass_ctx
from telephony import frontdoor, nodes
from telephony import provision as prov


@click.group()
def node() -> None:
    """Telephony nodes: several Asterisk + daemon pairs sharing one database."""


@node.command("add")
@click.argument("name")
@click.option("--step", default=100, show_default=True,
              help="Move every port of this center's own node by this much.")
@click.option("--sip-port", type=int)
@click.option("--ami-port", type=int)
@click.option("--agi-port", type=int)
@click.option("--replace", is_flag=True, help="Overwrite an existing node file.")
@click.option("--no-render", is_flag=True, help="Only write the node file.")
@pass_ctx
def add_cmd(c: Context, name: str, step: int, sip_port: int | None, ami_port: int | None,
            agi_port: int | None, replace: bool, no_render: bool) -> None:
    """Describe node NAME (its own ports and Asterisk) and render its Asterisk config."""
    given = {k: v for k, v in (("sip_port", sip_port), ("ami_port", ami_port),
                               ("agi_port", agi_port)) if v is not None}
    try:
        values = nodes.node_values(c.settings, name, step, given)
        path = nodes.write_node(c.settings, values, replace=replace)
    except nodes.NodeError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"node {name}: {path}")
    if not no_render:
        try:
            install = prov.provision(nodes.node_settings(c.settings, values))
        except prov.ProvisionError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"node {name}: Asterisk config rendered into {install.etc_dir}")
    conf = f"--config [CENTER.toml{os.pathsep}]{path}"  # the node's file over the center's
    click.echo(f"run it: civic311 {conf} asterisk start; civic311 {conf} daemon")


@node.command("list")
@pass_ctx
def list_cmd(c: Context) -> None:
    """This center's node and every added one, with its SIP address."""
    click.echo(f"{c.settings.node}\t{c.settings.sip_host}:{c.settings.sip_port}\t(this)")
    for n in nodes.added_nodes(c.settings):
        click.echo(f"{n['node']}\t{c.settings.sip_host}:{n['sip_port']}")


@click.group("frontdoor")
def frontdoor_group() -> None:
    """The SIP front door (Kamailio): render its config, run it."""


def _run_dir(c: Context, run_dir: str | None) -> Path:
    return Path(run_dir) if run_dir else c.settings.data_dir / "frontdoor"


@frontdoor_group.command("render")
@click.option("--run-dir", type=click.Path(file_okay=False),
              help="Where its files go (default <data_dir>/frontdoor).")
@pass_ctx
def render_cmd(c: Context, run_dir: str | None) -> None:
    """Write kamailio.cfg and the dispatcher list of Asterisk nodes."""
    try:
        door = frontdoor.write(c.settings, _run_dir(c, run_dir), nodes.sip_targets(c.settings))
    except frontdoor.FrontDoorError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"front door rendered into {door.run_dir}: "
               f"{', '.join(nodes.sip_targets(c.settings))}")


@frontdoor_group.command("run")
@click.option("--run-dir", type=click.Path(file_okay=False))
@pass_ctx
def run_cmd(c: Context, run_dir: str | None) -> None:
    """Render, then run Kamailio in the foreground (replaces this process)."""
    try:
        door = frontdoor.write(c.settings, _run_dir(c, run_dir), nodes.sip_targets(c.settings))
        argv = door.command()
    except frontdoor.FrontDoorError as exc:
        raise click.ClickException(str(exc)) from exc
    os.execvp(argv[0], argv)
