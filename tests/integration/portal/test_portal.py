"""The resident portal over HTTP, on SQLite and PostgreSQL: report a problem with a photo
(English and Spanish), the number and promised date, status by number, "work not done"
within the window only, requests near an address, and the address JSON it calls."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
from sqlalchemy import func, select

from crm_bridge.config import from_settings
from crm_bridge.models import Notification, Ticket
from crm_bridge.seed import seed_catalog
from crm_bridge.tickets import service
from foundation.db import Database, utcnow
from places.seed import seed_places

SQLITE = pytest.mark.parametrize("database", ["sqlite"], indirect=True)  # the rest: both
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def city(database: Database) -> Database:
    with database.session() as s:
        seed_catalog(s, None)
        seed_places(s)
    return database


def _token(page: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert m, page[:500]
    return m.group(1)


def _report(c: Any, code: str = "pothole", lang: str = "en", **fields: Any) -> Any:
    page = c.get(f"/portal/report/{code}?lang={lang}").get_data(as_text=True)
    data = {"csrf_token": _token(page),
            **{k: (BytesIO(v[0]), v[1]) if isinstance(v, tuple) else v for k, v in fields.items()}}
    return c.post(f"/portal/report/{code}", data=data, content_type="multipart/form-data")


def _tickets(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Ticket)) or 0


def test_a_resident_reports_a_pothole_with_a_photo(app: Any, city: Database) -> None:
    c = app.test_client()
    home = c.get("/portal/").get_data(as_text=True)
    assert "Pothole" in home and "Missed Trash Collection" in home
    found = c.get("/portal/?q=pothole").get_data(as_text=True)
    assert "Pothole" in found and "Missed Trash Collection" not in found
    r = _report(c, **{"attr.size": "large", "description": "Deep hole by the curb",
                      "address": "104 washingtn st", "email": "res@example.org",
                      "photo": (PNG, "hole.png")})
    assert r.status_code == 303, r.get_data(as_text=True)
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    number = re.search(r'data-field="number">(\d+)<', page).group(1)
    assert "Your request has been received" in page
    assert re.search(r'data-field="promised">\w+day, \w+ \d+, 20\d\d<', page)
    with city.session() as s:
        t = s.scalar(select(Ticket).where(Ticket.number == number))
        assert (t.channel, t.language, t.address, t.created_by) == \
            ("web", "en", "104 Washington St", "resident")
        assert {d.layer: d.code for d in t.districts} == {"council_district": "3",
                                                          "sanitation_zone": "south"}
        assert t.attributes == {"size": "large"} and t.lat is not None
        photo = t.media_url
        mails = s.scalars(select(Notification).where(Notification.ticket_id == t.id)).all()
        assert [m.recipient for m in mails] == ["res@example.org"]
    got = c.get(photo)
    assert got.status_code == 200 and got.data == PNG


@SQLITE
def test_the_same_request_in_spanish_keeps_the_language(app: Any, city: Database) -> None:
    c = app.test_client()
    page = c.get("/portal/report/pothole?lang=es").get_data(as_text=True)
    assert '<html lang="es">' in page and "Enviar la solicitud" in page
    r = _report(c, lang="es", **{"attr.size": "small", "address": "200 Madison St",
                                 "email": "vecina@example.org"})
    assert r.status_code == 303
    page = c.get(r.headers["Location"]).get_data(as_text=True)  # the cookie keeps Spanish
    assert "Recibimos su solicitud" in page and "Se espera atenderla antes del" in page
    assert re.search(r"(lunes|martes|miércoles|jueves|viernes) \d+ de \w+ de 20\d\d", page)
    with city.session() as s:
        assert s.scalar(select(Ticket.language)) == "es"
        mail = s.scalar(select(Notification))  # the confirmation, in Spanish too
        assert mail.subject.startswith("311 de Civic City: recibimos la solicitud")
        assert "Su número de solicitud es" in mail.body and " de 20" in mail.body


def test_the_catalog_in_spanish_stores_the_same_answers(app: Any, city: Database) -> None:
    """The type's name, description, questions and choices in Spanish (the catalog's i18n);
    the answers stored are the same keys as in English; the notice names the type in
    Spanish; the staff's view of the ticket stays English."""
    c = app.test_client()
    home = c.get("/portal/?lang=es").get_data(as_text=True)
    assert ">Bache</a>" in home and "<h3>Calles</h3>" in home and ">Pothole<" not in home
    found = c.get("/portal/?q=bache&lang=es").get_data(as_text=True)
    assert ">Bache</a>" in found and "Recolección de basura" not in found
    page = c.get("/portal/report/pothole?lang=es").get_data(as_text=True)
    assert "<h1>Bache</h1>" in page and "Un hoyo o hundimiento" in page
    assert "¿Qué tamaño tiene el bache?" in page and "How big is the pothole?" not in page
    assert re.search(r'value="small" *> Más pequeño que un plato</label>', page)
    assert re.search(r'value="bike_lane" *> Carril para bicicletas</label>', page)
    unanswered = _report(c, lang="es", address="200 Madison St")
    assert unanswered.status_code == 400
    assert "Revise su respuesta a: ¿Qué tamaño tiene el bache?" in \
        unanswered.get_data(as_text=True)
    answers = {"attr.size": "large", "attr.position": "bike_lane", "address": "200 Madison St"}
    es = _report(c, lang="es", email="vecina@example.org", **answers)
    en = _report(app.test_client(), lang="en", email="neighbour@example.org", **answers)
    assert es.status_code == en.status_code == 303
    status = c.get(es.headers["Location"]).get_data(as_text=True)
    assert "<dd>Bache</dd>" in status
    with city.session() as s:
        tickets = s.scalars(select(Ticket).order_by(Ticket.id)).all()
        assert [t.language for t in tickets] == ["es", "en"]
        assert tickets[0].attributes == tickets[1].attributes == \
            {"size": "large", "position": "bike_lane"}
        mails = {m.recipient: m for m in s.scalars(select(Notification))}
        assert "Solicitud: Bache en 200 Madison St" in mails["vecina@example.org"].body
        assert "Request: Pothole at 200 Madison St" in mails["neighbour@example.org"].body
        number = tickets[0].number
    assert "Pothole" in c.get(f"/portal/requests/{number}?lang=en").get_data(as_text=True)


