"""The agent desktop through the Flask test client, with call records inserted as the telephony
daemon writes them at AgentConnect: screen pop, probing questions and SLA promise, duplicate
suggestions nearby, intake linked to the call, wrap-up stored on the call record."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from acd.models import CallRecord
from crm_bridge.models import Ticket
from crm_bridge.tickets import service
from crm_bridge.tickets.draft import TicketDraft
from foundation.db import Database, utcnow
from tests.conftest import csrf_token, login

CALLER = "5550100"


def _call(db: Database, uniqueid: str, agent: str, *, answered: bool = True,
          outcome: str | None = None, ago_s: float = 60) -> None:
    now = utcnow()
    with db.session() as s:
        s.add(CallRecord(uniqueid=uniqueid, caller_number=CALLER, caller_name="ANA DIAZ",
                         queue="citywide", entered_at=now - timedelta(seconds=ago_s + 20),
                         answered_at=now - timedelta(seconds=ago_s) if answered else None,
                         agent=agent if answered else None, wait_s=20.0, outcome=outcome))


def _post(c: Any, path: str, data: Any) -> Any:
    if isinstance(data, dict):
        data = {**data, "csrf_token": csrf_token(c, "/agent/desktop")}
    else:
        data.append(("csrf_token", csrf_token(c, "/agent/desktop")))
    return c.post(path, data=data)


def test_screen_pop_intake_and_wrapup(app: Any, catalog: Database,
                                      users: dict[str, str]) -> None:
    with catalog.session() as s:
        earlier = service.open_ticket(
            s, TicketDraft(
                "missed-collection", phone="555-0100",
                attributes={"materials": ["trash"], "out_on_time": "yes"}, address="7 Hill Rd"
            )).number
        near = service.open_ticket(
            s, TicketDraft(
                "pothole", attributes={"size": "large"}, lat=40.7128, long=-74.0060,
                address="1 Main St"
            )).number
        far = service.open_ticket(
            s, TicketDraft(
                "pothole", attributes={"size": "large"}, lat=40.7300, long=-74.0060
            )).number
        service.open_ticket(
            s, TicketDraft(
                "rodents", attributes={"where": "street"}, address="8 Elm", phone="555 010 0999"
            ))  # someone else
    _call(catalog, "1700000000.1", "100", outcome="answered", ago_s=900)  # an earlier call
    _call(catalog, "1700000000.9", "101")  # another agent's live call
    c = app.test_client()
    login(c, users["agent"])  # agent1 is extension 100
    assert c.get("/api/v1/crm/desktop/pop").get_json()["call"] is None

    _call(catalog, "1700000001.2", "100")  # AgentConnect: the daemon writes the record
    pop = c.get("/api/v1/crm/desktop/pop").get_json()
    assert pop["agent"] == "100" and pop["call"]["uniqueid"] == "1700000001.2"
    assert pop["call"]["caller_number"] == CALLER
    assert [t["number"] for t in pop["earlier_tickets"]] == [earlier]
    assert pop["earlier_tickets"][0]["service_name"] == "Missed Trash Collection"
    page = c.get("/agent/desktop?service_code=pothole&lat=40.7129&long=-74.0061")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "ANA DIAZ 5550100" in html and earlier in html
    assert 'id="promise"' in html and "10 business days" in html and "expected by" in html
    assert "How big is the pothole?" in html and "Larger than a tyre" in html  # probing question
    assert near in html and far not in html  # duplicate suggestion by radius
    assert 'value="1700000001.2"' in html  # intake and wrap-up carry the live call
    card = c.get("/api/v1/crm/desktop/types/pothole").get_json()
    assert card["sla"] == "10 business days" and card["attributes"][0]["code"] == "size"
    nearby = c.get("/api/v1/crm/desktop/nearby?service_code=pothole&lat=40.7129&long=-74.0061")
    assert [n["number"] for n in nearby.get_json()] == [near]
    assert nearby.get_json()[0]["distance_m"] < 20

    form = {"service_code": "pothole", "call_uniqueid": "1700000001.2", "lat": "40.7129",
            "long": "-74.0061", "description": "same hole"}
    r = _post(c, "/agent/desktop/intake", form)  # the required question unanswered
    assert r.status_code == 400 and "is required" in r.get_data(as_text=True)
    r = _post(c, "/agent/desktop/intake", {**form, "attr.size": "large",
                                           "call_uniqueid": "1700000000.9"})
    assert r.status_code == 400  # not this agent's call
    with catalog.session() as s:
        assert len(s.scalars(select(Ticket)).all()) == 4  # refused intakes left nothing
    r = _post(c, "/agent/desktop/intake", {**form, "attr.size": "large", "duplicate_of": near,
                                           "notify_sms": "1"})
    assert r.status_code == 303
    with catalog.session() as s:
        call = s.scalar(select(CallRecord).where(CallRecord.uniqueid == "1700000001.2"))
        assert call is not None and call.ticket_number
        t = service.get_ticket(s, call.ticket_number)
        assert t.call_uniqueid == "1700000001.2" and t.phone == CALLER and t.channel == "phone"
        assert t.notify_sms and not t.notify_email
        assert t.parent is not None and t.parent.number == near and t.link_kind == "duplicate"
        new_number = t.number
    assert new_number in c.get("/agent/desktop").get_data(as_text=True)

    # a resident at the counter, while the call is still up: a walk-in, not on the call
    walk = {"service_code": "pothole", "attr.size": "large", "address": "9 Oak Ave",
            "call_uniqueid": "1700000001.2", "first_name": "Rosa"}
    r = _post(c, "/agent/desktop/intake", {**walk, "channel": "fax"})
    assert r.status_code == 400 and "walk-in or letter" in r.get_data(as_text=True)
    for channel in ("walk-in", "letter"):
        assert _post(c, "/agent/desktop/intake", {**walk, "channel": channel}).status_code == 303
    with catalog.session() as s:
        staff = s.scalars(select(Ticket).where(Ticket.first_name == "Rosa")
                          .order_by(Ticket.id)).all()
        assert [(t.channel, t.call_uniqueid, t.phone) for t in staff] == [
            ("walk-in", None, None), ("letter", None, None)]
        call = s.scalar(select(CallRecord).where(CallRecord.uniqueid == "1700000001.2"))
        assert call is not None and call.ticket_number == new_number  # the call keeps its own

    wrap = {"call_uniqueid": "1700000001.2"}
    assert _post(c, "/agent/desktop/wrapup", {**wrap, "call_type": "gossip"}).status_code == 400
    r = _post(c, "/agent/desktop/wrapup", {"call_uniqueid": "1700000000.9",
                                           "call_type": "information"})
    assert r.status_code == 400  # another agent's call
    r = _post(c, "/agent/desktop/wrapup", {**wrap, "call_type": "service_request",
                                           "ticket_number": "12345"})
    assert r.status_code == 400  # a mistyped ticket number is caught by the check digit
    r = _post(c, "/agent/desktop/wrapup", {**wrap, "call_type": "service_request"})
    assert r.status_code == 303
    with catalog.session() as s:
        call = s.scalar(select(CallRecord).where(CallRecord.uniqueid == "1700000001.2"))
        assert call is not None
        assert (call.call_type, call.ticket_number) == ("service_request", new_number)
        other = s.scalar(select(CallRecord).where(CallRecord.uniqueid == "1700000000.9"))
        assert other is not None and other.call_type is None

    # the call ends (the daemon sets the outcome): the pop empties, wrap-up stays possible
    with catalog.session() as s:
        s.execute(update(CallRecord).where(CallRecord.uniqueid == "1700000001.2")
                  .values(outcome="answered", ended_at=utcnow()))
    assert c.get("/api/v1/crm/desktop/pop").get_json()["call"] is None
    r = _post(c, "/agent/desktop/wrapup", {**wrap, "call_type": "complaint",
                                           "ticket_number": new_number})
    assert r.status_code == 303
    with catalog.session() as s:
        call = s.scalar(select(CallRecord).where(CallRecord.uniqueid == "1700000001.2"))
        assert call is not None and call.call_type == "complaint"


def test_caller_id_matches_a_typed_number(app: Any, catalog: Database,
                                          users: dict[str, str]) -> None:
    with catalog.session() as s:
        typed = service.open_ticket(
            s, TicketDraft(
                "rodents", attributes={"where": "street"}, address="8 Elm",
                phone="(555) 999-0000"
            )).number
    now = utcnow()
    with catalog.session() as s:  # Asterisk gives the caller ID in E.164
        s.add(CallRecord(uniqueid="1700000002.1", caller_number="+15559990000", queue="citywide",
                         entered_at=now, answered_at=now, agent="100"))
    c = app.test_client()
    login(c, users["agent"])
    pop = c.get("/api/v1/crm/desktop/pop").get_json()
    assert [t["number"] for t in pop["earlier_tickets"]] == [typed]


def test_desktop_is_for_agents(app: Any, catalog: Database, users: dict[str, str]) -> None:
    c = app.test_client()
    login(c, users["agency"])
    assert c.get("/agent/desktop").status_code == 403
    assert c.get("/api/v1/crm/desktop/pop").status_code == 403
    assert app.test_client().get("/api/v1/crm/desktop/pop").status_code == 401
