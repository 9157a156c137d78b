"""``civic311 seed demo``: the demo city's address points and districts (idempotent)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from foundation.settings import Settings
from places import demo, queries


def seed_places(session: Session, settings: Settings | None = None) -> list[str]:
    added, updated = queries.import_addresses(session, demo.address_points())
    lines = [f"places: {added} address points added, {updated} updated"]
    for layer, shapes in demo.districts().items():
        lines.append(f"places: {queries.import_districts(session, layer, shapes)} {layer}")
    return lines
