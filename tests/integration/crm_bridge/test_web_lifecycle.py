"""The full ticket lifecycle driven through the agency worker's pages and through the staff JSON
API, with every guard: close without a resolution refused, reopen after the window refused
(staff and the resident's link), duplicate cascade, transfer, agency scoping, CSRF."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from crm_bridge.config import from_settings
from crm_bridge.models import Notification, Ticket
from crm_bridge.tickets import service
from crm_bridge.tickets.draft import TicketDraft
from foundation.db import Database, utcnow
from tests.conftest import csrf_token, login

GRAFFITI = {"surface": "building", "offensive": "no"}


@pytest.fixture
def worker(app: Any, catalog: Database, users: dict[str, str]) -> Any:
    c = app.test_client()
    assert login(c, users["agency"]).status_code == 302  # agency1 works for DSNY
    return c


def _open(db: Database, code: str = "graffiti", **kw: Any) -> str:
    kw.setdefault("attributes", GRAFFITI if code == "graffiti" else {"size": "small"})
    kw.setdefault("address", "10 Canal St")
    with db.session() as s:
        return str(service.open_ticket(s, TicketDraft(code, email="res@example.org", **kw)).number)


def _state(db: Database, number: str) -> Ticket:
    with db.session() as s:
        return service.get_ticket(s, number)


def _post(c: Any, path: str, **data: str) -> Any:
    return c.post(path, data={"csrf_token": csrf_token(c, "/crm/queue"), **data})


def _age_closure(db: Database, number: str, days: float) -> None:
    with db.session() as s:
        s.execute(update(Ticket).where(Ticket.number == number)
                  .values(closed_at=utcnow() - timedelta(days=days)))


def test_worker_pages_full_lifecycle(worker: Any, catalog: Database, app: Any) -> None:
    mine, dup = _open(catalog), _open(catalog, address=" 10  canal st")
    other = _open(catalog, "pothole")  # DOT's: not in a DSNY worker's queue
    page = worker.get("/crm/queue").get_data(as_text=True)
    assert mine in page and dup in page and other not in page
    assert worker.get(f"/crm/tickets/{other}").status_code == 404
    assert worker.get("/crm/tickets/12345").status_code == 400  # check digit fails

    t = f"/crm/tickets/{mine}"
    assert "Possible duplicates nearby" in worker.get(t).get_data(as_text=True)
    assert _post(worker, f"{t}/act", action="acknowledge").status_code == 302
    r = _post(worker, f"{t}/act", action="assign")
    assert r.status_code == 409 and 'data-code="assignee_required"' in r.get_data(as_text=True)
    assert _state(catalog, mine).state == "acknowledged"
    for data in ({"action": "assign", "assignee": "Crew 4"}, {"action": "start"},
                 {"action": "hold", "comment": "Waiting for the owner's consent"},
                 {"action": "resume"}):
        assert _post(worker, f"{t}/act", **data).status_code == 302, data
    assert _post(worker, f"{t}/act", action="explode").status_code == 400
    r = _post(worker, f"{t}/act", action="resume")
    assert r.status_code == 409 and "cannot resume" in r.get_data(as_text=True)

    # the duplicate is linked under it; a CSRF-less post changes nothing
    assert worker.post(f"/crm/tickets/{dup}/link", data={"parent": mine}).status_code == 400
    assert _state(catalog, dup).parent_id is None
    assert _post(worker, f"/crm/tickets/{dup}/link", parent=mine, kind="duplicate"
                 ).status_code == 302
    assert dup in worker.get(t).get_data(as_text=True)

    # closed means closed: no resolution, no closure
    r = _post(worker, f"{t}/act", action="close", reason="resolved", comment="")
    assert r.status_code == 409 and 'data-code="comment_required"' in r.get_data(as_text=True)
    assert _state(catalog, mine).state == "in_progress"
    r = _post(worker, f"{t}/act", action="close", reason="resolved",
              comment="Graffiti removed with pressure washer")
    assert r.status_code == 302
    page = worker.get(t).get_data(as_text=True)
    assert 'id="state">closed<' in page and "pressure washer" in page
    d = _state(catalog, dup)
    assert d.state == "closed" and d.closure_reason == "duplicate"  # the cascade

    # reopen: refused after the window, allowed within it
    _age_closure(catalog, mine, 30)
    r = _post(worker, f"{t}/reopen", comment="still there")
    assert r.status_code == 409 and "reopen_window_passed" in r.get_data(as_text=True)
    assert _state(catalog, mine).state == "closed"
    _age_closure(catalog, mine, 1)
    assert _post(worker, f"{t}/reopen", comment="paint shows through").status_code == 302
    assert _state(catalog, mine).state == "reopened"

    # transfer: it leaves the DSNY queue and the DSNY worker's sight
    assert _post(worker, f"{t}/transfer", agency="NOPE").status_code == 404
    assert _post(worker, f"{t}/transfer", agency="DSNY").status_code == 409
    assert _post(worker, f"{t}/transfer", agency="DOB", comment="structural damage"
                 ).status_code == 302
    assert worker.get(t).status_code == 404 and mine not in worker.get("/crm/queue").get_data(
        as_text=True)
    with catalog.session() as s:
        tt = service.get_ticket(s, mine)
        assert tt.agency.code == "DOB" and tt.state == "new"
        kinds = [(e.kind, e.actor) for e in service.events(s, tt)]
    assert ("transferred", "agency1") in kinds and ("closed", "agency1") in kinds
    assert ("linked", "agency1") in kinds and ("reopened", "agency1") in kinds


def test_comment_and_agency_without_scope(app: Any, catalog: Database,
                                          users: dict[str, str]) -> None:
    number = _open(catalog, "pothole")
    sup = app.test_client()
    login(sup, users["supervisor"])
    assert number in sup.get("/crm/queue?agency=DOT").get_data(as_text=True)
    assert number not in sup.get("/crm/queue?agency=DSNY").get_data(as_text=True)
    assert _post(sup, f"/crm/tickets/{number}/comment", text="   ").status_code == 400
    assert _post(sup, f"/crm/tickets/{number}/comment", text="Crew inspected",
                 internal="1").status_code == 302
    assert _state(catalog, number).status_notes is None  # internal: not for the resident
    qa = app.test_client()
    login(qa, users["qa"])
    assert qa.get("/crm/queue").status_code == 403


def test_resident_reopen_link(app: Any, catalog: Database, settings: Any) -> None:
    number = _open(catalog)
    cfg = from_settings(settings)
    with catalog.session() as s:
        service.close(s, service.get_ticket(s, number), "agency1", "resolved", "Painted over",
                      config=cfg)
    link = cfg.reopen_url(number).removeprefix((cfg.public_base_url or "").rstrip("/"))
    with catalog.session() as s:  # the closure email carries exactly this link
        body = s.scalars(select(Notification.body).where(Notification.kind == "closed")).one()
    assert link in body
    c = app.test_client()
    assert c.get(f"/crm/reopen/{number}?t=forged").status_code == 403
    page = c.get(link).get_data(as_text=True)
    assert "Painted over" in page and "reopen" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    sig = link.split("t=")[1]
    _age_closure(catalog, number, 30)
    r = c.post(f"/crm/reopen/{number}", data={"csrf_token": token, "t": sig, "text": "no"})
    assert r.status_code == 409 and "only within 14 days" in r.get_data(as_text=True)
    assert _state(catalog, number).state == "closed"
    _age_closure(catalog, number, 2)
    r = c.post(f"/crm/reopen/{number}", data={"csrf_token": token, "t": sig,
                                              "text": "the paint is still there"})
    assert r.status_code == 200 and 'id="done"' in r.get_data(as_text=True)
    t = _state(catalog, number)
    assert t.state == "reopened" and t.escalation_level == 1


# ---- the same lifecycle through the JSON API ---------------------------------------------------
def _api(c: Any, path: str, **body: Any) -> Any:
    return c.post(f"/api/v1/crm{path}", json=body,
                  headers={"X-CSRFToken": csrf_token(c, "/crm/queue")})


def test_api_full_lifecycle(app: Any, catalog: Database, users: dict[str, str]) -> None:
    sup = app.test_client()
    login(sup, users["supervisor"])
    r = _api(sup, "/tickets", service_code="graffiti", attributes=GRAFFITI,
             address="3 Bay St", description="tags on the wall", phone="555 0100")
    assert r.status_code == 201, r.get_json()
    parent = r.get_json()["number"]
    assert r.get_json()["state"] == "new" and r.get_json()["agency"] == "DSNY"
    bad = _api(sup, "/tickets", service_code="graffiti", attributes={"surface": "moon"},
               address="3 Bay St")
    assert bad.status_code == 400 and bad.get_json()["error"] == "attribute_invalid"
    assert _api(sup, "/tickets", service_code="nope").status_code == 404
    child = _api(sup, "/tickets", service_code="graffiti", attributes=GRAFFITI,
                 address="3 Bay St").get_json()["number"]

    assert _api(sup, f"/tickets/{parent}/actions", action="start").status_code == 200
    r = _api(sup, f"/tickets/{parent}/actions", action="close", reason="resolved")
    assert r.status_code == 409 and r.get_json()["error"] == "comment_required"
    r = _api(sup, f"/tickets/{parent}/actions", action="close", comment="Washed off")
    assert r.status_code == 409 and r.get_json()["error"] == "reason_required"
    assert sup.get(f"/api/v1/crm/tickets/{parent}").get_json()["state"] == "in_progress"

    r = _api(sup, f"/tickets/{child}/link", parent=parent, kind="duplicate")
    assert r.status_code == 200 and r.get_json()["parent"] == parent
    assert _api(sup, f"/tickets/{parent}/link", parent=child).get_json()["error"] == \
        "link_chain"
    r = _api(sup, f"/tickets/{parent}/actions", action="close", reason="resolved",
             comment="Washed off the wall")
    assert r.status_code == 200 and r.get_json()["status"] == "closed"
    c = sup.get(f"/api/v1/crm/tickets/{child}").get_json()
    assert c["state"] == "closed" and c["closure_reason"] == "duplicate"
    assert parent in c["resolution"]

    _age_closure(catalog, parent, 20)
    r = _api(sup, f"/tickets/{parent}/actions", action="reopen", comment="back again")
    assert r.status_code == 409 and r.get_json()["error"] == "reopen_window_passed"
    r = _api(sup, f"/tickets/{parent}/actions", action="reopen", comment="back again",
             override=True)  # a supervisor may override the window
    assert r.status_code == 200 and r.get_json()["state"] == "reopened"

    assert _api(sup, f"/tickets/{parent}/transfer", agency="DSNY").status_code == 409
    r = _api(sup, f"/tickets/{parent}/transfer", agency="DEP", comment="it is a sewer")
    assert r.status_code == 200 and r.get_json()["agency"] == "DEP"
    assert _api(sup, f"/tickets/{parent}/comments", text="Called the resident",
                public=False).status_code == 200
    full = sup.get(f"/api/v1/crm/tickets/{parent}").get_json()
    kinds = [e["kind"] for e in full["events"]]
    for k in ("created", "routed", "status", "linked", "closed", "reopened", "transferred",
              "commented"):
        assert k in kinds, k

    # an agency worker sees and changes only the own agency's tickets
    dsny = app.test_client()
    login(dsny, users["agency"])
    assert dsny.get(f"/api/v1/crm/tickets/{parent}").status_code == 404
    r = _api(dsny, f"/tickets/{parent}/actions", action="start")
    assert r.status_code == 404
    assert [t["number"] for t in dsny.get("/api/v1/crm/tickets").get_json()] == []
    assert dsny.post(f"/api/v1/crm/tickets/{child}/comments", json={"text": "x"}
                     ).status_code == 400  # no CSRF token
    anon = app.test_client()
    assert anon.get(f"/api/v1/crm/tickets/{parent}").status_code == 401


def test_pages_reachable_by_role(app: Any, catalog: Database, users: dict[str, str]) -> None:
    number = _open(catalog)
    seen = {}
    for role, path, status, text in [
        ("agency", "/", 200, "/crm/queue"),
        ("agent", "/", 200, "/agent/desktop"),
        ("agent", "/crm/queue", 200, number),
        ("manager", "/crm/queue", 403, ""),
        ("manager", "/crm/reports/sla", 200, "On-time closure"),
        ("admin", "/crm/admin/", 200, "Service catalog"),
        ("admin", "/crm/admin/service-types/new", 200, "New service type"),
        ("admin", "/crm/admin/service-types/pothole", 200, "How big is the pothole?"),
        ("admin", "/crm/admin/agencies/new", 200, "New agency"),
        ("admin", "/crm/admin/agencies/DSNY", 200, "Sanitation District Supervisor"),
        ("admin", "/agent/desktop", 200, "no phone extension"),
        ("admin", f"/crm/tickets/{number}", 200, "Graffiti"),
        ("supervisor", "/crm/admin/", 403, ""),
    ]:
        if role not in seen:
            seen[role] = app.test_client()
            login(seen[role], users[role])
        r = seen[role].get(path)
        assert r.status_code == status, (role, path, r.status_code)
        assert text in r.get_data(as_text=True), (role, path)
