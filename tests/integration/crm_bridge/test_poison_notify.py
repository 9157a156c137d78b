"""One bad notification never stops the others: a stored address with a line break (a row from
before the edges checked addresses) claimed first in a batch with resident notices and an SLA
escalation; all the good ones reach a real SMTP server, the bad one is failed with its reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from crm_bridge.config import CrmConfig
from crm_bridge.models import Notification
from crm_bridge.notify.delivery import deliver_pending
from crm_bridge.tickets import service
from crm_bridge.tickets.draft import TicketDraft
from crm_bridge.tickets.sla import run_sla_checks
from foundation.db import Database
from tests.integration.crm_bridge.conftest import MONDAY_10AM as T0
from tests.integration.crm_bridge.conftest import Inbox

POISON = "eve@example.org\r\nBcc: everyone@example.org"
RESIDENTS = ["ana@example.org", "bo@example.org", "cy@example.org"]


def test_a_poison_notice_among_good_ones(catalog: Database, cfg: CrmConfig, smtp: Inbox,
                                         settings: Any) -> None:
    with catalog.session() as s:  # stored directly: the edges refuse such an address now
        s.add(Notification(kind="status", channel="email", recipient=POISON,
                           subject="311: request 1", body="x", next_attempt_at=T0,
                           created_at=T0))
        s.add(Notification(kind="status", channel="sms", recipient="+15550100", subject="",
                           body="x", next_attempt_at=T0, created_at=T0))  # SMS not set up
    with catalog.session() as s:
        for i, who in enumerate(RESIDENTS):
            due = service.open_ticket(s, TicketDraft("streetlight-out", address=f"{i} Oak Ave",
                                                     email=who), now=T0, config=cfg).due_at
    assert due is not None
    late = due + timedelta(hours=1)  # past due: a warning and an escalation per ticket
    assert run_sla_checks(catalog, cfg, now=late) == 3 * 2

    assert deliver_pending(catalog, settings, now=late) == 3 + 6
    for who in RESIDENTS:
        assert len(smtp.to(who)) == 1
    assert len(smtp.to("borough-engineer@dot.civic.example")) == 3  # the escalations
    assert not [m for m in smtp.messages if "everyone" in str(m)]  # nothing injected
    with catalog.session() as s:
        poison = s.scalars(select(Notification).where(Notification.recipient == POISON)).one()
        assert poison.status == "failed" and poison.attempts == 1  # no retry can help
        assert poison.last_error and "line breaks" in poison.last_error
        assert poison.locked_until is None
        sms_row = s.scalars(select(Notification).where(Notification.channel == "sms")).one()
        assert sms_row.status == "pending" and sms_row.attempts == 1 and sms_row.last_error
        assert sms_row.next_attempt_at > late  # backing off, failed after notify_max_attempts
        left = s.scalars(select(Notification).where(Notification.status == "pending")).all()
        assert [n.channel for n in left] == ["sms"]

    settings.notify_max_attempts = 2
    assert deliver_pending(catalog, settings, now=late + timedelta(hours=2)) == 0
    with catalog.session() as s:
        sms_row = s.scalars(select(Notification).where(Notification.channel == "sms")).one()
        assert sms_row.status == "failed" and sms_row.attempts == 2
    assert len(smtp.messages) == 3 + 6  # nothing sent twice


def test_a_poison_ticket_among_sla_checks(catalog: Database, cfg: CrmConfig, smtp: Inbox,
                                          settings: Any) -> None:
    from sqlalchemy import update

    from crm_bridge.models import ServiceType, Ticket, TicketEvent
    from crm_bridge.tickets.sla import CHECK_MAX

    with catalog.session() as s:
        poison = service.open_ticket(s, TicketDraft(
            "graffiti", attributes={"surface": "sign", "offensive": "no"}, address="1 Elm"),
            now=T0, config=cfg).number
        good = [service.open_ticket(s, TicketDraft("streetlight-out", address=f"{i} Oak"),
                                    now=T0, config=cfg) for i in range(2)]
        due = max(t.due_at for t in good if t.due_at)
    with catalog.session() as s:  # a service type whose SLA no longer reads (an old row)
        s.execute(update(ServiceType).where(ServiceType.code == "graffiti")
                  .values(sla_unit="fortnights"))
        s.execute(update(Ticket).where(Ticket.number == poison).values(sla_next_check_at=T0))
    late = due + timedelta(hours=1)
    assert run_sla_checks(catalog, cfg, now=late) == 2 * 2  # a warning and an escalation each
    deliver_pending(catalog, settings, now=late)
    assert len(smtp.to("borough-engineer@dot.civic.example")) == 2
    with catalog.session() as s:
        t = service.get_ticket(s, poison)
        assert t.sla_next_check_at is not None and t.sla_next_check_at > late
        [event] = s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id,
                                                      TicketEvent.kind == "sla_check_failed"))
        assert "fortnights" in event.text and not event.public
    for hours in range(1, CHECK_MAX):
        run_sla_checks(catalog, cfg, now=late + timedelta(days=hours))
    with catalog.session() as s:
        t = s.scalars(select(Ticket).where(Ticket.number == poison)).one()
        assert t.sla_next_check_at is None  # stopped, and says so
        texts = s.scalars(select(TicketEvent.text).where(
            TicketEvent.ticket_id == t.id, TicketEvent.kind == "sla_check_failed")).all()
        assert len(texts) == CHECK_MAX and "SLA checks stopped" in texts[-1]
