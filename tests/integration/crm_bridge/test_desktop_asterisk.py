"""The screen pop on a real call: SIPp caller -> 311 -> IVR -> queue -> agent 100's SIPp phone;
the daemon writes the call record at AgentConnect and the agent's desktop pops the caller with
the earlier tickets; when the call ends the pop clears and the wrap-up lands on that record."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from acd.models import CallRecord
from crm_bridge.tickets import service
from crm_bridge.tickets.draft import TicketDraft
from foundation.db import Database
from tests.conftest import csrf_token, login
from tests.support.pbx import DaemonProc, Pbx, wait_until

pytestmark = pytest.mark.asterisk
CALLER = "+12125550142"


def test_pop_follows_a_real_call(clean_pbx: Pbx, daemon: DaemonProc, catalog: Database,
                                 app: Any, users: dict[str, str]) -> None:
    with catalog.session() as s:
        earlier = service.open_ticket(
            s, TicketDraft(
                "noise-residential", phone="(212) 555-0142",
                attributes={"noise_type": "music", "ongoing": "yes"}, address="40 Bank St"
            )).number
    c = app.test_client()
    login(c, users["agent"])  # extension 100
    clean_pbx.add_agent("100", ["citywide"], ring_ms=300, talk_ms=8000)
    run = clean_pbx.call(calls=1, hold_ms=30000, caller_numbers=[CALLER])

    def popped() -> Any:
        p = c.get("/api/v1/crm/desktop/pop").get_json()
        return p if p["call"] else None

    pop = wait_until(popped, 25, what="the screen pop of the answered call")
    assert pop["call"]["caller_number"] == CALLER and pop["call"]["queue"] == "citywide"
    assert [t["number"] for t in pop["earlier_tickets"]] == [earlier]
    uid = pop["call"]["uniqueid"]

    result = run.wait(60)
    assert (result.successful, result.failed) == (1, 0)
    wait_until(lambda: c.get("/api/v1/crm/desktop/pop").get_json()["call"] is None, 10,
               what="the pop to clear after the hang-up")
    r = c.post("/agent/desktop/wrapup", data={"csrf_token": csrf_token(c, "/agent/desktop"),
                                              "call_uniqueid": uid, "call_type": "complaint",
                                              "ticket_number": earlier})
    assert r.status_code == 303
    with catalog.session() as s:
        rec = s.scalar(select(CallRecord).where(CallRecord.uniqueid == uid))
        assert rec is not None and rec.outcome == "answered" and rec.agent == "100"
        assert (rec.call_type, rec.ticket_number) == ("complaint", earlier)
