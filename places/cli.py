"""``civic311 gis import addresses FILE`` and ``civic311 gis import districts FILE --layer L``:
the city's address points and district polygons (format: ``docs/places.md``)."""

from __future__ import annotations

from pathlib import Path

import click

from foundation.cli import Context, pass_ctx


@click.group()
def gis() -> None:
    """The city's addresses and districts."""


@gis.group("import")
def gis_import() -> None:
    """Load address points or a layer of district polygons (CSV, GeoJSON, shapefile)."""


@gis_import.command("addresses")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
def import_addresses(c: Context, path: Path) -> None:
    """Address points: new ones added, known ones (same address_id) updated. A file with a
    bad row imports nothing and names the rows."""
    from places import importer, queries

    try:
        points = importer.read_addresses(path)
    except importer.ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc
    with c.db.session() as s:
        added, updated = queries.import_addresses(s, points)
    click.echo(f"{len(points)} address points read: {added} added, {updated} updated")


@gis_import.command("districts")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--layer", required=True,
              help="What the polygons are: council_district, ward, sanitation_zone...")
@click.option("--code-field", help="Property holding the district code (default: code).")
@click.option("--name-field", help="Property holding the district name (default: name).")
@pass_ctx
def import_districts(c: Context, path: Path, layer: str, code_field: str | None,
                     name_field: str | None) -> None:
    """A layer of district polygons, replacing that layer whole."""
    from places import importer, queries

    try:
        layer = queries.check_layer(layer)
        shapes = importer.read_districts(path, code_field, name_field)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    with c.db.session() as s:
        n = queries.import_districts(s, layer, shapes)
    click.echo(f"{n} districts imported into layer {layer}")
