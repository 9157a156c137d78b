"""What other capabilities may call: find an address, the nearest address to a point, and
the districts of a place (``crm_bridge`` tags every ticket with them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from places import queries
from places.districts import District
from places.queries import Match, addresses, distance_m, geocode, nearest, search

__all__ = ["STATIC", "District", "Match", "Place", "addresses", "distance_m", "geocode", "locate",
           "map_ready", "nearest", "search"]

# places.js and Leaflet (``make browser-deps`` copies it here from npm), served at
# /places/static/ by ``places.web``
STATIC = Path(__file__).resolve().parent / "static"


def map_ready(tile_url: str) -> bool:
    """Whether pages should draw a map: Leaflet is installed and a tile source is set."""
    return (STATIC / "vendor" / "leaflet" / "leaflet.js").is_file() and bool(tile_url)


@dataclass(frozen=True)
class Place:
    address: str | None
    address_id: str | None
    lat: float | None
    long: float | None
    districts: list[District]


def locate(session: Session, address: str | None, lat: float | None,
           long: float | None) -> Place:
    """Complete what is known of a place: a pin gets its districts (and the nearest address
    when none was typed); a typed address that matches one point gets its coordinates."""
    address = (address or "").strip() or None
    address_id = None
    if lat is None or long is None:
        found = geocode(session, address) if address else None
        if found is None:
            return Place(address, None, None, None, [])
        lat, long, address_id = found.lat, found.long, found.address_id
        address = found.text
    elif address is None:
        near = nearest(session, lat, long)
        if near is not None:
            address, address_id = near.text, near.address_id
    return Place(address, address_id, lat, long, queries.districts_at(session, lat, long))
