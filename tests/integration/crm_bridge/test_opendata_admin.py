"""Open-data export (route and command) without personal data; the admin's catalog pages:
edit a service type and an agency, import a catalog file (all or nothing), export it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import select

from crm_bridge.models import Agency, ServiceType
from crm_bridge.tickets import service
from crm_bridge.tickets.catalog import export_catalog
from crm_bridge.tickets.draft import TicketDraft
from foundation.db import Database
from tests.conftest import csrf_token, login

PERSONAL = ["Ana", "Diaz", "ana@example.org", "5550102030", "my landlord Bob", "4B",
            "1234 Main St"]


def test_open_data_has_no_personal_data(app: Any, catalog: Database, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from crm_bridge.open311 import opendata

    monkeypatch.setattr(opendata, "BATCH", 1)  # every row its own batch and chunk
    with catalog.session() as s:
        a = service.open_ticket(
            s, TicketDraft(
                "heat-hot-water", first_name="Ana", last_name="Diaz", email="ana@example.org",
                phone="555 010 2030", description="my landlord Bob", address="1234 Main St",
                attributes={"problem": ["heat"], "apartment": "4B"}, lat=40.712345,
                long=-74.006789, channel="web"
            ))
        b = service.open_ticket(
            s, TicketDraft(
                "pothole", attributes={"size": "small"}, address="Broadway & W 4th St"
            ))
        service.close(s, b, "dot1", "resolved", "Filled the pothole")
        numbers = [a.number, b.number]
    c = app.test_client()  # public: no log-in
    r = c.get("/open-data/requests.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    text = r.get_data(as_text=True)
    for secret in PERSONAL:
        assert secret not in text, secret
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [x["service_request_id"] for x in rows] == numbers
    heat, hole = rows
    assert heat["address"] == "1200 block of Main St" and heat["lat"] == "40.712"
    assert heat["source"] == "Website" and heat["status"] == "open" and heat["closed_date"] == ""
    assert heat["agency_responsible"] == "Housing Preservation and Development"
    assert hole["address"] == "Broadway & W 4th St" and hole["status_description"] == "Closed"
    assert hole["closed_date"] and hole["closure_reason"] == "resolved"
    js = c.get("/open-data/requests.json").get_json()
    assert [x["service_request_id"] for x in js] == numbers and js[0]["long"] == -74.007
    assert not any(secret in json.dumps(js) for secret in PERSONAL)
    assert c.get("/open-data/requests.json?start_date=2000-01-01T00:00:00Z&"
                 "end_date=2000-02-01T00:00:00Z").get_json() == []
    assert c.get("/open-data/requests.json?start_date=soon").status_code == 400
    assert c.get("/open-data/requests.xls").status_code == 404

    from center.cli import cli

    out = tmp_path / "sr.csv"
    res = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "d"), "--database-url",
                                   catalog.url, "opendata", "export", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_bytes().decode("utf-8") == text


def _admin(app: Any, users: dict[str, str]) -> Any:
    c = app.test_client()
    login(c, users["admin"])
    return c


def test_admin_edits_and_imports_the_catalog(app: Any, catalog: Database,
                                              users: dict[str, str]) -> None:
    c = _admin(app, users)
    page = c.get("/crm/admin/catalog").get_data(as_text=True)
    assert "pothole" in page and "DSNY" in page
    agency = app.test_client()
    login(agency, users["agency"])
    assert agency.get("/crm/admin/catalog").status_code == 403

    tok = csrf_token(c, "/crm/admin/catalog")
    form = {"csrf_token": tok, "name": "Pothole", "group": "Streets", "keywords": "pothole",
            "agency": "DOT", "sla_unit": "business_days", "sla_amount": "3",
            "description": "A hole in the road", "script": "Ask where exactly.", "faq": "",
            "attributes": "- {code: size, datatype: singlevaluelist, required: true, "
                          "description: \"How big?\", values: [{key: s, name: Small}]}\n",
            "active": "1"}
    r = c.post("/crm/admin/service-types/pothole", data={**form, "sla_amount": "soon"})
    assert r.status_code == 400 and "must be a number" in r.get_data(as_text=True)
    r = c.post("/crm/admin/service-types/pothole", data={**form, "attributes": "- {code: x, "
                                                         "datatype: colour}"})
    assert r.status_code == 400 and "datatype must be one of" in r.get_data(as_text=True)
    with catalog.session() as s:
        st = s.scalar(select(ServiceType).where(ServiceType.code == "pothole"))
        assert st is not None and st.sla_amount == 10  # refused saves changed nothing
    assert c.post("/crm/admin/service-types/pothole", data=form).status_code == 303
    with catalog.session() as s:
        st = s.scalar(select(ServiceType).where(ServiceType.code == "pothole"))
        assert st is not None and st.sla_amount == 3 and st.script == "Ask where exactly."
        assert st.attributes[0]["values"] == [{"key": "s", "name": "Small"}]
    r = c.post("/crm/admin/service-types/new", data={**form, "code": "pothole"})
    assert r.status_code == 400 and "exists" in r.get_data(as_text=True)
    assert c.post("/crm/admin/service-types/new", data={**form, "code": "road-crack",
                                                        "name": "Road crack"}
                  ).status_code == 303
    assert c.get("/open311/v2/services/road-crack.json").status_code == 200

    r = c.post("/crm/admin/agencies/DOT", data={
        "csrf_token": tok, "name": "Department of Transportation", "email": "dot@x.example",
        "phone": "", "contacts": "1 | Pat Lee | Supervisor\n", "external_kind": ""})
    assert r.status_code == 400 and "level | name | title | email" in r.get_data(as_text=True)
    r = c.post("/crm/admin/agencies/DOT", data={
        "csrf_token": tok, "name": "Department of Transportation", "email": "dot@x.example",
        "phone": "", "contacts": "1 | Pat Lee | Supervisor | pat@dot.example\n"
                                 "2 | Kim Ray | Engineer | kim@dot.example",
        "external_kind": "email", "external_email": "work-orders@dot.example"})
    assert r.status_code == 303
    with catalog.session() as s:
        dot = s.scalar(select(Agency).where(Agency.code == "DOT"))
        assert dot is not None and [x.email for x in dot.contacts] == ["pat@dot.example",
                                                                     "kim@dot.example"]
        assert dot.external_kind == "email"
        before = export_catalog(s)

    # import: a bad file changes nothing, a good one upserts and says what changed
    broken = {"agencies": [{"code": "PARKS2", "name": "Parks Two"}],
              "service_types": [{"code": "x1", "name": "X", "agency": "NOWHERE"}]}
    r = c.post("/crm/admin/catalog/import", data={
        "csrf_token": tok, "file": (io.BytesIO(yaml.safe_dump(broken).encode()), "c.yaml")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "Nothing imported" in r.get_data(as_text=True) and "NOWHERE" in r.get_data(
        as_text=True)
    with catalog.session() as s:
        assert export_catalog(s) == before
    good = {"agencies": [{"code": "PARKS2", "name": "Parks Two", "email": "p2@x.example"}],
            "service_types": [{"code": "bench-broken", "name": "Broken bench",
                               "agency": "PARKS2", "sla": {"unit": "calendar_days",
                                                           "amount": 7}}]}
    r = c.post("/crm/admin/catalog/import", data={
        "csrf_token": tok, "file": (io.BytesIO(json.dumps(good).encode()), "c.json")},
        content_type="multipart/form-data", follow_redirects=True)
    body = r.get_data(as_text=True)
    assert "service type bench-broken created" in body and "agency PARKS2 created" in body
    exported = yaml.safe_load(c.get("/crm/admin/catalog/export.yaml").data)
    assert any(t["code"] == "bench-broken" and t["agency"] == "PARKS2"
               for t in exported["service_types"])


def test_apikey_command_issues_a_working_key(app: Any, catalog: Database,
                                             tmp_path: Path) -> None:
    from center.cli import cli

    run = lambda *a: CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "d"),  # noqa: E731
                                              "--database-url", catalog.url, *a])
    res = run("apikey", "create", "fixit-app")
    assert res.exit_code == 0, res.output
    key = res.output.strip()
    assert len(key) >= 40
    with catalog.session() as s:
        from crm_bridge.models import ApiKey

        stored = s.scalars(select(ApiKey)).one()
        assert stored.name == "fixit-app" and key not in (stored.key_hash, stored.prefix)
    assert run("apikey", "create", "fixit-app").exit_code != 0  # names are unique
    c = app.test_client()
    form = {"service_code": "pothole", "address_string": "1 Main St", "attribute[size]": "small"}
    assert c.post("/open311/v2/requests.json", data={**form, "api_key": key}).status_code == 201
    assert c.post("/open311/v2/requests.json", data={**form, "api_key": key[:-1]}
                  ).status_code == 403


def test_sla_report_page(app: Any, catalog: Database, users: dict[str, str]) -> None:
    from datetime import timedelta

    from foundation.db import utcnow

    now = utcnow()
    with catalog.session() as s:
        late = service.open_ticket(
            s, TicketDraft(
                "dead-animal", attributes={"animal": "bird"}, address="1 A St"
            ), now=now - timedelta(days=20))
        service.close(s, late, "dsny1", "resolved", "Removed the bird")
        ok = service.open_ticket(
            s, TicketDraft(
                "dead-animal", attributes={"animal": "bird"}, address="2 A St"
            ))
        service.close(s, ok, "dsny1", "resolved", "Removed the bird")
    c = app.test_client()
    login(c, users["manager"])
    html = c.get("/crm/reports/sla").get_data(as_text=True)
    assert "DSNY · Department of Sanitation" in html and "50.0%" in html
    assert c.get("/crm/reports/sla?from=yesterday").status_code == 302
