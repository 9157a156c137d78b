"""Addresses parsed and normalised, misspelt streets matched, points placed in districts,
and city files read (or refused whole)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapefile

from places.address import AddressError, normalize, parse
from places.districts import District, DistrictIndex, GeometryError
from places.importer import ImportFileError, read_addresses, read_districts
from places.matching import rank, street_candidates


@pytest.mark.parametrize(("typed", "line"), [
    ("123 north main street", "123 N MAIN ST"),
    ("123 N. Main St.", "123 N MAIN ST"),
    ("123 n main st apt 4, Springfield IL 62704", "123 N MAIN ST APT 4"),
    ("45 Fifth Avenue", "45 5TH AVE"),
    ("1600 Pennsylvania Ave NW", "1600 PENNSYLVANIA AVE NW"),
])
def test_two_spellings_of_one_address_normalise_alike(typed: str, line: str) -> None:
    assert normalize(typed) == line


@pytest.mark.parametrize(("typed", "line"), [
    ("2417 Sncond Street", "2417 2ND ST"), ("4316 fouth st", "4316 4TH ST"),  # "Fiest": too far
    ("9 Fiest St", "9 FIEST ST"), ("10 Sevenoaks Rd", "10 SEVENOAKS RD"),
    ("7 Ninety St", "7 NINETY ST"), ("3 Sixty St", "3 SIXTY ST")])
def test_a_misspelt_ordinal_word_is_read_as_its_number(typed: str, line: str) -> None:
    assert normalize(typed) == line  # "2ND ST" is stored; "SNCOND" could never match it


def test_parse_keeps_the_parts() -> None:
    p = parse("77 Oak Boulevard, Unit 3B, Civic City 62701")
    assert (p.number, p.street, p.unit, p.zipcode) == ("77", "OAK BLVD", "UNIT 3B", "62701")


@pytest.mark.parametrize("bad", ["", "   ", "x" * 300, "!!!"])
def test_no_address_is_refused(bad: str) -> None:
    with pytest.raises(AddressError):
        parse(bad)


STREETS = ["N MAIN ST", "MADISON ST", "MONROE ST", "JACKSON ST", "5TH AVE"]


@pytest.mark.parametrize(("typed", "street"), [
    ("N MIAN ST", "N MAIN ST"), ("MADDISON ST", "MADISON ST"), ("JACKS", "JACKSON ST"),
    ("5TH AVE", "5TH AVE"),
])
def test_misspelt_or_partial_streets_find_the_street(typed: str, street: str) -> None:
    assert street_candidates(typed, STREETS)[0][0] == street


def test_an_unrelated_word_matches_no_street() -> None:
    assert street_candidates("ZEBRA CROSSING", STREETS) == []


def test_the_house_number_must_match_or_begin_what_was_typed() -> None:
    rows = [(1, "120", "N MAIN ST"), (2, "12", "N MAIN ST"), (3, "130", "N MAIN ST"),
            (4, "12", "MONROE ST")]
    ranked = rank("12", {"N MAIN ST": 95.0}, rows)
    assert [r for r, _ in ranked] == [2, 1]  # exact 12 first, 120 after, 130 and Monroe out


SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
EAST = {"type": "Polygon", "coordinates": [[[1, 0], [2, 0], [2, 1], [1, 1], [1, 0]]]}
ZONE = {"type": "MultiPolygon", "coordinates": [[[[0, 0], [2, 0], [2, 1], [0, 1], [0, 0]]]]}


def test_a_point_is_in_each_layer_district_that_contains_it() -> None:
    index = DistrictIndex([(District("council", "1", "One"), SQUARE),
                           (District("council", "2", "Two"), EAST),
                           (District("zone", "all", "All"), ZONE)])
    assert [d.code for d in index.at(lat=0.5, long=0.5)] == ["1", "all"]
    assert [d.code for d in index.at(lat=0.5, long=1.5)] == ["2", "all"]
    assert index.at(lat=5, long=5) == []


def test_projected_coordinates_are_refused() -> None:
    feet = {"type": "Polygon", "coordinates": [[[1e6, 2e6], [1.1e6, 2e6], [1.1e6, 2.1e6],
                                                [1e6, 2e6]]]}
    with pytest.raises(GeometryError, match="WGS 84"):
        DistrictIndex([(District("council", "1", "One"), feet)])


def test_csv_address_points_are_read(tmp_path: Path) -> None:
    f = tmp_path / "addresses.csv"
    f.write_text("ADDRESS_ID,Address,ZIP,Latitude,Longitude\n"
                 "A1,120 N Main Street,62701,39.80,-89.64\n"
                 "A2,121 N Main St,62701,39.8001,-89.6401\n")
    points = read_addresses(f)
    assert [(p.address_id, p.normalized, p.zipcode) for p in points] == [
        ("A1", "120 N MAIN ST", "62701"), ("A2", "121 N MAIN ST", "62701")]


def test_a_file_with_one_bad_row_imports_nothing_and_names_the_row(tmp_path: Path) -> None:
    f = tmp_path / "addresses.csv"
    f.write_text("address,lat,lon\n120 Main St,39.8,-89.6\nMain St,39.8,-89.6\n"
                 "130 Main St,north,-89.6\n")
    with pytest.raises(ImportFileError) as err:
        read_addresses(f)
    assert "row 3" in str(err.value) and "row 4" in str(err.value)


def test_geojson_districts_are_read_and_duplicates_refused(tmp_path: Path) -> None:
    def fc(*features: dict) -> str:
        return json.dumps({"type": "FeatureCollection", "features": list(features)})

    good = tmp_path / "wards.geojson"
    good.write_text(fc({"type": "Feature", "properties": {"WARD": "7", "label": "Ward 7"},
                        "geometry": SQUARE}))
    [ward] = read_districts(good, code_field="ward", name_field="label")
    assert (ward.code, ward.name, ward.bounds) == ("7", "Ward 7", (0.0, 0.0, 1.0, 1.0))
    twice = tmp_path / "twice.geojson"
    twice.write_text(fc(*[{"type": "Feature", "properties": {"code": "7"}, "geometry": SQUARE}]
                        * 2))
    with pytest.raises(ImportFileError, match="appears twice"):
        read_districts(twice)


def test_shapefiles_of_points_and_polygons_are_read(tmp_path: Path) -> None:
    with shapefile.Writer(str(tmp_path / "pts"), shapeType=shapefile.POINT) as w:
        w.field("ADDRESS", "C", 80)
        w.field("ADDR_ID", "C", 20)
        w.point(-89.64, 39.80)
        w.record("500 Jackson Street", "J500")
    [p] = read_addresses(tmp_path / "pts.shp")
    assert (p.address_id, p.normalized, p.lat, p.long) == ("J500", "500 JACKSON ST", 39.8, -89.64)
    with shapefile.Writer(str(tmp_path / "zones"), shapeType=shapefile.POLYGON) as w:
        w.field("CODE", "C", 10)
        w.field("NAME", "C", 40)
        w.poly([[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]])
        w.record("north", "Zone North")
    [z] = read_districts(tmp_path / "zones.shp")
    index = DistrictIndex([(District("zone", z.code, z.name), z.geometry)])
    assert [d.name for d in index.at(lat=0.5, long=0.5)] == ["Zone North"]
