"""The one public view of a request, through every public surface: Open311 GETs (JSON and
XML, one request and the list), the open-data export (route and command, with spreadsheet
formulas made text), the resident's request page and the IVR's status by number; staff keep
the full data."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from crm_bridge.config import from_settings
from crm_bridge.public import public_status
from crm_bridge.tickets import service
from crm_bridge.tickets.draft import TicketDraft
from foundation.db import Database
from foundation.settings import Settings
from tests.conftest import login

P = "/open311/v2"
PERSONAL = ["(718) 555-0142", "555-0142", "ana@example.org", "Ana", "Diaz", "7185550142",
            "350 W", "Apt 4B", "my landlord Bob", "1234 Main", "Unit 12", "40.752345",
            "-73.993456", "GIS-77"]


def _tickets(db: Database, settings: Settings) -> dict[str, str]:
    with db.session() as s:
        hole = service.open_ticket(s, TicketDraft(
            "pothole", attributes={"size": "small"}, address="350 W 34th St Apt 4B",
            address_id="GIS-77", lat=40.752345, long=-73.993456, first_name="Ana",
            last_name="Diaz", email="ana@example.org", phone="7185550142", channel="web",
            media_url="https://img.example/hole.jpg",
            description="Deep hole by the bus stop; call me at (718) 555-0142 or write to "
                        "ana@example.org. Seen on 2026-03-01."))
        heat = service.open_ticket(s, TicketDraft(
            "heat-hot-water", attributes={"problem": ["heat"], "apartment": "4B"},
            address="1234 Main St, Unit 12",
            lat=40.700001, long=-73.900009, description="my landlord Bob never fixes it",
            media_url="https://img.example/flat.jpg", phone="7185550142"))
        formula = service.open_ticket(s, TicketDraft(
            "pothole", attributes={"size": "large"}, address="=HYPERLINK(\"http://x\",\"y\")",
            description="-2+3 or @SUM(A1) deep"))
        service.close(s, hole, "dot1", "resolved",
                      "Filled; the crew called the resident at 718 555 0142",
                      config=from_settings(settings))
        return {"hole": str(hole.number), "heat": str(heat.number),
                "formula": str(formula.number)}


def test_open311_gets_serve_the_public_view(app: Any, catalog: Database, settings: Settings,
                                            users: dict[str, str]) -> None:
    n = _tickets(catalog, settings)
    c = app.test_client()
    hole = c.get(f"{P}/requests/{n['hole']}.json").get_json()[0]
    assert hole["address"] == "300 block of W 34th St" and hole["address_id"] is None
    assert (hole["lat"], hole["long"]) == (40.752, -73.993)
    assert hole["description"] == ("Deep hole by the bus stop; call me at [phone removed] or "
                                   "write to [e-mail removed]. Seen on 2026-03-01.")
    assert hole["media_url"] == "https://img.example/hole.jpg"
    assert hole["status_notes"] == "Filled; the crew called the resident at [phone removed]"
    heat = c.get(f"{P}/requests/{n['heat']}.json").get_json()[0]
    assert heat["address"] == "1200 block of Main St" and heat["description"] is None
    assert heat["media_url"] is None and (heat["lat"], heat["long"]) == (40.7, -73.9)
    for fmt in ("json", "xml"):
        for path in (f"{P}/requests.{fmt}", f"{P}/requests.{fmt}?extensions=true",
                     *(f"{P}/requests/{x}.{fmt}" for x in n.values())):
            body = c.get(path).get_data(as_text=True)
            for secret in PERSONAL:
                assert secret not in body, (path, secret)
    listed = {r["service_request_id"]: r for r in c.get(f"{P}/requests.json").get_json()}
    assert listed[n["hole"]] == hole  # the list and the one request: the same view

    staff = app.test_client()  # staff keep the full data
    login(staff, users["supervisor"])
    full = staff.get(f"/api/v1/crm/tickets/{n['hole']}").get_json()
    assert full["address"] == "350 W 34th St Apt 4B" and full["lat"] == 40.752345
    assert "(718) 555-0142" in full["description"] and full["phone"] == "7185550142"

    from center.web import create_app  # a city that publishes 2 decimals (about 1 km)

    coarse = settings.model_copy(update={"public_coordinate_decimals": 2})
    other = create_app(coarse, catalog).test_client()
    again = other.get(f"{P}/requests/{n['hole']}.json").get_json()[0]
    assert (again["lat"], again["long"]) == (40.75, -73.99)
    rows = list(csv.DictReader(io.StringIO(other.get("/open-data/requests.csv")
                                           .get_data(as_text=True))))
    assert {r["lat"] for r in rows} == {"40.75", "40.7", ""}


def test_open_data_follows_the_same_rules_and_escapes_formulas(
        app: Any, catalog: Database, settings: Settings, tmp_path: Path) -> None:
    n = _tickets(catalog, settings)
    c = app.test_client()
    text = c.get("/open-data/requests.csv").get_data(as_text=True)
    for secret in PERSONAL:
        assert secret not in text, secret
    rows = {r["service_request_id"]: r for r in csv.DictReader(io.StringIO(text))}
    one = c.get(f"{P}/requests/{n['hole']}.json").get_json()[0]
    hole = rows[n["hole"]]
    for k in ("address", "description", "status_notes"):
        assert hole[k] == one[k], k
    assert (hole["lat"], hole["long"]) == ("40.752", "-73.993")  # numbers: never escaped
    assert rows[n["heat"]]["description"] == "" and rows[n["heat"]]["address"] == \
        "1200 block of Main St"
    bad = rows[n["formula"]]
    assert bad["address"] == "'=HYPERLINK(\"http://x\",\"y\")"
    assert bad["description"] == "'-2+3 or @SUM(A1) deep"
    for r in rows.values():  # no cell a spreadsheet would run
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for k, v in r.items()
                       if k not in ("lat", "long")), r
    js = {r["service_request_id"]: r for r in c.get("/open-data/requests.json").get_json()}
    assert js[n["formula"]]["address"] == "=HYPERLINK(\"http://x\",\"y\")"  # JSON: as is
    assert js[n["hole"]]["description"] == one["description"]
    assert not any(secret in json.dumps(js) for secret in PERSONAL)

    from center.cli import cli

    out = tmp_path / "sr.csv"
    res = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "--database-url",
                                   catalog.url, "opendata", "export", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_bytes().decode("utf-8") == text


def test_the_resident_page_and_the_ivr_mask_the_resolution(app: Any, catalog: Database,
                                                           settings: Settings) -> None:
    n = _tickets(catalog, settings)
    sig = from_settings(settings).reopen_signature(n["hole"])
    page = app.test_client().get(f"/crm/reopen/{n['hole']}?t={sig}").get_data(as_text=True)
    assert "Resolution: Filled; the crew called the resident at [phone removed]" in page
    assert "555 0142" not in page
    with catalog.session() as s:
        status = public_status(s, n["hole"])
    assert status is not None and status.resolution == \
        "Filled; the crew called the resident at [phone removed]"
