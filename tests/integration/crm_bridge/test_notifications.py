"""Resident and oversight email through a real SMTP server: create, SLA warning and escalation,
closure; a failed send is retried; SMS goes to a (local) Twilio-compatible REST endpoint."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from crm_bridge.config import CrmConfig
from crm_bridge.models import Notification, TicketEvent
from crm_bridge.notify.delivery import deliver_pending
from crm_bridge.tickets import service
from crm_bridge.tickets.draft import TicketDraft
from crm_bridge.tickets.sla import on_time_report, run_sla_checks
from foundation.db import Database
from tests.integration.crm_bridge.conftest import MONDAY_10AM as T0
from tests.integration.crm_bridge.conftest import Inbox

RESIDENT = "ana@example.org"


def test_create_escalate_close_emails(catalog: Database, cfg: CrmConfig, smtp: Inbox,
                                      settings: Any) -> None:
    with catalog.session() as s:
        t = service.open_ticket(
            s, TicketDraft(
                "streetlight-out", description="Dark corner", address="5 Oak Ave",
                email=RESIDENT
            ), now=T0, config=cfg)
        number = t.number
        due = t.due_at
    assert deliver_pending(catalog, settings, now=T0) == 1
    created = smtp.to(RESIDENT)[0]
    assert number in created["Subject"] and number in created.get_content()
    assert "Expected completion: Monday March 16, 2026" in created.get_content()

    # 8 of 10 business days (Thu 12th) -> warning to level 1; past due -> escalation to level 2
    assert run_sla_checks(catalog, cfg, now=T0 + timedelta(days=10)) == 1
    assert run_sla_checks(catalog, cfg, now=T0 + timedelta(days=10)) == 0  # idempotent
    assert due is not None
    assert run_sla_checks(catalog, cfg, now=due + timedelta(hours=1)) == 1
    deliver_pending(catalog, settings, now=due + timedelta(hours=1))
    warn = smtp.to("streets-supervisor@dot.civic.example")
    assert len(warn) == 1 and "75%" in warn[0]["Subject"]
    esc = smtp.to("borough-engineer@dot.civic.example")
    assert len(esc) == 1 and "Escalation (level 2)" in esc[0]["Subject"]
    assert "SLA breached" in esc[0].get_content()

    with catalog.session() as s:
        t = service.get_ticket(s, number)
        service.close(s, t, "dot1", "resolved", "Replaced the lamp head", config=cfg,
                      now=due + timedelta(days=1))
    deliver_pending(catalog, settings, now=due + timedelta(days=1))
    closed = smtp.to(RESIDENT)[-1]
    body = closed.get_content()
    assert "closed" in closed["Subject"] and "Replaced the lamp head" in body
    assert f"/crm/reopen/{number}?t=" in body and "within 7 days" in body
    with catalog.session() as s:
        kinds = [e.kind for e in s.scalars(select(TicketEvent).order_by(TicketEvent.id))]
        assert kinds.count("notified") == 4
        assert "sla_warning" in kinds and "escalated" in kinds
        report = on_time_report(s, T0, due + timedelta(days=30))
        assert report[0]["service_code"] == "streetlight-out" and report[0]["on_time"] == 0


def test_failed_send_is_retried(catalog: Database, cfg: CrmConfig, settings: Any) -> None:
    inbox = Inbox()  # not started yet: the SMTP server is down
    settings.smtp_host, settings.smtp_port = "127.0.0.1", inbox.port
    with catalog.session() as s:
        service.open_ticket(
            s, TicketDraft(
                "graffiti", attributes={"surface": "sign", "offensive": "yes"},
                address="9 Pine St", email=RESIDENT
            ), now=T0, config=cfg)
    assert deliver_pending(catalog, settings, now=T0) == 0
    with catalog.session() as s:
        n = s.scalars(select(Notification)).one()
        assert n.status == "pending" and n.attempts == 1 and n.last_error
        assert n.next_attempt_at > T0
    assert deliver_pending(catalog, settings, now=T0 + timedelta(seconds=5)) == 0  # backing off
    inbox.start()
    try:
        assert deliver_pending(catalog, settings, now=T0 + timedelta(minutes=5)) == 1
        assert len(inbox.to(RESIDENT)) == 1
    finally:
        inbox.stop()


def test_sms_through_twilio_rest(catalog: Database, settings: Any) -> None:
    from crm_bridge.config import from_settings
    from tests.support.fake_remote import serve_fake_twilio

    with serve_fake_twilio() as (base, received):
        settings.twilio_account_sid, settings.twilio_auth_token = "AC123", "tok"
        settings.twilio_from_number, settings.twilio_api_base = "+15550001111", base
        cfg = from_settings(settings)
        with catalog.session() as s:
            service.open_ticket(
                s, TicketDraft(
                    "pothole", attributes={"size": "small"}, address="1 Elm",
                    phone="+1 555 010 2030", notify_sms=True, notify_email=False
                ), config=cfg)
        assert deliver_pending(catalog, settings) == 1
    assert received[0]["To"] == "+15550102030" and "received" in received[0]["Body"]
    assert received[0]["auth"] == ("AC123", "tok")
