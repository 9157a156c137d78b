"""Call search and the call timeline: one page shows a call's whole life, each capability's
part from its own tables, and the recording only to the roles that may hear it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from acd.models import CallRecord, RingAttempt
from crm_bridge.models import Agency, ServiceType, Ticket
from foundation.db import Database
from ivr.models import IvrCall
from recordings.models import Recording, SurveyResponse
from tests import conftest as c

T0 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # 10:00 in New York


def seed(db: Database) -> None:
    with db.session() as s:
        call = CallRecord(uniqueid="1773151200.7", queue="citywide", entered_at=T0,
                          caller_number="+12125550123", position=2, ivr_path="menu:2",
                          answered_at=T0 + timedelta(seconds=40),
                          ended_at=T0 + timedelta(seconds=340), wait_s=40.0, talk_s=300.0,
                          hold_s=25.0, acw_s=30.0, agent="101", outcome="answered",
                          hangup_side="caller", call_type="service_request",
                          ticket_number="311-000123", source="ami")
        call.rings = [RingAttempt(agent="100", ring_ms=15000, outcome="noanswer",
                                  at=T0 + timedelta(seconds=10)),
                      RingAttempt(agent="101", ring_ms=4000, outcome="connected",
                                  at=T0 + timedelta(seconds=40))]
        s.add(call)
        s.add(CallRecord(uniqueid="1773151900.9", queue="sanitation",
                         entered_at=T0 + timedelta(minutes=12), caller_number="+17185550999",
                         wait_s=61.0, outcome="abandoned", source="ami"))
        s.add(IvrCall(uniqueid="1773151200.7", caller_number="+12125550123",
                      started_at=T0 - timedelta(seconds=30), ended_at=T0, language="es",
                      option="2", ivr_path="menu:2", lookups=1, queue="citywide",
                      outcome="queued"))
        agency = Agency(code="DSNY", name="Sanitation")
        s.add(agency)
        s.flush()
        kind = ServiceType(code="missed-pickup", name="Missed pickup", agency_id=agency.id)
        s.add(kind)
        s.flush()
        s.add(Ticket(number="311-000123", token="t" * 32, service_type_id=kind.id,
                     agency_id=agency.id, state="new", call_uniqueid="1773151200.7",
                     requested_at=T0 + timedelta(seconds=200)))
        s.add(Recording(uniqueid="1773151200.7", queue="citywide", agent="101",
                        started_at=T0 + timedelta(seconds=41), status="ready",
                        duration_s=299.0))
        s.add(SurveyResponse(uniqueid="1773151200.7", queue="citywide", agent="101", score=4,
                             at=T0 + timedelta(seconds=360)))


def page(app: Any, user: str, url: str) -> tuple[int, str]:
    client = app.test_client()
    c.login(client, user)
    res = client.get(url)
    return res.status_code, res.get_data(as_text=True)


def test_search_finds_calls_by_caller_ticket_agent_queue_and_time(
        app: Any, database: Database, users: dict[str, str]) -> None:
    seed(database)

    def found(query: str) -> list[str]:
        status, body = page(app, users["supervisor"], f"/calls?{query}")
        assert status == 200, body
        return re.findall(r'data-uniqueid="([^"]+)"', body)

    assert found("") == ["1773151900.9", "1773151200.7"]  # the last day, newest first
    assert found("caller=(212)%20555-0123") == ["1773151200.7"]
    assert found("ticket=311-000123") == ["1773151200.7"]
    assert found("agent=101") == ["1773151200.7"]
    assert found("queue=sanitation") == ["1773151900.9"]
    assert found("from=2026-03-10T10:05&to=2026-03-10") == ["1773151900.9"]  # city time
    assert found("from=2026-03-11") == []
    assert page(app, users["supervisor"], "/calls?from=soon")[0] == 400
    assert page(app, users["supervisor"], "/calls?caller=abc")[0] == 400


def test_the_timeline_shows_the_whole_life_in_order(app: Any, database: Database,
                                                   users: dict[str, str]) -> None:
    seed(database)
    status, body = page(app, users["supervisor"], "/calls/1773151200.7")
    assert status == 200
    steps = re.findall(r"<li>(.*?)</li>", body.split('id="timeline"')[1], re.S)
    text = [re.sub(r"<[^>]+>", "", s).strip() for s in steps]
    order = ["reached the menu", "entered queue citywide at position 2",
             "rang agent 100 for 15 s; did not answer", "answered by agent 101 after 40 s",
             "recording ready", "opened request 311-000123", "ended: answered, caller hung up",
             "post-call survey: 4 of 5", "on hold 25 s", "wrap-up: service_request"]
    positions = [next(i for i, t in enumerate(text) if o in t) for o in order]
    assert positions == sorted(positions), text
    assert 'href="/recordings/' in body and 'href="/crm/tickets/311-000123"' in body
    assert "Missed pickup · Sanitation · new" in body and "Language" in body


def test_roles_see_what_they_may(app: Any, database: Database, users: dict[str, str]) -> None:
    seed(database)
    status, body = page(app, users["manager"], "/calls/1773151200.7")
    assert status == 200
    assert 'href="/recordings/' not in body and "may not hear recordings" in body
    for role in ("agent", "agency"):
        assert page(app, users[role], "/calls")[0] == 403
        assert page(app, users[role], "/calls/1773151200.7")[0] == 403
    assert page(app, users["supervisor"], "/calls/nope")[0] == 404
