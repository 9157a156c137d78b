"""Validation at every edge (#14 item 2), through HTTP on SQLite and PostgreSQL: each bad
input gets its edge's own clear error (a 400 JSON body, an Open311 error array, the form again
with the error) and changes nothing. Limits come from the columns (``foundation.limits``)."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from sqlalchemy import func, select

from crm_bridge.models import Ticket, TicketEvent
from crm_bridge.seed import seed_catalog
from crm_bridge.tickets import service
from crm_bridge.tickets.draft import TicketDraft
from foundation import limits
from foundation.db import Database
from tests.conftest import csrf_token, login

POTHOLE = {"service_code": "pothole", "attributes": {"size": "large"}, "address": "1 Main St"}
LONG_ADDRESS = "9" * (limits.max_length(Ticket.address) + 1)  # type: ignore[operator]


@pytest.fixture
def catalog(database: Database) -> Database:
    with database.session() as s:
        seed_catalog(s, None)
    return database


@pytest.fixture
def api_key(catalog: Database) -> str:
    from crm_bridge.open311.apikeys import create_key

    with catalog.session() as s:
        return create_key(s, "test-client")


def count(db: Database, model: Any = Ticket) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def staff(app: Any, username: str) -> tuple[Any, dict[str, str]]:
    c = app.test_client()
    login(c, username)
    return c, {"X-CSRFToken": csrf_token(c, "/crm/queue")}


# ---- the staff JSON API -------------------------------------------------------------------
BAD_TICKETS: list[tuple[dict[str, Any], str | None]] = [
    ({"address": LONG_ADDRESS}, "address"),
    ({"first_name": "A" * 65}, "first_name"),
    ({"phone": "5" * 33}, "phone"),
    ({"address": "1 Main\x00St"}, None),
    ({"address": "1 Main\x07St"}, "address"),
    ({"last_name": "Smith\nBcc: x"}, "last_name"),
    ({"description": "d" * 4001}, "description"),
    ({"call_uniqueid": "u" * 65}, "call_uniqueid"),
    ({"attributes": {"size": 5}}, "attribute_invalid"),
    ({"attributes": {"size": ["large", {"x": 1}]}}, "size"),
    ({"attributes": {"size": None, "note": True}}, "note"),
    ({"lat": "Infinity", "long": 1.0}, "lat"),
]


def test_staff_api_refuses_what_its_columns_cannot_hold(
        app: Any, catalog: Database, users: dict[str, str]) -> None:
    c, headers = staff(app, users["agent"])
    for change, field in BAD_TICKETS:
        r = c.post("/api/v1/crm/tickets", json={**POTHOLE, **change}, headers=headers)
        assert r.status_code == 400, (change, r.get_data(as_text=True))
        body = r.get_json()
        if field is None:  # NUL: refused for the whole request before any view runs
            assert body["error"] == "unstorable_text"
        elif field != "attribute_invalid":
            assert field in body["error"] + body["description"], (change, body)
    assert count(catalog) == 0
    ok = c.post("/api/v1/crm/tickets", json={**POTHOLE, "address": "9" * 255}, headers=headers)
    assert ok.status_code == 201  # exactly the column's length is fine


def test_infinite_coordinates_in_json_are_refused(app: Any, catalog: Database,
                                                  users: dict[str, str]) -> None:
    c, headers = staff(app, users["agent"])
    for raw in ('{"service_code":"pothole","attributes":{"size":"large"},"lat":Infinity,'
                '"long":1}', '{"service_code":"pothole","attributes":{"size":"large"},'
                '"lat":NaN,"long":NaN}'):
        r = c.post("/api/v1/crm/tickets", data=raw, content_type="application/json",
                   headers=headers)
        assert r.status_code == 400 and r.get_json()["error"] == "location"
    r = c.get("/api/v1/crm/desktop/nearby", query_string={
        "service_code": "pothole", "lat": "inf", "long": "1"})
    assert r.status_code == 400 and r.get_json()["error"] == "lat"
    assert count(catalog) == 0


def test_json_bodies_that_are_not_objects_get_a_400(app: Any, catalog: Database,
                                                    users: dict[str, str]) -> None:
    c, headers = staff(app, users["supervisor"])
    with catalog.session() as s:
        t = service.open_ticket(s, TicketDraft("pothole", attributes={"size": "large"},
                                               address="1 Main St"))
        number = t.number
    for body in ("[1, 2]", '"text"', "42", "null", "[{}]"):
        for path in ("/api/v1/crm/tickets", f"/api/v1/crm/tickets/{number}/actions",
                     f"/api/v1/crm/tickets/{number}/comments", "/api/v1/agents/100/commands"):
            r = c.post(path, data=body, content_type="application/json", headers=headers)
            assert r.status_code == 400, (body, path, r.status_code)
            assert r.get_json()["error"]
    assert count(catalog) == 1 and count(catalog, TicketEvent) == 2


def test_lifecycle_texts_are_checked_against_their_columns(
        app: Any, catalog: Database, users: dict[str, str]) -> None:
    c, headers = staff(app, users["supervisor"])
    with catalog.session() as s:
        number = service.open_ticket(s, TicketDraft(
            "pothole", attributes={"size": "large"}, address="1 Main St")).number
    events = count(catalog, TicketEvent)
    url = f"/api/v1/crm/tickets/{number}"
    for path, body, field in [
        ("/actions", {"action": "assign", "assignee": "x" * 65}, "assignee"),
        ("/actions", {"action": "assign", "assignee": "crew\r\n7"}, "assignee"),
        ("/actions", {"action": "acknowledge", "comment": "c" * 4001}, "comment"),
        ("/comments", {"text": "bell\x1b[31m"}, "comment"),
        ("/transfer", {"agency": "DSNY", "comment": "vertical\x0btab"}, "comment"),
    ]:
        r = c.post(url + path, json=body, headers=headers)
        assert r.status_code == 400 and r.get_json()["error"] == field, (path, r.get_json())
    assert count(catalog, TicketEvent) == events
    ok = c.post(url + "/comments", json={"text": "line one\nline two\tend"}, headers=headers)
    assert ok.status_code == 200


# ---- the agent desktop form ----------------------------------------------------------------
def test_desktop_form_names_the_field_that_is_too_long(app: Any, catalog: Database,
                                                      users: dict[str, str]) -> None:
    c = app.test_client()
    login(c, users["agent"])
    r = c.post("/agent/desktop/intake", data={
        "service_code": "pothole", "attr.size": "large", "address": LONG_ADDRESS,
        "csrf_token": csrf_token(c, "/agent/desktop")})
    assert r.status_code == 400
    assert "address is limited to 255 characters" in r.get_data(as_text=True)
    assert count(catalog) == 0


# ---- Open311 ---------------------------------------------------------------------------------
def test_open311_post_refuses_with_an_error_array(app: Any, catalog: Database,
                                                  api_key: str) -> None:
    c = app.test_client()
    form = {"api_key": api_key, "service_code": "pothole", "attribute[size]": "large",
            "address_string": "1 Main St"}
    for change in ({"address_string": LONG_ADDRESS}, {"media_url": "http://x/" + "a" * 600},
                   {"first_name": "Ana\x01"}, {"description": "form\x0cfeed"},
                   {"lat": "inf", "long": "1", "address_string": ""},
                   {"lat": "nan", "long": "nan", "address_string": ""},
                   {"description": "nul\x00"}):
        for fmt in ("json", "xml"):
            r = c.post(f"/open311/v2/requests.{fmt}", data={**form, **change})
            assert r.status_code == 400, (change, r.get_data(as_text=True))
            if fmt == "json":
                body = r.get_json()
                assert isinstance(body, list) and body[0]["code"] == 400
            else:
                assert ET.fromstring(r.data).tag == "errors"
    assert count(catalog) == 0


def test_open311_dates_out_of_range_are_an_error_array(app: Any, catalog: Database) -> None:
    c = app.test_client()
    for name in ("start_date", "end_date", "updated_after", "updated_before"):
        for value in ("0001-01-01T00:00:00Z", "0001-01-01", "9999-12-31T23:59:59Z",
                      "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+14:00"):
            r = c.get("/open311/v2/requests.json", query_string={name: value})
            assert r.status_code == 400 and r.get_json()[0]["code"] == 400, (name, value)
            assert name in r.get_json()[0]["description"]


def test_open311_xml_stays_well_formed_and_headers_ascii(app: Any, catalog: Database) -> None:
    with catalog.session() as s:  # a row stored before the edge refused control characters
        for _ in range(3):
            t = service.open_ticket(s, TicketDraft("pothole", attributes={"size": "large"},
                                                   address="1 Main St", channel="web"))
        t.description = "bell\x07 and escape\x1b and form\x0c feed"
        number = t.number
    c = app.test_client()
    r = c.get(f"/open311/v2/requests/{number}.xml")
    assert r.status_code == 200
    doc = ET.fromstring(r.data)  # raises on a document that is not well-formed
    assert doc.find("request/description").text == "bell\ufffd and escape\ufffd and form\ufffd feed"
    r = c.get("/open311/v2/requests.xml", query_string={"page_size": "1", "q": "café ñ"})
    assert r.status_code == 200
    nxt = r.headers["X-Next-Page-URL"]
    assert nxt.isascii() and "caf%C3%A9" in nxt and "page=2" in nxt
    ET.fromstring(r.data)


# ---- report pages ------------------------------------------------------------------------
REPORTS = [
    ("/reports/intervals", "day", "supervisor"),
    ("/reports/agents", "day", "supervisor"),
    ("/reports/calls", "to", "manager"),
    ("/crm/reports/requests", "to", "manager"),
    ("/crm/reports/sla", "to", "manager"),
    ("/api/v1/metrics", "to", "manager"),
    ("/api/v1/metrics", "from", "manager"),
    ("/api/v1/recordings", "to", "supervisor"),
    ("/api/v1/recordings/problems", "to", "supervisor"),
    ("/recordings/problems", "from", "supervisor"),
    ("/open-data/requests.csv", "end_date", None),
]


def test_report_pages_refuse_year_1_and_year_9999(app: Any, catalog: Database,
                                                  users: dict[str, str]) -> None:
    clients = {None: app.test_client()}
    for role in ("supervisor", "manager"):
        clients[role] = app.test_client()
        login(clients[role], users[role])
    for path, param, role in REPORTS:
        for value in ("0001-01-01", "9999-12-31", "9999-12-31T23:00:00-05:00",
                      "0001-01-01T00:00:00+14:00"):
            r = clients[role].get(path, query_string={param: value})
            assert 400 <= r.status_code < 500 or r.status_code in (302, 303), (
                path, value, r.status_code)


def test_ids_beyond_an_integer_column_name_nothing(app: Any, catalog: Database,
                                                   users: dict[str, str]) -> None:
    """An id past int4 (or "²", which ``int()`` and ``isdigit`` take) names no row: a 404 in a
    path, ignored in a query; PostgreSQL's "integer out of range" was a 500 (pages fuzz)."""
    c, _ = staff(app, users["supervisor"])
    agent, _ = staff(app, users["agent"])
    for huge in (str(2**31), str(10**30)):
        assert c.get(f"/qa/calibrations/{huge}").status_code == 404
        assert c.get(f"/api/v1/agents/commands/{huge}").status_code == 404
    for odd in (str(2**31), str(10**30), "²", "١٢"):
        assert agent.get(f"/agent/transfer?command={odd}").status_code == 200
        assert agent.get(f"/agent/desktop?command={odd}").status_code == 200
        assert c.get(f"/qa/evaluate/1?calibration={odd}&form={odd}").status_code == 404


