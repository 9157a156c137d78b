"""``civic311 agent phone EXT``: the SIP account to type into an agent's desk phone."""

from __future__ import annotations

import click

from foundation.cli import Context, echo_json, pass_ctx
from telephony import phones


@click.group()
def agent() -> None:
    """Agent seats."""


@agent.command("phone")
@click.argument("ext")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def phone_cmd(c: Context, ext: str, as_json: bool) -> None:
    """Server, port, transport, user and password of agent EXT's phone account."""
    try:
        acct = phones.account(c.settings, ext)
    except phones.UnknownAgent as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        echo_json(acct.as_dict())
        return
    first = acct.transports[0]
    click.echo(f"server     {acct.server}\n"
               f"port       {first.port}\n"
               f"transport  {', '.join(f'{t.protocol} ({t.port})' for t in acct.transports)}\n"
               f"user       {acct.user}\n"
               f"password   {acct.password}")
