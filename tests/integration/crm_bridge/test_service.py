"""The ticket service on SQLite and PostgreSQL: lifecycle guards, cascade, transfer, SLA pause."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crm_bridge.config import CrmConfig
from crm_bridge.models import Notification, ServiceType, TicketEvent
from crm_bridge.public import InvalidTicketNumber, public_status
from crm_bridge.seed import seed_catalog
from crm_bridge.tickets import routing, service
from crm_bridge.tickets.checkdigit import is_valid, ticket_number
from crm_bridge.tickets.draft import TicketDraft
from crm_bridge.tickets.errors import CrmError, InvalidInput, NotFound
from crm_bridge.tickets.lifecycle import LifecycleError
from foundation.db import Database
from tests.integration.crm_bridge.conftest import MONDAY_10AM as T0


def _pothole(s, cfg, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("attributes", {"size": "large"})
    return service.open_ticket(
        s, TicketDraft(
            "pothole", description="deep hole", address="1 Main St", email="res@example.org",
            **kw
        ), now=T0, config=cfg)


def test_seed_is_idempotent(catalog: Database) -> None:
    with catalog.session() as s:
        lines = seed_catalog(s, None)
        assert lines == ["catalog: 0 created, 0 updated, 34 unchanged"]
        assert len(s.scalars(select(ServiceType)).all()) >= 20


def test_open_ticket_numbers_due_and_log(catalog: Database, cfg: CrmConfig) -> None:
    with catalog.session() as s:
        t = _pothole(s, cfg)
        assert t.number and is_valid(t.number) and len(t.number) == 9
        # 10 business days from Monday 10:00 -> Monday two weeks later 10:00 (NY, now EDT)
        assert t.due_at == T0 + timedelta(days=14, hours=-1)
        kinds = [e.kind for e in service.events(s, t)]
        assert kinds == ["created", "routed"]
        n = s.scalars(select(Notification)).one()
        assert t.number in n.body and "March 16, 2026" in n.body
        number = t.number
    with catalog.session() as s:
        st = public_status(s, number)
        assert st is not None and st.state == "received" and not st.closed
        assert st.service_name == "Pothole" and st.agency_name == "Department of Transportation"
        assert public_status(s, ticket_number(999_999)) is None
        with pytest.raises(InvalidTicketNumber):
            public_status(s, number[:-1] + str((int(number[-1]) + 1) % 10))
        with pytest.raises(InvalidTicketNumber):
            public_status(s, "12ab")


def test_open_ticket_validation(catalog: Database, cfg: CrmConfig) -> None:
    with catalog.session() as s:
        with pytest.raises(NotFound):
            service.open_ticket(s, TicketDraft("no-such"), config=cfg)
        with pytest.raises(InvalidInput) as exc:
            service.open_ticket(
                s, TicketDraft(
                    "pothole", attributes={"size": "huge"}
                ), config=cfg)
        assert exc.value.problems[0][0] == "size"
        with pytest.raises(InvalidInput):
            # size is required
            service.open_ticket(s, TicketDraft("pothole", attributes={}), config=cfg)
        with pytest.raises(InvalidInput):
            _pothole(s, cfg, lat=91.0, long=0.0)


def test_full_lifecycle_and_guards(catalog: Database, cfg: CrmConfig) -> None:
    with catalog.session() as s:
        t = _pothole(s, cfg)
        service.act(s, t, "acknowledge", "dot1", now=T0, config=cfg)
        with pytest.raises(LifecycleError) as exc:
            service.act(s, t, "assign", "dot1", now=T0, config=cfg)
        assert exc.value.code == "assignee_required"
        service.act(s, t, "assign", "dot1", assignee="Crew 7", now=T0, config=cfg)
        service.act(s, t, "start", "dot1", now=T0, config=cfg)
        due = t.due_at
        assert due is not None
        service.act(s, t, "hold", "dot1", comment="waiting for asphalt", now=T0, config=cfg)
        assert t.sla_next_check_at is None
        service.act(s, t, "resume", "dot1", now=T0 + timedelta(hours=2), config=cfg)
        assert t.due_at == due + timedelta(hours=2)  # clock paused for 2 business hours
        for reason, text, code in [(None, "patched", "reason_required"),
                                   ("resolved", "", "comment_required"),
                                   ("duplicate", "same pothole", "duplicate_needs_parent")]:
            with pytest.raises(LifecycleError) as exc:
                service.act(s, t, "close", "dot1", reason=reason, comment=text, now=T0, config=cfg)
            assert exc.value.code == code
        service.act(s, t, "close", "dot1", reason="resolved", comment="Patched with hot asphalt",
                    now=T0 + timedelta(days=1), config=cfg)
        assert t.wire_status == "closed" and t.resolution == "Patched with hot asphalt"
        with pytest.raises(LifecycleError):
            service.act(s, t, "start", "dot1", config=cfg)
        number = t.number
    with catalog.session() as s:
        # after the window: refused
        with pytest.raises(LifecycleError) as exc:
            service.reopen_by_resident(s, number, "still there", now=T0 + timedelta(days=9),
                                       config=cfg)
        assert exc.value.code == "reopen_window_passed"
    with catalog.session() as s:
        t = service.reopen_by_resident(s, number, "still a hole", now=T0 + timedelta(days=3),
                                       config=cfg)
        assert t.state == "reopened" and t.escalation_level == 1 and t.reopen_count == 1
        kinds = [e.kind for e in service.events(s, t)]
        assert kinds[-2:] == ["reopened", "escalated"]
        esc = s.scalars(select(Notification).where(Notification.kind == "escalation")).one()
        assert esc.recipient == "streets-supervisor@dot.civic.example"


def test_duplicate_cascade_and_child_guard(catalog: Database, cfg: CrmConfig) -> None:
    with catalog.session() as s:
        parent = _pothole(s, cfg)
        dup = _pothole(s, cfg, phone="555-0100")
        other = service.open_ticket(
            s, TicketDraft(
                "catch-basin-clogged", attributes={"flooding_now": "yes"}, address="1 Main St"
            ), now=T0, config=cfg)
        routing.link(s, dup, parent, "duplicate", "agent1", now=T0)
        routing.link(s, other, parent, "child", "agent1", now=T0)
        with pytest.raises(LifecycleError) as exc:
            routing.link(s, parent, dup, "duplicate", "agent1", now=T0)
        assert exc.value.code == "link_chain"
        with pytest.raises(LifecycleError) as exc:
            service.close(s, parent, "dot1", "resolved", "Patched it", now=T0, config=cfg)
        assert exc.value.code == "open_children"
        service.close(s, other, "dep1", "resolved", "Basin cleaned", now=T0, config=cfg)
        service.close(s, parent, "dot1", "resolved", "Patched it", now=T0, config=cfg)
        assert dup.state == "closed" and dup.closure_reason == "duplicate"
        assert parent.number in (dup.resolution or "")


def test_transfer(catalog: Database, cfg: CrmConfig) -> None:
    with catalog.session() as s:
        t = _pothole(s, cfg)
        service.act(s, t, "start", "dot1", now=T0, config=cfg)
        with pytest.raises(CrmError):
            routing.transfer(s, t, "DOT", "dot1")
        with pytest.raises(NotFound):
            routing.transfer(s, t, "NOPE", "dot1")
        routing.transfer(s, t, "DEP", "dot1", "sewer collapse under the road", config=cfg)
        assert t.agency.code == "DEP" and t.state == "new" and t.assignee is None
        ev = s.scalars(select(TicketEvent).where(TicketEvent.kind == "transferred")).one()
        assert ev.text.startswith("DOT → DEP")