def test_a_reopen_link_signed_with_non_ascii_is_refused(app: Any, catalog: Database) -> None:
    with catalog.session() as s:
        number = service.open_ticket(s, TicketDraft(**POTHOLE)).number
    resp = app.test_client().get(f"/crm/reopen/{number}?t=Ω☃")  # compare_digest raised: a 500
    assert resp.status_code == 403


def test_nul_anywhere_is_a_400_before_the_log_in_sees_it(app: Any, catalog: Database) -> None:
    c = app.test_client()
    token = csrf_token(c)
    r = c.post("/login", data={"username": "admin\x00", "password": "x", "csrf_token": token})
    assert r.status_code == 400
    r = c.get("/open311/v2/requests.json", query_string={"service_code": "a\x00b"})
    assert r.status_code == 400 and r.get_json()[0]["code"] == 400


# ---- Idempotency-Key -------------------------------------------------------------------------
def test_long_idempotency_keys_that_share_a_prefix_never_collide(
        app: Any, catalog: Database, api_key: str) -> None:
    c = app.test_client()
    form = {"api_key": api_key, "service_code": "pothole", "attribute[size]": "large",
            "address_string": "1 Main St"}
    prefix = "k" * 300
    first = c.post("/open311/v2/requests.json", data=form,
                   headers={"Idempotency-Key": prefix + "1"})
    second = c.post("/open311/v2/requests.json", data=form,
                    headers={"Idempotency-Key": prefix + "2"})
    again = c.post("/open311/v2/requests.json", data=form,
                   headers={"Idempotency-Key": prefix + "1"})
    assert first.status_code == second.status_code == again.status_code == 201
    ids = [r.get_json()[0]["service_request_id"] for r in (first, second, again)]
    assert ids[0] != ids[1] and ids[0] == ids[2]
    assert count(catalog) == 2


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_the_same_idempotency_key_sent_at_once_opens_one_ticket(
        app: Any, catalog: Database, api_key: str) -> None:
    form = {"api_key": api_key, "service_code": "pothole", "attribute[size]": "large",
            "address_string": "1 Main St"}
    n = 6
    start = threading.Barrier(n)
    answers: list[Any] = []

    def post() -> None:
        c = app.test_client()
        start.wait()
        r = c.post("/open311/v2/requests.json", data=form, headers={"Idempotency-Key": "once"})
        answers.append((r.status_code, r.get_json()[0].get("service_request_id")))

    threads = [threading.Thread(target=post) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(answers) == n and {code for code, _ in answers} == {201}
    assert len({number for _, number in answers}) == 1
    assert count(catalog) == 1


# ---- cross-agency link -----------------------------------------------------------------------
def test_an_agency_worker_cannot_link_under_another_agencys_ticket(
        app: Any, catalog: Database, users: dict[str, str]) -> None:
    with catalog.session() as s:
        mine = service.open_ticket(s, TicketDraft(  # DSNY
            "graffiti", attributes={"surface": "building", "offensive": "no"}, address="2 Elm"))
        theirs = service.open_ticket(s, TicketDraft(  # DOT
            "pothole", attributes={"size": "large"}, address="2 Elm"))
        mine_n, theirs_n = mine.number, theirs.number
    events = count(catalog, TicketEvent)
    c, headers = staff(app, users["agency"])  # a DSNY worker
    r = c.post(f"/api/v1/crm/tickets/{mine_n}/link", json={"parent": theirs_n, "kind": "child"},
               headers=headers)
    assert r.status_code == 404 and r.get_json()["error"] == "ticket_not_found"
    r = c.post(f"/crm/tickets/{mine_n}/link", data={
        "parent": theirs_n, "kind": "child", "csrf_token": headers["X-CSRFToken"]})
    assert r.status_code == 404
    with catalog.session() as s:
        assert s.scalar(select(Ticket.parent_id).where(Ticket.number == mine_n)) is None
    assert count(catalog, TicketEvent) == events
    # a supervisor (no agency scope) still links across agencies
    c, headers = staff(app, users["supervisor"])
    r = c.post(f"/api/v1/crm/tickets/{mine_n}/link", json={"parent": theirs_n, "kind": "child"},
               headers=headers)
    assert r.status_code == 200 and r.get_json()["parent"] == theirs_n


def test_the_migration_hashes_keys_stored_before_so_a_retry_still_finds_its_ticket(
        app: Any, catalog: Database, api_key: str) -> None:
    import importlib.util
    from pathlib import Path

    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    from crm_bridge.open311.apikeys import client_for

    c = app.test_client()
    form = {"api_key": api_key, "service_code": "pothole", "attribute[size]": "large",
            "address_string": "1 Main St"}
    first = c.post("/open311/v2/requests.json", data=form, headers={"Idempotency-Key": "old"})
    with catalog.session() as s:  # as the key was stored before 0203: "client:key", raw
        t = s.scalar(select(Ticket))
        assert t is not None
        t.idempotency_key = f"{client_for(s, api_key)}:old"
    path = Path(__file__).parents[2] / "center/migrations/versions/0203_crm_idempotency_hash.py"
    spec = importlib.util.spec_from_file_location("m0203", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with catalog.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        migration.upgrade()
    again = c.post("/open311/v2/requests.json", data=form, headers={"Idempotency-Key": "old"})
    assert again.status_code == 201
    assert again.get_json()[0]["service_request_id"] == first.get_json()[0]["service_request_id"]
    assert count(catalog) == 1
