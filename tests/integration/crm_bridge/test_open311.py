"""Open311 GeoReport v2 conformance: every endpoint, both formats, filters and error codes."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from crm_bridge.tickets import service
from crm_bridge.tickets.draft import TicketDraft
from foundation.db import Database

P = "/open311/v2"
DT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")
POTHOLE = {"service_code": "pothole", "lat": "40.7128", "long": "-74.0060",
           "attribute[size]": "large", "description": "Deep hole in the bike lane",
           "email": "resident@example.org", "first_name": "Ana", "last_name": "Diaz"}


@pytest.fixture
def client(app: Any, catalog: Database, api_key: str) -> Any:
    return app.test_client()


def post(client: Any, key: str, fmt: str = "json", headers: dict[str, str] | None = None,
         **fields: str) -> Any:
    data = {"api_key": key, **fields}
    return client.post(f"{P}/requests.{fmt}", data=data, headers=headers or {})


def errors_of(resp: Any) -> list[dict[str, Any]]:
    body = resp.get_json()
    assert isinstance(body, list) and body and {"code", "description"} <= set(body[0])
    return body


def test_discovery_and_services(client: Any) -> None:
    d = client.get(f"{P}/discovery.json")
    assert d.status_code == 200 and d.content_type == "application/json; charset=utf-8"
    ep = d.get_json()["endpoints"][0]
    assert ep["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert set(ep["formats"]) == {"text/xml", "application/json"}
    x = ET.fromstring(client.get(f"{P}/discovery.xml").data)
    assert x.tag == "discovery" and x.find("endpoints/endpoint/formats/format") is not None

    svcs = client.get(f"{P}/services.json").get_json()
    assert len(svcs) >= 20
    pothole = next(s for s in svcs if s["service_code"] == "pothole")
    assert pothole == {"service_code": "pothole", "service_name": "Pothole",
                       "description": pothole["description"], "metadata": True,
                       "type": "realtime", "keywords": "pothole, hole in road, street defect",
                       "group": "Streets"}
    x = ET.fromstring(client.get(f"{P}/services.xml").data)
    assert x.tag == "services" and x.find("service/service_code") is not None
    assert client.get(f"{P}/services.yaml").status_code == 404


def test_service_definition_six_datatypes(client: Any) -> None:
    seen: set[str] = set()
    for code in ("pothole", "illegal-dumping", "heat-hot-water", "sewer-backup"):
        d = client.get(f"{P}/services/{code}.json").get_json()
        assert d["service_code"] == code
        for a in d["attributes"]:
            seen.add(a["datatype"])
            assert {"variable", "code", "datatype", "required", "order", "description"} <= set(a)
            if a["datatype"].endswith("valuelist"):
                assert a["values"] and {"key", "name"} == set(a["values"][0])
    assert seen == {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
    x = ET.fromstring(client.get(f"{P}/services/pothole.xml").data)
    assert x.tag == "service_definition"
    assert x.find("attributes/attribute/values/value/key").text == "small"  # type: ignore[union-attr]
    r = client.get(f"{P}/services/nope.json")
    assert r.status_code == 404 and errors_of(r)[0]["code"] == 404
    r = client.get(f"{P}/services/nope.xml")
    assert r.status_code == 404 and ET.fromstring(r.data).find("error/code").text == "404"  # type: ignore[union-attr]


def test_post_errors(client: Any, api_key: str) -> None:
    r = client.post(f"{P}/requests.json", data=POTHOLE)
    assert r.status_code == 403 and errors_of(r)[0]["code"] == 403
    assert post(client, "wrong-key", **POTHOLE).status_code == 403
    r = post(client, api_key, **{k: v for k, v in POTHOLE.items() if k != "service_code"})
    assert r.status_code == 400 and "service_code" in errors_of(r)[0]["description"]
    assert post(client, api_key, **{**POTHOLE, "service_code": "nope"}).status_code == 404
    nolocation = {k: v for k, v in POTHOLE.items() if k not in ("lat", "long")}
    r = post(client, api_key, **nolocation)
    assert r.status_code == 400 and "location" in errors_of(r)[0]["description"]
    assert post(client, api_key, **{**POTHOLE, "lat": "north"}).status_code == 400
    assert post(client, api_key, **{**POTHOLE, "lat": "95"}).status_code == 400
    r = post(client, api_key, **{k: v for k, v in POTHOLE.items() if k != "attribute[size]"})
    assert r.status_code == 400 and "required" in errors_of(r)[0]["description"]
    assert post(client, api_key, **{**POTHOLE, "description": "x" * 4001}).status_code == 400
    r = post(client, api_key, fmt="xml", **{**POTHOLE, "service_code": "nope"})
    assert r.status_code == 404 and r.content_type.startswith("text/xml")
    r = client.delete(f"{P}/requests.json")
    assert r.status_code == 405 and errors_of(r)[0]["code"] == 405
    r = post(client, api_key, **{**POTHOLE, "description": "bad\x00byte"})
    assert r.status_code == 400
    assert client.get(f"{P}/requests/12\x003.json").status_code == 400
    assert client.get(f"{P}/requests.json?service_code=a\x00").status_code == 400
    r = client.get(f"{P}/nothing-here.json")
    assert r.status_code == 404 and errors_of(r)


def test_post_get_one_token_and_idempotency(client: Any, api_key: str) -> None:
    r = client.post(f"{P}/requests.json", data=MultiDict([
        ("api_key", api_key), ("service_code", "illegal-dumping"),
        ("address_string", "12 Elm St"), ("attribute[material][]", "tires"),
        ("attribute[material][]", "bags"), ("attribute[witnessed_at]", "2026-03-01T09:00:00Z")]))
    assert r.status_code == 201, r.data
    created = r.get_json()[0]
    sid = created["service_request_id"]
    assert isinstance(sid, str) and sid.isdigit()
    one = client.get(f"{P}/requests/{sid}.json").get_json()
    assert isinstance(one, list) and len(one) == 1
    sr = one[0]
    assert sr["status"] == "open" and sr["service_code"] == "illegal-dumping"
    assert sr["address"] == "0 block of Elm St"  # the public view: the block, not the house
    assert sr["agency_responsible"] == "Department of Sanitation"
    for k in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert DT.match(sr[k]), sr[k]
    x = ET.fromstring(client.get(f"{P}/requests/{sid}.xml").data)
    assert x.tag == "service_requests" and x.find("request/service_request_id").text == sid  # type: ignore[union-attr]
    tok = client.get(f"{P}/tokens/{created['token']}.json").get_json()
    assert tok == [{"service_request_id": sid, "token": created["token"]}]
    assert client.get(f"{P}/tokens/nope.json").status_code == 404
    assert client.get(f"{P}/requests/123.json").status_code == 404
    r = post(client, api_key, fmt="xml", **POTHOLE)
    assert r.status_code == 201
    assert ET.fromstring(r.data).find("request/service_request_id") is not None
    h = {"Idempotency-Key": "abc-123"}
    a = post(client, api_key, headers=h, **POTHOLE).get_json()[0]["service_request_id"]
    b = post(client, api_key, headers=h, **POTHOLE).get_json()[0]["service_request_id"]
    assert a == b


def _seed_tickets(db: Database) -> list[str]:
    now = datetime.now(UTC)
    numbers, tickets = [], []
    with db.session() as s:
        for i in range(6):
            code = "pothole" if i % 2 == 0 else "graffiti"
            attrs = {"size": "small"} if code == "pothole" else {"surface": "building",
                                                                 "offensive": "no"}
            t = service.open_ticket(
                s, TicketDraft(
                    code, attributes=attrs, address=f"{i} Main St"
                ), now=now - timedelta(days=i * 20))
            numbers.append(t.number)
            tickets.append(t)
        old = service.open_ticket(
            s, TicketDraft(
                "pothole", attributes={"size": "small"}
            ), now=now - timedelta(days=200))
        numbers.append(old.number)
        service.close(s, tickets[0], "dot1", "resolved", "Filled the hole")
    return numbers


def test_get_requests_filters(client: Any, catalog: Database) -> None:
    nums = _seed_tickets(catalog)
    ids = lambda r: [x["service_request_id"] for x in r.get_json()]  # noqa: E731
    default = client.get(f"{P}/requests.json")
    assert default.status_code == 200
    assert ids(default) == nums[:5]  # newest first, within the default 90 days
    assert ids(client.get(f"{P}/requests.json?service_request_id={nums[6]},{nums[1]}")) == \
        [nums[1], nums[6]]
    assert ids(client.get(f"{P}/requests.json?service_code=graffiti")) == [nums[1], nums[3]]
    assert ids(client.get(f"{P}/requests.json?service_code=nope")) == []
    assert ids(client.get(f"{P}/requests.json?status=closed")) == [nums[0]]
    assert ids(client.get(f"{P}/requests.json?status=open,closed&service_code=")) == nums[:5]
    start = (datetime.now(UTC) - timedelta(days=210)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (datetime.now(UTC) - timedelta(days=130)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    r = client.get(f"{P}/requests.json", query_string={"start_date": start, "end_date": end})
    assert ids(r) == [nums[6]]
    for bad in ({"start_date": "yesterday"}, {"status": "pending"}, {"page_size": "0"},
                {"page": "x"}, {"start_date": "2026-01-01T00:00:00Z",
                                "end_date": "2026-06-01T00:00:00Z"}):
        r = client.get(f"{P}/requests.json", query_string=bad)
        assert r.status_code == 400 and errors_of(r)[0]["code"] == 400, bad
    p1 = client.get(f"{P}/requests.json?page_size=2")
    assert ids(p1) == nums[:2] and "page=2" in p1.headers["X-Next-Page-URL"]
    p3 = client.get(f"{P}/requests.json?page_size=2&page=3")
    assert ids(p3) == nums[4:5] and "X-Next-Page-URL" not in p3.headers
    since = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = client.get(f"{P}/requests.json", query_string={"updated_after": since})
    assert ids(r) == [nums[0]]  # only the one just closed was updated recently
    r = client.get(f"{P}/requests.json", query_string={"updated_before": since})
    assert nums[0] not in ids(r) and nums[6] in ids(r)
    ext = client.get(f"{P}/requests.json?status=closed&extensions=true").get_json()[0]
    assert ext["status"] == "closed" and ext["status_notes"] == "Filled the hole"
    assert ext["extended_attributes"]["detailed_status"] == "CLOSED"
    x = ET.fromstring(client.get(f"{P}/requests.xml?page_size=2").data)
    assert [e.text for e in x.findall("request/service_request_id")] == nums[:2]


def test_jurisdiction(app: Any, catalog: Database) -> None:
    app.extensions["civic311.settings"].open311_jurisdiction = "civic.example"
    c = app.test_client()
    assert c.get(f"{P}/services.json?jurisdiction_id=civic.example").status_code == 200
    assert c.get(f"{P}/services.json").status_code == 200
    r = c.get(f"{P}/services.json?jurisdiction_id=other.gov")
    assert r.status_code == 404 and "jurisdiction" in errors_of(r)[0]["description"]


def test_remaining_formats_extensions_and_errors(app: Any, client: Any, api_key: str,
                                                 catalog: Database) -> None:
    from crm_bridge.tickets import routing

    made = post(client, api_key, **POTHOLE).get_json()[0]
    tok = ET.fromstring(client.get(f"{P}/tokens/{made['token']}.xml").data)
    assert tok.tag == "service_requests"
    assert tok.find("request/service_request_id").text == made["service_request_id"]  # type: ignore[union-attr]
    assert tok.find("request/token").text == made["token"]  # type: ignore[union-attr]
    with catalog.session() as s:
        parent = service.get_ticket(s, made["service_request_id"])
        dup = service.open_ticket(
            s, TicketDraft(
                "pothole", attributes={"size": "small"}, lat=40.7128, long=-74.0060
            ))
        routing.link(s, dup, parent, "duplicate", "agent1")
        dup_number = dup.number
    one = client.get(f"{P}/requests/{dup_number}.json?extensions=true").get_json()[0]
    assert one["status"] == "open" and "extended_attributes" in one
    ext = one["extended_attributes"]
    assert ext["parent_service_request_id"] == made["service_request_id"]
    assert ext["link_kind"] == "duplicate" and ext["detailed_status"] == "NEW"
    assert ext["channel"] == "phone"
    assert "extended_attributes" not in client.get(f"{P}/requests/{dup_number}.json").get_json()[0]
    x = ET.fromstring(client.get(f"{P}/requests.xml?extensions=true&page_size=1").data)
    assert x.find("request/extended_attributes/detailed_status") is not None

    assert client.get(f"{P}/requests.json?page=99&page_size=10").get_json() == []
    r = client.get(f"{P}/requests.json?page_size=1001")
    assert r.status_code == 400 and "page_size" in errors_of(r)[0]["description"]
    r = client.get(f"{P}/requests.xml?status=pending")
    assert r.status_code == 400 and r.content_type.startswith("text/xml")
    assert ET.fromstring(r.data).find("error/code").text == "400"  # type: ignore[union-attr]
    assert client.get(f"{P}/requests.yaml").status_code == 404
    assert client.get(f"{P}/tokens/{made['token']}.csv").status_code == 404

    app.extensions["civic311.settings"].open311_jurisdiction = "civic.example"
    r = post(client, api_key, jurisdiction_id="other.gov", **POTHOLE)
    assert r.status_code == 404 and "jurisdiction" in errors_of(r)[0]["description"]
    assert post(client, api_key, jurisdiction_id="civic.example", **POTHOLE).status_code == 201
    r = client.get(f"{P}/requests/{dup_number}.json?jurisdiction_id=other.gov")
    assert r.status_code == 404
