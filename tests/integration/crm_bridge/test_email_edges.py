"""An e-mail address with a line break (a header injection, and the poison that used to stall
the notification job) is refused at every edge that takes one, with that edge's own kind of
error, and nothing is stored: Open311 POST, the staff JSON API, the agent desktop form and the
catalog upload."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from crm_bridge.models import Notification, Ticket
from crm_bridge.tickets import catalog as catalog_import
from crm_bridge.tickets.errors import InvalidInput
from foundation.db import Database
from tests.conftest import csrf_token, login

INJECTED = "ana@example.org\r\nBcc: everyone@example.org"
def _count(db: Database) -> tuple[int, int]:
    with db.session() as s:
        return (s.scalar(select(func.count()).select_from(Ticket)) or 0,
                s.scalar(select(func.count()).select_from(Notification)) or 0)


def test_open311_post_answers_an_error_array(app: Any, catalog: Database, api_key: str) -> None:
    c = app.test_client()
    form = {"api_key": api_key, "service_code": "pothole", "lat": "40.71", "long": "-74.0",
            "attribute[size]": "large", "description": "hole"}
    for value in (INJECTED, "not-an-address"):
        r = c.post("/open311/v2/requests.json", data={**form, "email": value})
        body = r.get_json()
        assert r.status_code == 400 and isinstance(body, list)
        assert body[0]["code"] == 400 and "e-mail address" in body[0]["description"]
    r = c.post("/open311/v2/requests.xml", data={**form, "email": INJECTED})
    assert r.status_code == 400 and b"<errors>" in r.data
    assert _count(catalog) == (0, 0)
    ok = c.post("/open311/v2/requests.json", data={**form, "email": "ana@example.org"})
    assert ok.status_code == 201
    assert _count(catalog) == (1, 1)


def test_staff_api_answers_400(app: Any, catalog: Database, users: dict[str, str]) -> None:
    c = app.test_client()
    login(c, users["agent"])
    r = c.post("/api/v1/crm/tickets", json={
        "service_code": "pothole", "attributes": {"size": "large"}, "address": "1 Main St",
        "email": INJECTED}, headers={"X-CSRFToken": csrf_token(c, "/crm/queue")})
    assert r.status_code == 400 and r.get_json()["error"] == "email"
    assert "line breaks" in r.get_json()["description"]
    assert _count(catalog) == (0, 0)


def test_desktop_form_shows_the_error(app: Any, catalog: Database,
                                      users: dict[str, str]) -> None:
    c = app.test_client()
    login(c, users["agent"])
    r = c.post("/agent/desktop/intake", data={
        "service_code": "pothole", "attr.size": "large", "address": "1 Main St",
        "email": INJECTED, "csrf_token": csrf_token(c, "/agent/desktop")})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "must not contain line breaks" in html
    assert "1 Main St" in html  # the agent's form comes back filled in
    assert _count(catalog) == (0, 0)


def test_catalog_refuses_an_oversight_address_with_a_line_break(catalog: Database) -> None:
    raw = {"code": "DOT", "name": "Transportation",
           "contacts": [{"level": 1, "name": "Kim", "email": "kim@dot.example\nBcc: x@y.example"}]}
    with catalog.session() as s, pytest.raises(InvalidInput) as err:
        catalog_import.upsert_agency(s, raw)
    assert err.value.code == "agency_email" and "DOT" in str(err.value)


def test_catalog_refuses_names_with_line_breaks(catalog: Database) -> None:
    with catalog.session() as s, pytest.raises(InvalidInput) as err:
        catalog_import.upsert_service_type(s, {"code": "pothole", "name": "Pothole\r\nBcc: x",
                                               "agency": "DOT"})
    assert err.value.code == "service_type_name"
    with catalog.session() as s, pytest.raises(InvalidInput) as err:
        catalog_import.upsert_agency(s, {"code": "DOT", "name": "Transport\nBcc: x"})
    assert err.value.code == "agency_name"
