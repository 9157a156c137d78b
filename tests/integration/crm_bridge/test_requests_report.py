"""The service-request report over seeded history: every figure equals a count straight
from the tickets and their history, for the center and for one agency's worker (who sees
nothing of the others); bad periods are clear 400s."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from center.history import HistoryOptions, seed_history
from center.seed import seed_demo
from crm_bridge.models import Ticket, TicketEvent
from crm_bridge.tickets.backlog import band
from foundation.db import utcnow
from tests.conftest import login

PAST = HistoryOptions(months=1.5, volume=20, tickets_per_day=10, seed=4, plan=False)


def independent(db, t0, t1, now, agency=None):  # type: ignore[no-untyped-def]
    with db.session() as s:
        every = s.scalars(sa.select(Ticket).options(
            selectinload(Ticket.agency), selectinload(Ticket.service_type),
            selectinload(Ticket.districts)))
        tickets = [t for t in every if t.number and (
            agency is None or t.agency.code == agency)]
        ids = {t.id for t in tickets}
        events = [e for e in s.scalars(sa.select(TicketEvent).where(
            TicketEvent.kind.in_(("reopened", "escalated")))) if e.ticket_id in ids]
        rows = Counter()
        for t in tickets:
            if t.state != "closed":
                rows[(t.agency.name, t.service_type.name, band(t.due_at, now))] += 1
        received = [t for t in tickets if t0 <= t.requested_at < t1]
        closed = [t for t in tickets if t.closed_at and t0 <= t.closed_at < t1]
        return {
            "backlog": rows,
            "channels": Counter(t.channel for t in received),
            "districts": Counter((d.layer, d.code) for t in received for d in t.districts),
            "types": Counter(t.service_type.name for t in received),
            "total": len(received), "closed": len(closed),
            "on_time": sum(1 for t in closed if t.due_at and t.closed_at <= t.due_at),
            "reopened": len({e.ticket_id for e in events if e.kind == "reopened"
                             and t0 <= e.at < t1}),
            "escalated": len({e.ticket_id for e in events if e.kind == "escalated"
                              and t0 <= e.at < t1})}


def check(doc, want) -> None:  # type: ignore[no-untyped-def]
    got_backlog = Counter()
    for r in doc["backlog"]:
        for b in ("not due", "0-1", "2-7", "8-30", "30+"):
            if r[b]:
                got_backlog[(r["agency_name"], r["service_name"], b)] += r[b]
        assert r["open"] == sum(r[b] for b in ("not due", "0-1", "2-7", "8-30", "30+"))
    assert got_backlog == want["backlog"]
    assert doc["received"]["channels"] == dict(want["channels"])
    assert doc["received"]["total"] == want["total"]
    by_district = doc["received"]["districts"]
    assert Counter({(layer, x["code"]): x["count"] for layer, d in by_district.items()
                    for x in d["districts"]}) == want["districts"]
    for layer, d in by_district.items():  # each layer accounts for every request
        assert d["outside"] + sum(x["count"] for x in d["districts"]) == want["total"], layer
    top = doc["received"]["top_types"]
    assert [t["count"] for t in top] == sorted(want["types"].values(), reverse=True)[:10]
    assert all(want["types"][t["service_name"]] == t["count"] for t in top)
    o = doc["outcomes"]
    assert (o["closed"], o["on_time"], o["reopened"], o["escalated"]) == (
        want["closed"], want["on_time"], want["reopened"], want["escalated"])


def test_request_report_equals_the_tickets(settings, database, app, users) -> None:  # type: ignore[no-untyped-def]
    list(seed_demo(settings, database))
    list(seed_history(settings, database, PAST))
    tz = ZoneInfo(settings.timezone)
    today = utcnow().astimezone(tz).date()
    start = today - timedelta(days=40)
    t0, t1 = (datetime.combine(d, time(), tz) for d in (start, today + timedelta(days=1)))
    url = f"/crm/reports/requests?from={start}&to={today}"

    manager = app.test_client()
    login(manager, users["manager"])
    doc = manager.get(url + "&format=json").get_json()
    want = independent(database, t0, t1, utcnow())
    assert want["total"] > 50 and want["closed"] > 20 and want["backlog"]  # a real past
    assert {layer for layer, _ in want["districts"]} == {"council_district", "sanitation_zone"}
    check(doc, want)
    page = manager.get(url).get_data(as_text=True)
    assert 'id="backlog"' in page and "days" in page and "<svg" in page
    assert 'data-layer="council_district"' in page and "Council District 1" in page

    worker = app.test_client()  # the DSNY worker sees DSNY only
    login(worker, users["agency"])
    mine = worker.get(url + "&format=json").get_json()
    assert mine["agency"] == "DSNY"
    check(mine, independent(database, t0, t1, utcnow(), "DSNY"))
    assert {r["agency"] for r in mine["backlog"]} <= {"DSNY"}

    agent = app.test_client()
    login(agent, users["agent"])
    assert agent.get(url).status_code == 403
    assert manager.get("/crm/reports/requests?from=2026-02-30").status_code == 400
    assert manager.get(f"/crm/reports/requests?from={today}&to={start}").status_code == 400
    assert manager.get("/crm/reports/requests?from=0001-01-01").status_code == 400


def test_ageing_bands() -> None:
    now = datetime(2026, 3, 10, 12, 0, tzinfo=ZoneInfo("UTC"))
    assert band(None, now) == band(now + timedelta(hours=1), now) == "not due"
    assert band(now - timedelta(hours=30), now) == "0-1"
    assert band(now - timedelta(days=2), now) == "2-7"
    assert band(now - timedelta(days=7, hours=23), now) == "2-7"
    assert band(now - timedelta(days=8), now) == "8-30"
    assert band(now - timedelta(days=31), now) == "30+"
    assert date(2026, 3, 10) == now.date()
