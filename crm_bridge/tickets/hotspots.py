"""Hot spots: where requests of a period came from, counted on a grid of cells about
``CELL_M`` metres wide, so a manager sees the blocks that call most (queries, no web).

A grid rather than clusters: a cell's count does not change with the zoom or with the
other points, so two periods (or two types) compare cell for cell. A cell's spot is the
mean of its requests' points, nearer the problem than the cell's centre.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_bridge.models import Agency, ServiceType, Ticket

CELL_M = 250
METRES_PER_DEGREE = 111_320  # of latitude; of longitude times cos(latitude)
TOP_TYPES = 3


@dataclass(frozen=True)
class Spot:
    """One cell with requests: its spot, how many, and the types most asked there."""

    cell: tuple[int, int]
    lat: float
    long: float
    count: int
    types: tuple[tuple[str, int], ...]


def cell_of(lat: float, long: float, cell_m: float = CELL_M) -> tuple[int, int]:
    """The grid cell of a point: rows of ``cell_m`` of latitude; each row cut in columns of
    ``cell_m`` at the row's middle latitude (so cells stay square away from the equator)."""
    dlat = cell_m / METRES_PER_DEGREE
    row = math.floor(lat / dlat)
    dlong = dlat / max(0.01, math.cos(math.radians((row + 0.5) * dlat)))
    return row, math.floor(long / dlong)


def grid(points: Iterable[tuple[float, float, str]], cell_m: float = CELL_M) -> list[Spot]:
    """``(lat, long, type)`` points counted per cell, the busiest cell first (ties by cell)."""
    cells: dict[tuple[int, int], list[tuple[float, float, str]]] = {}
    for lat, long, kind in points:
        cells.setdefault(cell_of(lat, long, cell_m), []).append((lat, long, kind))
    spots = [Spot(cell, round(sum(p[0] for p in pts) / len(pts), 6),
                  round(sum(p[1] for p in pts) / len(pts), 6), len(pts),
                  tuple(sorted(Counter(p[2] for p in pts).items(),
                               key=lambda kv: (-kv[1], kv[0]))[:TOP_TYPES]))
             for cell, pts in cells.items()]
    return sorted(spots, key=lambda sp: (-sp.count, sp.cell))


def hotspots(s: Session, start: datetime, end: datetime, agency: str | None,
             service_code: str | None = None, cell_m: float = CELL_M) -> list[Spot]:
    """The cells of the requests received in [start, end) that have a place, in an agency's
    scope (None: every agency) and of one type if ``service_code`` is given."""
    stmt = (select(Ticket.lat, Ticket.long, ServiceType.name)
            .join(ServiceType, ServiceType.id == Ticket.service_type_id)
            .where(Ticket.requested_at >= start, Ticket.requested_at < end,
                   Ticket.number.is_not(None), Ticket.lat.is_not(None),
                   Ticket.long.is_not(None)))
    if agency is not None:
        stmt = stmt.join(Agency, Agency.id == Ticket.agency_id).where(Agency.code == agency)
    if service_code:
        stmt = stmt.where(ServiceType.code == service_code)
    return grid(((lat, long, name) for lat, long, name in s.execute(stmt)
                 if lat is not None and long is not None), cell_m)
