"""The bridge to an external CRM: another city's Open311 endpoint (a second civic311 app on
a real local HTTP server, its own database) is down for the first N posts and loses one
answer; every ticket still arrives exactly once, and the remote's closures come back."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from center import schema
from crm_bridge.config import CrmConfig
from crm_bridge.models import Agency, OutboxItem, Ticket, TicketEvent
from crm_bridge.open311.apikeys import create_key
from crm_bridge.outbox.delivery import process_outbox
from crm_bridge.outbox.polling import poll_remote
from crm_bridge.outbox.senders import Open311Sender
from crm_bridge.seed import seed_catalog
from crm_bridge.tickets import service
from crm_bridge.tickets.draft import TicketDraft
from foundation.db import Database
from foundation.settings import load_settings
from tests.integration.crm_bridge.conftest import MONDAY_10AM as T0
from tests.support.fake_remote import Flaky, serve

DOWN = 4  # the first four POSTs find the remote down
TICKETS = 3


def _remote(tmp_path: Path) -> tuple[Any, Database, str]:
    from center.web import create_app

    db = Database(f"sqlite:///{tmp_path / 'remote.db'}")
    schema.upgrade(db)
    with db.session() as s:
        seed_catalog(s, None)
        key = create_key(s, "civic-city-311")
    settings = load_settings(data_dir=str(tmp_path / "remote-data"), database_url=db.url)
    return create_app(settings, db), db, key


def test_remote_down_then_up_delivers_each_ticket_once(catalog: Database, cfg: CrmConfig,
                                                       tmp_path: Path) -> None:
    remote_app, remote_db, key = _remote(tmp_path)
    flaky = Flaky(remote_app, down=DOWN, lose=DOWN + 2)  # 6th post: processed, answer lost
    with serve(flaky) as base:
        with catalog.session() as s:
            dohmh = s.scalar(select(Agency).where(Agency.code == "DOHMH"))
            assert dohmh is not None
            dohmh.external_kind, dohmh.external_url = "open311", base + "/open311/v2"
            dohmh.external_api_key = key
        numbers = []
        with catalog.session() as s:
            for i in range(TICKETS):
                t = service.open_ticket(
                    s, TicketDraft(
                        "rodents", attributes={"where": "street"}, address=f"{i} Rat Alley",
                        description=f"rats {i}"
                    ), now=T0, config=cfg)
                numbers.append(t.number)
            assert s.scalar(select(func.count()).select_from(OutboxItem)) == TICKETS

        senders = {"open311": Open311Sender()}
        now, rounds = T0, 0
        while True:
            process_outbox(catalog, senders, now=now)
            with catalog.session() as s:
                pending = s.scalar(select(func.count()).select_from(OutboxItem)
                                   .where(OutboxItem.status != "sent"))
            if not pending:
                break
            rounds += 1
            assert rounds < 20, s.scalars(select(OutboxItem.last_error)).all()
            # nothing is retried before its backoff is over
            assert process_outbox(catalog, senders, now=now + timedelta(seconds=1)) == 0
            now += timedelta(hours=1)
        assert flaky.posts == DOWN + TICKETS + 1  # one retry of the lost answer

        with remote_db.session() as s:
            remote = {t.number: t for t in s.scalars(select(Ticket))}
        assert len(remote) == TICKETS  # exactly once, the lost answer did not duplicate
        assert sorted(t.description for t in remote.values()) == ["rats 0", "rats 1", "rats 2"]
        with catalog.session() as s:
            items = s.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()
            assert {i.remote_id for i in items} == set(remote)
            assert all(i.status == "sent" and i.last_error is None for i in items)
            assert max(i.attempts for i in items) >= 2
            routed = s.scalars(select(TicketEvent.text).where(TicketEvent.kind == "routed",
                                                              TicketEvent.actor == "system")
                               ).all()
            assert sum("delivered to DOHMH (open311)" in r for r in routed) == TICKETS
            first_remote = items[0].remote_id

        # the remote closes one; polling by updated_after brings the closure back
        with remote_db.session() as s:
            rt = service.get_ticket(s, first_remote)
            service.close(s, rt, "inspector", "resolved", "Baited the burrows")
        assert poll_remote(catalog, cfg) == 1
        assert poll_remote(catalog, cfg) == 0  # the cursor moved on: nothing applied twice
        with catalog.session() as s:
            local = service.get_ticket(s, numbers[0])
            assert local.state == "closed" and local.resolution == "Baited the burrows"
            others = [service.get_ticket(s, n).state for n in numbers[1:]]
            assert others == ["new", "new"]
    remote_db.dispose()


def test_email_destination_waits_for_smtp(catalog: Database, cfg: CrmConfig,
                                          settings: Any) -> None:
    """An agency without a system gets its tickets by email; SMTP down delays, never loses."""
    from crm_bridge.outbox.senders import default_senders
    from tests.integration.crm_bridge.conftest import Inbox

    inbox = Inbox()  # not started: the mail server is down
    settings.smtp_host, settings.smtp_port = "127.0.0.1", inbox.port
    to = "work-orders@parks.civic.example"
    with catalog.session() as s:
        dpr = s.scalar(select(Agency).where(Agency.code == "DPR"))
        assert dpr is not None
        dpr.external_kind, dpr.external_email = "email", to
    with catalog.session() as s:
        number = service.open_ticket(
            s, TicketDraft(
                "tree-down", attributes={"wires": "no"}, address="Park Ave & 5th",
                description="oak across path"
            ), now=T0, config=cfg).number
    senders = default_senders(settings, cfg)
    assert process_outbox(catalog, senders, now=T0) == 0
    with catalog.session() as s:
        item = s.scalars(select(OutboxItem)).one()
        assert item.status == "pending" and item.attempts == 1 and item.last_error
    inbox.start()
    try:
        assert process_outbox(catalog, senders, now=T0 + timedelta(seconds=5)) == 0  # backoff
        assert process_outbox(catalog, senders, now=T0 + timedelta(hours=1)) == 1
        assert process_outbox(catalog, senders, now=T0 + timedelta(hours=2)) == 0
        [mail] = inbox.to(to)
    finally:
        inbox.stop()
    assert number in mail["Subject"] and "oak across path" in mail.get_content()
    with catalog.session() as s:
        item = s.scalars(select(OutboxItem)).one()
        assert item.status == "sent" and item.remote_id == mail["Message-ID"]
        assert item.idempotency_key in mail.get_content()
