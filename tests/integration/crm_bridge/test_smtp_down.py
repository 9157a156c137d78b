"""The mail server down for ten minutes while tickets keep coming (issue #14 item 7b): every
notice waits, backing off, none is failed or lost, and once a real SMTP server (aiosmtpd)
is back on its port each one is delivered exactly once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from crm_bridge.config import CrmConfig
from crm_bridge.models import Notification
from crm_bridge.notify.delivery import deliver_pending
from crm_bridge.tickets import service
from crm_bridge.tickets.draft import TicketDraft
from foundation.db import Database
from tests.integration.crm_bridge.conftest import MONDAY_10AM as T0
from tests.integration.crm_bridge.conftest import Inbox

DOWN_MINUTES = 10


def notices(db: Database) -> list[Notification]:
    with db.session() as s:
        return list(s.scalars(select(Notification).order_by(Notification.id)))


def test_smtp_down_then_up_delivers_every_notice_once(catalog: Database, cfg: CrmConfig,
                                                      smtp: Inbox, settings: Any) -> None:
    smtp.stop()  # down: connections are refused
    residents = []
    for minute in range(DOWN_MINUTES):
        now = T0 + timedelta(minutes=minute)
        if minute % 2 == 0:  # a ticket every two minutes, each with a notice to its resident
            who = f"resident{minute}@example.org"
            residents.append(who)
            with catalog.session() as s:
                service.open_ticket(s, TicketDraft("streetlight-out", address=f"{minute} Elm",
                                                   email=who), now=now, config=cfg)
        assert deliver_pending(catalog, settings, now=now) == 0
    waiting = notices(catalog)
    assert len(waiting) == len(residents) == DOWN_MINUTES // 2
    for n in waiting:
        assert n.status == "pending" and n.attempts >= 1 and n.locked_until is None
        assert n.last_error and "refused" in n.last_error.lower()
    assert smtp.messages == []

    smtp.start()  # back on the same port
    later = T0 + timedelta(minutes=DOWN_MINUTES, hours=1)  # past the longest backoff
    assert deliver_pending(catalog, settings, now=later) == len(residents)
    assert deliver_pending(catalog, settings, now=later + timedelta(hours=1)) == 0
    assert {n.status for n in notices(catalog)} == {"sent"}
    assert sorted(m["To"] for m in smtp.messages) == sorted(residents)  # once each
