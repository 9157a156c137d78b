"""Read a city's published address points and district polygons (CSV, GeoJSON, shapefile)
into plain records, checking every row first: a file with a bad row imports nothing.

The format (``docs/places.md``):

- address points: CSV with a header (``address`` or ``number`` + ``street``; ``lat`` and
  ``lon``/``long``/``longitude``; optional ``address_id``, ``zip``/``zipcode``), or GeoJSON /
  shapefile Point features with the same property names;
- districts: GeoJSON or shapefile (Multi)Polygon features, longitude/latitude (WGS 84), the
  district code in ``code`` (or ``--code-field``), its name in ``name`` (or ``--name-field``).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapefile

from places.address import AddressError, parse
from places.districts import GeometryError, polygon

LAT = ("lat", "latitude", "y")
LONG = ("lon", "long", "longitude", "lng", "x")
ZIP = ("zip", "zipcode", "zip_code", "postcode")
CODE = ("code", "district", "id", "number", "name")
MAX_ERRORS = 20


class ImportFileError(ValueError):
    """The file cannot be imported; ``problems`` lists the rows at fault."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message + ("" if not problems else ":\n  " + "\n  ".join(problems)))
        self.problems = problems or []


@dataclass(frozen=True)
class AddressPoint:
    address_id: str
    text: str  # as the city writes it, "123 N Main St"
    normalized: str
    number: str
    street: str
    zipcode: str
    lat: float
    long: float


@dataclass(frozen=True)
class DistrictShape:
    code: str
    name: str
    geometry: dict[str, Any]  # GeoJSON
    bounds: tuple[float, float, float, float]  # min long, min lat, max long, max lat


def _pick(props: dict[str, Any], names: tuple[str, ...], override: str | None = None) -> Any:
    lower = {str(k).lower(): v for k, v in props.items()}
    for n in (override.lower(),) if override else names:
        v = lower.get(n)
        if v not in (None, ""):
            return v
    return None


def _features(path: Path) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """(properties, GeoJSON geometry) of each feature of a GeoJSON file or a shapefile."""
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ImportFileError(f"{path.name}: not GeoJSON ({exc})") from None
        if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
            raise ImportFileError(f"{path.name}: expected a GeoJSON FeatureCollection")
        for f in data.get("features") or []:
            yield dict(f.get("properties") or {}), f.get("geometry")
    elif suffix == ".shp":
        try:
            reader = shapefile.Reader(str(path))
        except (shapefile.ShapefileException, OSError) as exc:
            raise ImportFileError(f"{path.name}: not a shapefile ({exc})") from None
        with reader:
            for sr in reader.iterShapeRecords():
                geo = sr.shape.__geo_interface__ if sr.shape.shapeType else None
                yield sr.record.as_dict(), dict(geo) if geo else None
    else:
        raise ImportFileError(f"{path.name}: expected .csv, .geojson/.json or .shp")


def _point(props: dict[str, Any], geometry: dict[str, Any] | None, where: str) -> AddressPoint:
    lat, long = _pick(props, LAT), _pick(props, LONG)
    if geometry is not None:
        if geometry.get("type") != "Point":
            raise ValueError(f"{where}: an address must be a Point, not {geometry.get('type')}")
        long, lat = geometry["coordinates"][:2]
    try:
        lat, long = float(lat), float(long)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: latitude and longitude are required numbers") from None
    if not (math.isfinite(lat) and math.isfinite(long) and -90 <= lat <= 90
            and -180 <= long <= 180):
        raise ValueError(f"{where}: coordinates are not longitude/latitude (reproject to WGS 84)")
    text = _pick(props, ("address", "full_address", "fulladdr"))
    if text is None:
        number, street = _pick(props, ("number", "house_number", "addr_num")), \
            _pick(props, ("street", "street_name", "st_name"))
        text = f"{number or ''} {street or ''}".strip()
    try:
        parsed = parse(str(text or ""))
    except AddressError as exc:
        raise ValueError(f"{where}: {exc}") from None
    if not parsed.number:
        raise ValueError(f"{where}: {text!r} has no house number")
    zipcode = str(_pick(props, ZIP) or parsed.zipcode or "")[:5]
    address_id = str(_pick(props, ("address_id", "addr_id", "objectid")) or
                     f"{parsed.line}|{zipcode}")[:64]
    return AddressPoint(address_id=address_id, text=str(text).strip()[:255],
                        normalized=parsed.line, number=parsed.number, street=parsed.street,
                        zipcode=zipcode, lat=lat, long=long)


def read_addresses(path: Path) -> list[AddressPoint]:
    """Every address point of the file; ImportFileError listing the bad rows."""
    rows: list[tuple[dict[str, Any], dict[str, Any] | None]]
    if path.suffix.lower() == ".csv":
        try:
            with path.open(newline="", encoding="utf-8-sig") as fh:
                rows = [(dict(r), None) for r in csv.DictReader(fh)]
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ImportFileError(f"{path.name}: not a UTF-8 CSV ({exc})") from None
    else:
        rows = list(_features(path))
    out, problems, seen = [], [], set()
    for i, (props, geometry) in enumerate(rows, start=2 if path.suffix == ".csv" else 1):
        try:
            p = _point(props, geometry, f"row {i}")
        except ValueError as exc:
            problems.append(str(exc))
            if len(problems) >= MAX_ERRORS:
                break
            continue
        if p.address_id in seen:
            continue  # the same point published twice
        seen.add(p.address_id)
        out.append(p)
    if problems:
        raise ImportFileError(f"{path.name}: nothing imported", problems)
    if not out:
        raise ImportFileError(f"{path.name}: no address points in the file")
    return out


def read_districts(path: Path, code_field: str | None = None,
                   name_field: str | None = None) -> list[DistrictShape]:
    """Every district polygon of the file; ImportFileError listing the bad features."""
    out, problems, codes = [], [], set()
    for i, (props, geometry) in enumerate(_features(path), start=1):
        code = _pick(props, CODE, code_field)
        if code is None:
            problems.append(f"feature {i}: no district code ({code_field or 'code'})")
            continue
        code = str(code).strip()[:32]
        if code in codes:
            problems.append(f"feature {i}: district {code!r} appears twice")
            continue
        try:
            geom = polygon(geometry or {})
        except GeometryError as exc:
            problems.append(f"feature {i}: {exc}")
            continue
        codes.add(code)
        name = str(_pick(props, ("name", "label"), name_field) or code)[:128]
        out.append(DistrictShape(code=code, name=name, geometry=dict(geometry or {}),
                                 bounds=tuple(geom.bounds)))
    if problems:
        raise ImportFileError(f"{path.name}: nothing imported", problems[:MAX_ERRORS])
    if not out:
        raise ImportFileError(f"{path.name}: no district polygons in the file")
    return out