@SQLITE
@pytest.mark.parametrize(("fields", "says"), [
    ({"address": "200 Madison St"}, "size"),  # a required question unanswered
    ({"attr.size": "small"}, "We could not find that address"),  # no place at all
    ({"attr.size": "small", "address": "200 Madison St",
      "photo": (b"GIF89a not allowed", "x.jpg")}, "JPEG, PNG or WebP image"),
    ({"attr.size": "small", "address": "200 Madison St", "email": "not an email"}, "mail"),
])
def test_bad_input_is_refused_and_stores_nothing(app: Any, city: Database,
                                                 fields: dict[str, Any], says: str) -> None:
    r = _report(app.test_client(), **fields)
    assert r.status_code == 400
    assert says in r.get_data(as_text=True)
    assert 'role="alert"' in r.get_data(as_text=True)
    assert _tickets(city) == 0


@SQLITE
def test_a_photo_over_the_limit_is_refused(app: Any, city: Database) -> None:
    big = b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024)
    r = _report(app.test_client(), **{"attr.size": "small", "address": "200 Madison St",
                                      "photo": (big, "big.jpg")})
    assert r.status_code == 400 and "larger than 5 MB" in r.get_data(as_text=True)
    assert _tickets(city) == 0


def test_status_by_number_and_work_not_done(app: Any, city: Database, settings: Any) -> None:
    cfg = from_settings(settings)
    c = app.test_client()
    r = _report(c, **{"attr.size": "small", "address": "300 Monroe St",
                      "email": "me@example.org"})
    number = r.headers["Location"].split("/")[-1].split("?")[0]
    assert c.get(f"/portal/requests?number={number}").headers["Location"].endswith(number)
    page = c.get(f"/portal/requests/{number}").get_data(as_text=True)
    assert 'data-field="state">received<' in page and "Work not done?" not in page
    assert c.get("/portal/requests/12345679").status_code == 404
    with city.session() as s:
        service.close(s, service.get_ticket(s, number), "dot1", "resolved", "Hole filled.",
                      config=cfg)
    page = c.get(f"/portal/requests/{number}").get_data(as_text=True)
    assert "Hole filled." in page and "Work not done?" in page
    token = _token(page)
    wrong = c.post(f"/portal/requests/{number}/reopen",
                   data={"csrf_token": token, "contact": "other@example.org", "text": "no"})
    assert wrong.status_code == 400
    assert 'data-field="state">closed<' in wrong.get_data(as_text=True)
    ok = c.post(f"/portal/requests/{number}/reopen",
                data={"csrf_token": token, "contact": "ME@example.org",
                      "text": "Still a hole"})
    assert ok.status_code == 200 and "Your request was reopened" in ok.get_data(as_text=True)
    assert 'data-field="state">reopened<' in ok.get_data(as_text=True)
    with city.session() as s:
        t = service.get_ticket(s, number)
        assert t.reopen_count == 1 and t.escalation_level == 1
        service.close(s, t, "dot1", "resolved", "Filled again.", config=cfg)
        t.closed_at = utcnow() - timedelta(days=30)  # past the 14-day window
    late = c.post(f"/portal/requests/{number}/reopen",
                  data={"csrf_token": token, "contact": "me@example.org", "text": "again"})
    assert late.status_code == 409 and "has passed" in late.get_data(as_text=True)
    with city.session() as s:
        assert service.get_ticket(s, number).state == "closed"


@SQLITE
def test_requests_near_an_address(app: Any, city: Database) -> None:
    c = app.test_client()
    _report(c, **{"attr.size": "small", "address": "204 Adams St"})
    _report(c, **{"attr.size": "small", "address": "700 Edwards St"})  # far away
    page = c.get("/portal/nearby?address=208 adams street").get_data(as_text=True)
    # the requests near by are shown as the public view shows them: by block
    assert "208 Adams St" in page and "200 block of Adams St" in page
    assert "700 Edwards" not in page and "700 block of Edwards" not in page
    assert re.search(r"\d+ m away", page)
    typo = c.get("/portal/nearby?address=208 adamz").get_data(as_text=True)
    assert "Did you mean" not in typo and "200 block of Adams St" in typo  # one typo: found
    guess = c.get("/portal/nearby?address=208 ad").get_data(as_text=True)  # two streets fit
    assert "Did you mean" in guess and "208 Adams St" in guess and "208 Madison St" in guess


@SQLITE
def test_address_json_for_search_as_you_type(app: Any, city: Database) -> None:
    c = app.test_client()
    rows = c.get("/api/v1/places/search?q=30 madsion").get_json()
    assert rows[0]["address"] == "300 Madison St" and rows[0]["lat"]
    first = rows[0]
    near = c.get(f"/api/v1/places/reverse?lat={first['lat']}&long={first['long']}").get_json()
    assert near["address"] == "300 Madison St"
    assert {d["layer"] for d in near["districts"]} == {"council_district", "sanitation_zone"}
    assert c.get("/api/v1/places/reverse?lat=north&long=1").status_code == 400
    assert c.get("/api/v1/places/search?q=a").get_json() == []
