"""The hot-spot report: the grid on hand-built points (distances measured, not assumed), and
over seeded history every cell's count equals a count straight from the tickets, for the
center, for one type and for one agency's worker; bad input is a clear 400."""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from center.history import HistoryOptions, seed_history
from center.seed import seed_demo
from crm_bridge.models import ServiceType, Ticket
from crm_bridge.tickets.hotspots import CELL_M, cell_of, grid
from foundation.db import utcnow
from places.public import distance_m
from tests.conftest import login

PAST = HistoryOptions(months=1.0, volume=20, tickets_per_day=12, seed=9, plan=False)


def test_a_cell_is_about_cell_m_wide_and_counts_its_points() -> None:
    base = (40.7501, -73.9901)
    lat0, long0 = base
    step = CELL_M / 111_320
    row, col = cell_of(lat0, long0)
    # the cell's corners are CELL_M apart north-south and east-west (at its latitude)
    south = row * step
    dlong = step / math.cos(math.radians((row + 0.5) * step))
    west = col * dlong
    assert abs(distance_m(south, west, south + step, west) - CELL_M) < 1
    assert abs(distance_m(south + step / 2, west, south + step / 2, west + dlong) - CELL_M) < 2
    inside = [(south + step * f, west + dlong * g, kind) for f, g, kind in (
        (0.1, 0.1, "Pothole"), (0.5, 0.5, "Pothole"), (0.9, 0.9, "Noise"))]
    east = [(south + step * 0.5, west + dlong * 1.5, "Noise")]  # one cell east
    spots = grid(inside + east + [(south + step * 0.2, west + dlong * 0.3, "Graffiti")])
    assert [(sp.cell, sp.count) for sp in spots] == [((row, col), 4), ((row, col + 1), 1)]
    assert spots[0].types == (("Pothole", 2), ("Graffiti", 1), ("Noise", 1))
    assert abs(spots[0].lat - (south + step * 0.425)) < 1e-6  # the mean of its points
    assert grid([]) == []


def independent(db, t0, t1, agency=None, code=None):  # type: ignore[no-untyped-def]
    with db.session() as s:
        tickets = [t for t in s.scalars(sa.select(Ticket)) if t.number and t.lat is not None
                   and t.long is not None and t0 <= t.requested_at < t1
                   and (agency is None or t.agency.code == agency)
                   and (code is None or t.service_type.code == code)]
        return Counter(cell_of(t.lat, t.long) for t in tickets)


def cells(doc) -> Counter:  # type: ignore[no-untyped-def,type-arg]
    return Counter({cell_of(sp["lat"], sp["long"]): sp["count"] for sp in doc["spots"]})


def test_hot_spots_equal_the_tickets(settings, database, app, users) -> None:  # type: ignore[no-untyped-def]
    list(seed_demo(settings, database))
    list(seed_history(settings, database, PAST))
    tz = ZoneInfo(settings.timezone)
    today = utcnow().astimezone(tz).date()
    start = today - timedelta(days=25)
    t0, t1 = (datetime.combine(d, time(), tz) for d in (start, today + timedelta(days=1)))
    url = f"/crm/reports/hotspots?from={start}&to={today}"

    manager = app.test_client()
    login(manager, users["manager"])
    doc = manager.get(url + "&format=json").get_json()
    want = independent(database, t0, t1)
    assert sum(want.values()) > 100  # a real past
    assert cells(doc) == want and doc["requests"] == sum(want.values())
    counts = [sp["count"] for sp in doc["spots"]]
    assert counts == sorted(counts, reverse=True)
    assert all(sum(t["count"] for t in sp["types"]) <= sp["count"] for sp in doc["spots"])

    with database.session() as s:  # the most requested type
        code = s.scalars(sa.select(ServiceType.code).join(Ticket)
                         .group_by(ServiceType.code)
                         .order_by(sa.func.count().desc(), ServiceType.code)).first()
    one = manager.get(f"{url}&type={code}&format=json").get_json()
    assert cells(one) == independent(database, t0, t1, code=code) and one["type"] == code
    assert 0 < one["requests"] < doc["requests"]

    page = manager.get(url).get_data(as_text=True)
    assert 'id="spots"' in page and 'data-count="' in page and "Hot spots" in page

    worker = app.test_client()  # the DSNY worker sees DSNY's requests only
    login(worker, users["agency"])
    mine = worker.get(url + "&format=json").get_json()
    assert mine["agency"] == "DSNY"
    assert cells(mine) == independent(database, t0, t1, "DSNY")
    assert 0 < mine["requests"] < doc["requests"]

    agent = app.test_client()
    login(agent, users["agent"])
    assert agent.get(url).status_code == 403
    for bad in ("from=2026-02-30", f"from={today}&to={start}", "from=0001-01-01",
                "type=no-such-type", "type=%00%ff"):
        assert manager.get(f"/crm/reports/hotspots?{bad}").status_code == 400, bad
