"""Reads and writes of places over a Session: import, address search, reverse geocoding,
districts at a point."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from places import importer
from places.address import AddressError, parse
from places.districts import District as DistrictRef
from places.districts import DistrictIndex
from places.matching import rank, street_candidates
from places.models import AddressPoint, District

LAYER_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")
REVERSE_STEPS_M = (60.0, 250.0, 1000.0)  # search rings for the nearest address


@dataclass(frozen=True)
class Match:
    address_id: str
    text: str
    lat: float
    long: float
    score: float  # 0-100
    distance_m: float | None = None


def import_addresses(session: Session, points: Sequence[importer.AddressPoint]) -> tuple[int, int]:
    """Insert new points and update known ones (by ``address_id``); returns (added, updated)."""
    known = {a.address_id: a for a in session.scalars(
        select(AddressPoint).where(AddressPoint.address_id.in_([p.address_id for p in points])))
    } if len(points) < 5000 else {a.address_id: a for a in session.scalars(select(AddressPoint))}
    added = updated = 0
    for p in points:
        row = known.get(p.address_id)
        values = {"text": p.text, "normalized": p.normalized, "number": p.number,
                  "street": p.street, "zipcode": p.zipcode, "lat": p.lat, "long": p.long}
        if row is None:
            session.add(AddressPoint(address_id=p.address_id, **values))
            added += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            updated += 1
    session.flush()
    return added, updated


def check_layer(layer: str) -> str:
    layer = layer.strip().lower()
    if not layer or len(layer) > 32 or not set(layer) <= LAYER_CHARS:
        raise ValueError("a layer name is 1-32 lower-case letters, digits or _ "
                         "(council_district, ward, sanitation_zone)")
    return layer


def import_districts(session: Session, layer: str,
                     shapes: Sequence[importer.DistrictShape]) -> int:
    """Replace the whole layer with these districts (a city republishes a layer whole)."""
    layer = check_layer(layer)
    session.execute(delete(District).where(District.layer == layer))
    for d in shapes:
        minx, miny, maxx, maxy = d.bounds
        session.add(District(layer=layer, code=d.code, name=d.name, geometry=d.geometry,
                             min_long=minx, min_lat=miny, max_long=maxx, max_lat=maxy))
    session.flush()
    return len(shapes)


def _streets(session: Session) -> list[str]:
    return list(session.scalars(select(AddressPoint.street).distinct()))


def search(session: Session, text: str, limit: int = 8) -> list[Match]:
    """Addresses matching what was typed so far, best first (misspelt or partial street)."""
    try:
        typed = parse(text)
    except AddressError:
        return []
    streets = dict(street_candidates(typed.street, _streets(session)))
    if not streets:
        return []
    q = select(AddressPoint).where(AddressPoint.street.in_(list(streets)))
    if typed.number:
        q = q.where(AddressPoint.number.like(f"{typed.number}%"))
    rows = {a.id: a for a in session.scalars(q.limit(5000))}
    ranked = rank(typed.number, streets, ((a.id, a.number, a.street) for a in rows.values()))
    if not typed.number:  # street only: keep the street's order by house number
        ranked.sort(key=lambda r: (-r[1], _num(rows[r[0]].number)))
    return [Match(rows[i].address_id, rows[i].text, rows[i].lat, rows[i].long, round(s, 1))
            for i, s in ranked[:limit]]


def _num(number: str) -> int:
    digits = "".join(ch for ch in number if ch.isdigit())
    return int(digits) if digits else 0


def geocode(session: Session, text: str, min_score: float = 75.0) -> Match | None:
    """The one address this text means (house number exact, street close), or None: also
    None when two streets fit as well ("214 Rezanof Dr" with East and West Rezanof Dr), as a
    wrong place is worse than none. The score floor is the street cutoff: measured on real
    addresses (docs/places.md), 85 refused half the two-slip spellings and gained no
    precision."""
    try:
        typed = parse(text)
    except AddressError:
        return None
    if not typed.number:
        return None
    found = search(session, text, limit=2)
    best = found[0] if found else None
    if best is None or best.score < min_score:
        return None
    if len(found) > 1 and found[1].score >= best.score:
        return None
    row = session.scalar(select(AddressPoint).where(AddressPoint.address_id == best.address_id))
    return best if row is not None and row.number == typed.number else None


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(min(1.0, a)))


def nearest(session: Session, lat: float, long: float) -> Match | None:
    """The address point nearest to a point (within a kilometre), or None."""
    for ring in REVERSE_STEPS_M:
        dlat = ring / 111_000
        dlon = dlat / max(0.01, math.cos(math.radians(lat)))
        rows = session.scalars(select(AddressPoint).where(
            AddressPoint.lat.between(lat - dlat, lat + dlat),
            AddressPoint.long.between(long - dlon, long + dlon)).limit(5000)).all()
        if rows:
            best = min(rows, key=lambda a: distance_m(lat, long, a.lat, a.long))
            d = distance_m(lat, long, best.lat, best.long)
            if d <= ring:
                return Match(best.address_id, best.text, best.lat, best.long, 100.0, round(d, 1))
    return None


def addresses(session: Session, limit: int = 5000) -> list[Match]:
    """Up to ``limit`` of the city's address points, in a stable order (made-up history
    places its requests at real addresses)."""
    rows = session.scalars(select(AddressPoint).order_by(AddressPoint.address_id).limit(limit))
    return [Match(a.address_id, a.text, a.lat, a.long, 100.0) for a in rows]


def districts_at(session: Session, lat: float, long: float) -> list[DistrictRef]:
    """Every district (of every layer) that contains the point."""
    rows = session.scalars(select(District).where(
        District.min_lat <= lat, District.max_lat >= lat,
        District.min_long <= long, District.max_long >= long)).all()
    index = DistrictIndex((DistrictRef(r.layer, r.code, r.name), r.geometry) for r in rows)
    return index.at(lat, long)


def layers(session: Session) -> dict[str, list[DistrictRef]]:
    out: dict[str, list[DistrictRef]] = {}
    for r in session.scalars(select(District).order_by(District.layer, District.code)):
        out.setdefault(r.layer, []).append(DistrictRef(r.layer, r.code, r.name))
    return out
