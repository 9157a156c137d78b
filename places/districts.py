"""Which districts a point lies in (pure, shapely): council districts, wards, agency zones.

A district is a GeoJSON Polygon or MultiPolygon in WGS 84 longitude/latitude."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import Point, shape
from shapely.strtree import STRtree


class GeometryError(ValueError):
    """A district geometry that is not a valid polygon in longitude/latitude."""


@dataclass(frozen=True)
class District:
    layer: str  # "council_district", "sanitation_zone"...
    code: str
    name: str


def polygon(geojson: dict[str, Any]) -> Any:
    """A shapely (Multi)Polygon from a GeoJSON geometry; GeometryError if it is not one."""
    if not isinstance(geojson, dict) or geojson.get("type") not in ("Polygon", "MultiPolygon"):
        raise GeometryError("a district must be a Polygon or MultiPolygon")
    try:
        geom = shape(geojson)
    except (ValueError, TypeError, IndexError, AttributeError) as exc:
        raise GeometryError(f"unreadable polygon: {exc}") from None
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise GeometryError("coordinates are not longitude/latitude (reproject to WGS 84)")
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    return geom


class DistrictIndex:
    """Point-in-polygon over many districts (an STR tree on their bounding boxes)."""

    def __init__(self, districts: Iterable[tuple[District, dict[str, Any]]]) -> None:
        self._districts: list[District] = []
        geoms = []
        for d, geojson in districts:
            self._districts.append(d)
            geoms.append(polygon(geojson))
        self._geoms = geoms
        self._tree = STRtree(geoms) if geoms else None

    def at(self, lat: float, long: float) -> list[District]:
        """Every district containing the point (on a boundary counts), by layer."""
        if self._tree is None:
            return []
        pt = Point(long, lat)
        hits = self._tree.query(pt, predicate="intersects")
        return sorted((self._districts[i] for i in hits), key=lambda d: (d.layer, d.code))
