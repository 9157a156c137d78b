"""``civic311 asterisk provision|start|stop|status|cli``."""

from __future__ import annotations

import os

import click

from foundation.cli import Context, pass_ctx
from telephony import provision as prov
from telephony import runtime
from telephony.install import locate


@click.group()
def asterisk() -> None:
    """The PBX: provision (build/find Asterisk, render config), start, stop, status, cli."""


@asterisk.command("provision")
@pass_ctx
def provision_cmd(c: Context) -> None:
    """Find a system Asterisk >= 20 or build the cached root; render every config file."""
    try:
        install = prov.provision(c.settings)
    except prov.ProvisionError as exc:
        raise click.ClickException(str(exc)) from exc
    where = f"chroot {install.root}" if install.root else "system install"
    click.echo(f"Asterisk ready ({where}); config rendered into {install.etc_dir}")


@asterisk.command("start")
@pass_ctx
def start_cmd(c: Context) -> None:
    """Start Asterisk in the background (provisioning first if needed)."""
    install = prov.provision(c.settings)
    runtime.start_background(install)
    click.echo(f"Asterisk running, up {runtime.uptime_s(install)} s")


@asterisk.command("stop")
@pass_ctx
def stop_cmd(c: Context) -> None:
    """Stop Asterisk now."""
    runtime.stop(locate(c.settings))
    click.echo("Asterisk stopped")


@asterisk.command("status")
@pass_ctx
def status_cmd(c: Context) -> None:
    """Uptime, channels and queues of the running Asterisk."""
    install = locate(c.settings)
    if not runtime.is_running(install):
        raise click.ClickException("Asterisk is not running")
    for command in ("core show uptime", "core show channels count", "queue show"):
        click.echo(runtime.rx(install, command).rstrip())


@asterisk.command("cli", context_settings={"ignore_unknown_options": True})
@click.argument("command", nargs=-1)
@pass_ctx
def cli_cmd(c: Context, command: tuple[str, ...]) -> None:
    """Open the Asterisk console, or run one command: civic311 asterisk cli queue show."""
    install = locate(c.settings)
    if command:
        click.echo(runtime.rx(install, " ".join(command)).rstrip())
        return
    argv = install.command("-r")
    os.execvp(argv[0], argv)
