"""CRM commands: ``civic311 apikey create NAME``, ``civic311 catalog import|export``,
``civic311 opendata export``."""

from __future__ import annotations

import sys
from typing import Any
from zoneinfo import ZoneInfo

import click

from foundation.cli import Context, parse_when, pass_ctx


@click.group()
def apikey() -> None:
    """Open311 API keys (stored hashed; a key is shown once)."""


@apikey.command("create")
@click.argument("name")
@pass_ctx
def apikey_create(c: Context, name: str) -> None:
    """Issue a key for client NAME and print it (the only time it is shown)."""
    from crm_bridge.open311.apikeys import create_key
    from crm_bridge.tickets.errors import CrmError

    try:
        with c.db.session() as s:
            key = create_key(s, name)
    except CrmError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(key)


@click.group()
def catalog() -> None:
    """The service catalog (agencies, service types)."""


@catalog.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@pass_ctx
def catalog_import(c: Context, path: str) -> None:
    """Create or update agencies and service types from a YAML or JSON file (all or nothing)."""
    import yaml

    from crm_bridge.tickets.catalog import import_catalog, load_file

    try:
        with c.db.session() as s:
            lines = import_catalog(s, load_file(path))
    except (ValueError, TypeError, KeyError, AttributeError, yaml.YAMLError) as exc:
        raise click.ClickException(f"nothing imported: {exc}") from exc
    for line in lines:
        click.echo(line)


@catalog.command("export")
@pass_ctx
def catalog_export(c: Context) -> None:
    """Print the catalog as YAML (the import format)."""
    import yaml

    from crm_bridge.tickets.catalog import export_catalog

    with c.db.session() as s:
        click.echo(yaml.safe_dump(export_catalog(s), sort_keys=False, allow_unicode=True))


@click.group()
def opendata() -> None:
    """Open data (GeoReport bulk style, personal data removed)."""


@opendata.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
@click.option("--from", "start", help="Requested on or after (ISO 8601).")
@click.option("--to", "end", help="Requested before (ISO 8601).")
@click.option("--out", type=click.Path(dir_okay=False, writable=True),
              help="Output file (default: standard output).")
@pass_ctx
def opendata_export(c: Context, fmt: str, start: str | None, end: str | None,
                    out: str | None) -> None:
    """Write every ticket as CSV or JSON through the public view of a request: no names or
    contacts, hundred-block addresses, rounded coordinates, descriptions only where the
    service type allows (masked), spreadsheet formulas made text."""
    from crm_bridge.open311 import opendata as od

    tz = ZoneInfo(c.settings.timezone)
    lo, hi = (parse_when(v) if v else None for v in (start, end))
    places = c.settings.public_coordinate_decimals
    with c.db.session() as s:
        if out:
            with open(out, "w", encoding="utf-8", newline="") as fh:
                n = od.write(fmt, od.rows(s, tz, lo, hi, places), fh)
            click.echo(f"{n} service requests written to {out}", err=True)
        else:
            stream: Any = sys.stdout
            od.write(fmt, od.rows(s, tz, lo, hi, places), stream)
