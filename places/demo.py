"""The demo city's places, generated (no download): a grid of streets with house numbers
on both sides of every block, four council districts and two sanitation zones.

Numbers run 100 per block, even on one side and odd on the other, west to east on the
streets and south to north on the numbered avenues, as in most US grid cities."""

from __future__ import annotations

from places.address import parse
from places.importer import AddressPoint, DistrictShape

CENTER = (39.7990, -89.6440)  # the demo city's centre (lat, long); the maps open here
STREETS = ["Washington St", "Jefferson St", "Madison St", "Monroe St", "Adams St",
           "Jackson St", "Cook St", "Edwards St"]  # east-west, south to north
AVENUES = ["1st Ave", "2nd Ave", "3rd Ave", "4th Ave", "Main St", "6th Ave", "7th Ave",
           "8th Ave", "9th Ave"]  # north-south, west to east
BLOCK_LAT = 0.0012  # about 130 m
BLOCK_LONG = 0.0016  # about 135 m at this latitude
HOUSES = 6  # per side of a block
ZIPS = ("62701", "62702")  # south, north of the middle street


def _grid_origin() -> tuple[float, float]:
    lat0 = CENTER[0] - BLOCK_LAT * (len(STREETS) - 1) / 2
    long0 = CENTER[1] - BLOCK_LONG * (len(AVENUES) - 1) / 2
    return lat0, long0


def _point(text: str, lat: float, long: float, zipcode: str) -> AddressPoint:
    p = parse(text)
    return AddressPoint(address_id=f"DEMO-{p.line.replace(' ', '-')}", text=text,
                        normalized=p.line, number=p.number, street=p.street, zipcode=zipcode,
                        lat=round(lat, 6), long=round(long, 6))


def address_points() -> list[AddressPoint]:
    lat0, long0 = _grid_origin()
    side = 0.00012  # houses sit about 13 m off the street's centre line
    out = []
    for i, street in enumerate(STREETS):
        lat = lat0 + i * BLOCK_LAT
        zipcode = ZIPS[i >= len(STREETS) // 2]
        for block in range(len(AVENUES) - 1):
            for h in range(HOUSES):
                long = long0 + (block + (h + 0.5) / HOUSES) * BLOCK_LONG
                base = 100 * (block + 1) + 4 * h
                out.append(_point(f"{base} {street}", lat + side, long, zipcode))
                out.append(_point(f"{base + 1} {street}", lat - side, long, zipcode))
    for j, avenue in enumerate(AVENUES):
        long = long0 + j * BLOCK_LONG
        for block in range(len(STREETS) - 1):
            zipcode = ZIPS[block >= len(STREETS) // 2 - 1]
            for h in range(HOUSES):
                lat = lat0 + (block + (h + 0.5) / HOUSES) * BLOCK_LAT
                base = 100 * (block + 1) + 4 * h
                out.append(_point(f"{base} {avenue}", lat, long + side * 1.3, zipcode))
                out.append(_point(f"{base + 1} {avenue}", lat, long - side * 1.3, zipcode))
    return out


def _box(code: str, name: str, w: float, s: float, e: float, n: float) -> DistrictShape:
    ring = [[w, s], [e, s], [e, n], [w, n], [w, s]]
    return DistrictShape(code=code, name=name,
                         geometry={"type": "Polygon", "coordinates": [ring]}, bounds=(w, s, e, n))


def districts() -> dict[str, list[DistrictShape]]:
    """layer -> its districts, covering the grid with a margin."""
    lat0, long0 = _grid_origin()
    w, s = long0 - BLOCK_LONG, lat0 - BLOCK_LAT
    e = long0 + BLOCK_LONG * len(AVENUES)
    n = lat0 + BLOCK_LAT * len(STREETS)
    mid_lat, mid_long = CENTER
    return {
        "council_district": [
            _box("1", "Council District 1", w, mid_lat, mid_long, n),
            _box("2", "Council District 2", mid_long, mid_lat, e, n),
            _box("3", "Council District 3", w, s, mid_long, mid_lat),
            _box("4", "Council District 4", mid_long, s, e, mid_lat),
        ],
        "sanitation_zone": [
            _box("north", "Sanitation Zone North", w, mid_lat, e, n),
            _box("south", "Sanitation Zone South", w, s, e, mid_lat),
        ],
    }
