"""Places on SQLite and PostgreSQL: `civic311 gis import` (a bad file changes nothing),
address search with misspellings, reverse geocoding, and tickets tagged with their districts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from center.cli import cli
from crm_bridge.models import Ticket
from crm_bridge.seed import seed_catalog
from crm_bridge.tickets.draft import TicketDraft
from crm_bridge.tickets.service import open_ticket
from foundation.db import Database
from places import demo, queries
from places.models import AddressPoint, District
from places.seed import seed_places

SQLITE = pytest.mark.parametrize("database", ["sqlite"], indirect=True)  # the rest: both


def _seed(db: Database) -> None:
    with db.session() as s:
        seed_catalog(s, None)
        seed_places(s)


def test_search_finds_misspelt_and_partial_addresses(database: Database) -> None:
    _seed(database)
    with database.session() as s:
        assert [m.text for m in queries.search(s, "304 jeferson street", limit=1)] == \
            ["304 Jefferson St"]
        assert queries.search(s, "30 madsion")[0].text == "300 Madison St"  # typing "30..."
        assert {m.text for m in queries.search(s, "main st", limit=3)} == \
            {"100 Main St", "101 Main St", "104 Main St"}
        assert queries.geocode(s, "121 main street").text == "121 Main St"
        assert queries.geocode(s, "9999 Main St") is None  # no such house: not a guess
        assert queries.search(s, "zzyzx road") == []


@SQLITE
def test_reverse_geocode_and_districts_of_a_point(database: Database) -> None:
    _seed(database)
    target = next(p for p in demo.address_points() if p.text == "405 Jackson St")
    with database.session() as s:
        near = queries.nearest(s, target.lat + 0.00003, target.long)
        assert near is not None and near.text == "405 Jackson St" and near.distance_m < 5
        assert queries.nearest(s, 0.0, 0.0) is None
        layers = {d.layer: d.code for d in queries.districts_at(s, target.lat, target.long)}
        assert layers == {"council_district": "1", "sanitation_zone": "north"}


def test_a_ticket_is_tagged_with_its_districts_and_located_by_address(
        database: Database) -> None:
    _seed(database)
    with database.session() as s:
        t = open_ticket(s, TicketDraft("pothole", attributes={"size": "small"},
                                       address="104 washingtn st", channel="web",
                                       language="es"))
        assert t.address == "104 Washington St" and t.lat is not None
        assert {(d.layer, d.code) for d in t.districts} == {("council_district", "3"),
                                                             ("sanitation_zone", "south")}
        number = t.number
        far = open_ticket(s, TicketDraft("pothole", attributes={"size": "small"},
                                         address="1 Nowhere Lane"))
        assert far.lat is None and far.districts == []
    with database.session() as s:
        t = s.scalar(select(Ticket).where(Ticket.number == number))
        assert t.language == "es" and len(t.districts) == 2


@SQLITE
def test_gis_import_cli_and_a_bad_file_changes_nothing(database: Database,
                                                       tmp_path: Path) -> None:
    def run(*args: str) -> object:
        return CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "d"), "--database-url",
                                        database.url, "gis", "import", *args])

    points = tmp_path / "points.csv"
    points.write_text("address_id,address,zip,lat,lon\n"
                      "P1,10 Elm Street,62701,39.7,-89.7\nP2,12 Elm St,62701,39.7001,-89.7\n")
    res = run("addresses", str(points))
    assert res.exit_code == 0, res.output
    assert "2 added, 0 updated" in res.output
    points.write_text("address_id,address,zip,lat,lon\nP1,10 Elm Street,62701,39.71,-89.7\n")
    assert "0 added, 1 updated" in run("addresses", str(points)).output
    bad = tmp_path / "bad.csv"
    bad.write_text("address,lat,lon\n14 Elm St,39.7,-89.7\nElm St,39.7,-89.7\n")
    res = run("addresses", str(bad))
    assert res.exit_code != 0 and "row 3" in res.output and "nothing imported" in res.output

    wards = tmp_path / "wards.geojson"
    ring = [[-89.8, 39.6], [-89.6, 39.6], [-89.6, 39.8], [-89.8, 39.8], [-89.8, 39.6]]
    wards.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"WARD_NO": "3", "NAME": "Ward 3"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}))
    res = run("districts", str(wards), "--layer", "ward", "--code-field", "WARD_NO")
    assert res.exit_code == 0, res.output
    assert run("districts", str(wards), "--layer", "Bad Layer!").exit_code != 0
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(AddressPoint)) == 2
        assert [(d.layer, d.code, d.name) for d in s.scalars(select(District))] == \
            [("ward", "3", "Ward 3")]
        assert [d.code for d in queries.districts_at(s, 39.71, -89.7)] == ["3"]


def test_a_routing_rule_sends_the_ticket_to_its_zones_crew(database: Database) -> None:
    from crm_bridge.tickets.catalog import export_catalog, import_catalog
    from crm_bridge.tickets.errors import InvalidInput

    _seed(database)
    rule = {"layer": "sanitation_zone", "agencies": {"north": "DSNYN"}}
    with database.session() as s:
        import_catalog(s, {"agencies": [{"code": "DSNYN", "name": "Sanitation North Garage"}]})
        data = export_catalog(s)
        bulky = next(t for t in data["service_types"] if t["code"] == "missed-collection")
        import_catalog(s, {"service_types": [{**bulky, "route_by_district": rule}]})
        try:
            import_catalog(s, {"service_types": [{**bulky, "route_by_district": {
                "layer": "sanitation_zone", "agencies": {"north": "NOPE"}}}]})
            raise AssertionError("an unknown agency was accepted")
        except InvalidInput as exc:
            assert "NOPE" in str(exc)
    answers = {"materials": ["trash"], "out_on_time": "yes"}
    with database.session() as s:
        north = open_ticket(s, TicketDraft("missed-collection", attributes=answers,
                                           address="500 Edwards St"))
        south = open_ticket(s, TicketDraft("missed-collection", attributes=answers,
                                           address="500 Washington St"))
        nowhere = open_ticket(s, TicketDraft("missed-collection", attributes=answers,
                                             address="1 Unknown Rd"))
        assert (north.agency.code, south.agency.code, nowhere.agency.code) == \
            ("DSNYN", "DSNY", "DSNY")
        assert s.scalar(select(func.count()).select_from(Ticket)) == 3
        assert next(t for t in export_catalog(s)["service_types"]
                    if t["code"] == "missed-collection")["route_by_district"] == rule
        # an edit that does not carry the rule (the admin form) keeps it
        import_catalog(s, {"service_types": [{**bulky, "name": "Missed Collection"}]})
        assert s.scalar(select(Ticket).where(Ticket.id == north.id)) is not None
        kept = next(t for t in export_catalog(s)["service_types"]
                    if t["code"] == "missed-collection")
        assert kept["name"] == "Missed Collection" and kept["route_by_district"] == rule


def test_open311_and_the_ticket_page_name_the_districts(app, database: Database,  # type: ignore[no-untyped-def]
                                                        users: dict[str, str]) -> None:
    from xml.etree import ElementTree

    from tests.conftest import login

    _seed(database)
    with database.session() as s:
        number = open_ticket(s, TicketDraft("pothole", attributes={"size": "small"},
                                            address="104 Washington St", channel="web")).number
        open_ticket(s, TicketDraft("pothole", attributes={"size": "small"},
                                   address="1 Nowhere Lane"))  # placed nowhere
    c = app.test_client()
    one = c.get(f"/open311/v2/requests/{number}.json?extensions=true").get_json()[0]
    assert one["extended_attributes"]["districts"] == {"council_district": "3",
                                                       "sanitation_zone": "south"}
    listed = c.get("/open311/v2/requests.json?extensions=true").get_json()
    assert sorted(r["extended_attributes"]["districts"].get("council_district", "-")
                  for r in listed) == ["-", "3"]
    assert "extended_attributes" not in c.get(f"/open311/v2/requests/{number}.json").get_json()[0]
    xml = ElementTree.fromstring(c.get(f"/open311/v2/requests/{number}.xml?extensions=true").data)
    assert xml.findtext(".//extended_attributes/districts/sanitation_zone") == "south"
    login(c, users["supervisor"])
    page = c.get(f"/crm/tickets/{number}").get_data(as_text=True)
    assert "Council District 3" in page and "Sanitation Zone South" in page
