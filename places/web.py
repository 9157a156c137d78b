"""Address search as you type and reverse geocoding, as JSON: the agent desktop and the
resident portal call them (address points are public data: no log-in).

``GET /api/v1/places/search?q=123 mai`` -> ``[{"address_id", "address", "lat", "long",
"score"}]``; ``GET /api/v1/places/reverse?lat=&long=`` -> the nearest address and the
districts of the point."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, jsonify, request, send_from_directory

from foundation.auth import public
from foundation.db import Database
from foundation.settings import Settings
from foundation.web import Mount
from places import queries
from places.public import STATIC

MAX_QUERY = 120


def _coordinate(name: str, bound: float) -> float:
    try:
        value = float(request.args.get(name, ""))
    except ValueError:
        raise ValueError(f"{name} must be a number") from None
    if not math.isfinite(value) or abs(value) > bound:
        raise ValueError(f"{name} is out of range")
    return value


def create_blueprints(settings: Settings, db: Database) -> list[Mount]:
    bp = Blueprint("places", __name__)

    @bp.route("/api/v1/places/search")
    @public
    def search() -> Any:
        q = (request.args.get("q") or "").strip()[:MAX_QUERY]
        try:
            limit = max(1, min(20, int(request.args.get("limit") or 8)))
        except ValueError:
            return jsonify(error="limit", description="limit must be a number"), 400
        with db.session() as s:
            found = queries.search(s, q, limit=limit) if len(q) >= 2 else []
        return jsonify([{"address_id": m.address_id, "address": m.text, "lat": m.lat,
                         "long": m.long, "score": m.score} for m in found])

    @bp.route("/api/v1/places/reverse")
    @public
    def reverse() -> Any:
        try:
            lat, long = _coordinate("lat", 90), _coordinate("long", 180)
        except ValueError as exc:
            return jsonify(error="location", description=str(exc)), 400
        with db.session() as s:
            near = queries.nearest(s, lat, long)
            districts = queries.districts_at(s, lat, long)
        return jsonify(address=near.text if near else None,
                       address_id=near.address_id if near else None,
                       distance_m=near.distance_m if near else None,
                       districts=[{"layer": d.layer, "code": d.code, "name": d.name}
                                  for d in districts])

    @bp.route("/places/static/<path:filename>")
    @public
    def static_file(filename: str) -> Any:
        """places.js and Leaflet (from the npm package, never a CDN)."""
        return send_from_directory(STATIC, filename, max_age=3600)

    return [Mount(bp)]
