"""The agent desktop with places: the address field suggests as you type and the map is on
the page (Leaflet from static files); duplicates are matched by place, so two spellings of
one address find each other, and a ticket across town does not."""

from __future__ import annotations

from typing import Any

import pytest

from crm_bridge.seed import seed_catalog
from crm_bridge.tickets.draft import TicketDraft
from crm_bridge.tickets.service import open_ticket
from foundation.db import Database
from places.seed import seed_places
from tests.conftest import login


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_desktop_search_map_and_duplicates_by_place(app: Any, database: Database,
                                                    users: dict[str, str]) -> None:
    with database.session() as s:
        seed_catalog(s, None)
        seed_places(s)
        near = open_ticket(s, TicketDraft("pothole", attributes={"size": "small"},
                                          address="212 Jefferson Street")).number
        open_ticket(s, TicketDraft("pothole", attributes={"size": "small"},
                                   address="612 Edwards St"))
    c = app.test_client()
    login(c, users["agent"])
    page = c.get("/agent/desktop?service_code=pothole").get_data(as_text=True)
    assert 'data-address data-pin="spot"' in page and '<datalist id="address-options">' in page
    assert 'id="spot" class="map"' in page and "vendor/leaflet/leaflet.js" in page
    assert c.get("/places/static/vendor/leaflet/leaflet.js").status_code == 200
    assert c.get("/places/static/places.js").status_code == 200
    found = c.get("/api/v1/crm/desktop/nearby?service_code=pothole"
                  "&address=212 jeferson st").get_json()  # another spelling, no coordinates
    assert [n["number"] for n in found] == [near]
    close = c.get("/api/v1/crm/desktop/nearby?service_code=pothole"
                  "&address=216 Jefferson St").get_json()  # next door: same place
    assert [n["number"] for n in close] == [near]
