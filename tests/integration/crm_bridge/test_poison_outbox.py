"""One bad item never stops the bridge to external CRMs.

Outbox: an agency address with a line break and an item for a destination nobody sends to are
claimed with good items; the good ones reach a real SMTP server, the bad ones fail with their
reason. Polling: a remote (a real local HTTP server) reports, among good changes, a closure
whose note is too short, a closure of a parent whose child is still open, a malformed date and a
ticket that is not ours; the remote polled after it is broken and the one after that is fine.
Every good change is applied, the cursor moves on, the refused ones are retried and then failed
(the parent's closure applies once its child is closed)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from crm_bridge.config import CrmConfig
from crm_bridge.models import Agency, OutboxItem, RemoteCursor, RemoteUpdate, Ticket, TicketEvent
from crm_bridge.outbox.delivery import process_outbox
from crm_bridge.outbox.polling import APPLY_MAX, apply_updates, poll_remote
from crm_bridge.outbox.senders import default_senders
from crm_bridge.tickets import routing, service
from crm_bridge.tickets.draft import TicketDraft
from foundation.db import Database
from tests.integration.crm_bridge.conftest import MONDAY_10AM as T0
from tests.integration.crm_bridge.conftest import Inbox
from tests.support.fake_remote import Updates, serve

DSNY_MAIL = "work-orders@dsny.civic.example"
GRAFFITI = {"surface": "building", "offensive": "no"}


def _agency(db: Database, code: str, **values: Any) -> None:
    with db.session() as s:
        s.execute(update(Agency).where(Agency.code == code).values(**values))


def test_outbox_poison_items_among_good_ones(catalog: Database, cfg: CrmConfig, smtp: Inbox,
                                             settings: Any) -> None:
    _agency(catalog, "DPR", external_kind="email",  # stored before addresses were checked
            external_email="parks@civic.example\r\nBcc: everyone@example.org")
    _agency(catalog, "DSNY", external_kind="email", external_email=DSNY_MAIL)
    with catalog.session() as s:
        service.open_ticket(s, TicketDraft("tree-down", attributes={"wires": "no"},
                                           address="Park Ave"), now=T0, config=cfg)
        numbers = [service.open_ticket(s, TicketDraft("graffiti", attributes=GRAFFITI,
                                                      address=f"{i} Canal St"),
                                       now=T0, config=cfg).number for i in range(3)]
    with catalog.session() as s:  # a destination nobody sends to (a kind since removed)
        last = s.scalars(select(OutboxItem).order_by(OutboxItem.id.desc())).first()
        assert last is not None
        last.destination = "fax"

    senders = default_senders(settings, cfg)
    assert process_outbox(catalog, senders, now=T0) == 2
    mails = smtp.to(DSNY_MAIL)
    assert len(mails) == 2 and all(any(n in m["Subject"] for m in mails) for n in numbers[:2])
    assert not [m for m in smtp.messages if "everyone" in str(m)]
    with catalog.session() as s:
        items = s.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()
        assert [i.status for i in items] == ["failed", "sent", "sent", "failed"]
        assert "line breaks" in (items[0].last_error or "") and items[0].attempts == 1
        assert "no sender for destination 'fax'" in (items[3].last_error or "")
        assert all(i.locked_until is None for i in items)
    assert process_outbox(catalog, senders, now=T0 + timedelta(hours=2)) == 0
    assert len(smtp.messages) == 2  # nothing sent twice, nothing retried that cannot succeed


def _sent_ticket(db: Database, cfg: CrmConfig, code: str, remote_id: str,
                 attrs: dict[str, Any]) -> str:
    with db.session() as s:
        t = service.open_ticket(s, TicketDraft(code, attributes=attrs, address="1 Main St"),
                                now=T0, config=cfg)
        s.flush()
        item = s.scalars(select(OutboxItem).where(OutboxItem.ticket_id == t.id)).one()
        item.status, item.remote_id = "sent", remote_id
        return str(t.number)


def _row(rid: str, status: str, notes: str, at: str = "2026-03-03T12:00:00Z") -> dict[str, str]:
    return {"service_request_id": rid, "status": status, "status_notes": notes,
            "updated_datetime": at}


def _state(db: Database, number: str) -> str:
    with db.session() as s:
        return service.get_ticket(s, number).state


def test_polling_poison_updates_among_good_ones(catalog: Database, cfg: CrmConfig) -> None:
    pothole = {"size": "large"}
    remote_a = Updates([
        _row("A-short", "closed", "ok"),  # shorter than a resolution must be
        _row("A-parent", "closed", "Repaved the whole block"),  # its child is still open
        _row("A-date", "closed", "Filled it in", at="the day before yesterday"),
        _row("A-unknown", "closed", "Not one of ours"),
        _row("A-good", "closed", "Filled the pothole", at="2026-03-03T14:00:00Z"),
        _row("A-note", "open", "Crew scheduled\x00 for Tuesday"),  # NUL: PostgreSQL refuses it
        "not a request",
    ])
    remote_b = Updates({"error": "maintenance"})  # not a list of requests
    remote_c = Updates([_row("C-good", "closed", "Cut up and removed the tree")])
    with serve(remote_a) as url_a, serve(remote_b) as url_b, serve(remote_c) as url_c:
        _agency(catalog, "DOT", external_kind="open311", external_url=url_a)
        _agency(catalog, "DEP", external_kind="open311", external_url=url_b)
        _agency(catalog, "DPR", external_kind="open311", external_url=url_c)
        short = _sent_ticket(catalog, cfg, "pothole", "A-short", pothole)
        parent = _sent_ticket(catalog, cfg, "pothole", "A-parent", pothole)
        dated = _sent_ticket(catalog, cfg, "pothole", "A-date", pothole)
        good = _sent_ticket(catalog, cfg, "pothole", "A-good", pothole)
        noted = _sent_ticket(catalog, cfg, "pothole", "A-note", pothole)
        tree = _sent_ticket(catalog, cfg, "tree-down", "C-good", {"wires": "no"})
        with catalog.session() as s:
            child = service.open_ticket(s, TicketDraft("graffiti", attributes=GRAFFITI,
                                                       address="1 Main St"), config=cfg)
            routing.link(s, child, service.get_ticket(s, parent), "child", "agent1")
            child_number = child.number

        now = T0 + timedelta(days=2)
        assert poll_remote(catalog, cfg, now=now) == 3  # A-good, A-note, C-good
        assert (_state(catalog, good), _state(catalog, tree)) == ("closed", "closed")
        with catalog.session() as s:
            t = service.get_ticket(s, noted)
            assert (t.state, t.status_notes) == ("new", "Crew scheduled for Tuesday")
        assert [_state(catalog, n) for n in (short, parent, dated)] == ["new"] * 3
        assert remote_b.gets == 1 and remote_c.gets == 1  # B's garbage did not stop C
        with catalog.session() as s:
            dot = s.scalar(select(Agency).where(Agency.code == "DOT"))
            assert dot is not None
            cursor = s.get(RemoteCursor, dot.id)
            assert cursor is not None and cursor.updated_after is not None
            assert cursor.updated_after.isoformat() == "2026-03-03T14:00:00+00:00"
            by_id = {u.remote_id: u for u in s.scalars(select(RemoteUpdate))}
            assert "A-unknown" not in by_id  # not one of ours: not kept
            assert by_id["A-date"].status == "failed" and by_id["A-date"].attempts == 1
            assert "is not a date" in (by_id["A-date"].last_error or "")
            for rid, why in (("A-short", "at least 5 characters"), ("A-parent", "still open")):
                u = by_id[rid]
                assert u.status == "pending" and u.attempts == 1, rid
                assert why in (u.last_error or "") and u.next_attempt_at > now
            assert by_id["A-good"].status == "applied"

        assert poll_remote(catalog, cfg, now=now + timedelta(seconds=1)) == 0  # not twice
        with catalog.session() as s:
            assert len(s.scalars(select(RemoteUpdate)).all()) == 6

        with catalog.session() as s:  # the child's agency finishes: the parent may close
            service.close(s, service.get_ticket(s, child_number), "agency1", "resolved",
                          "Washed the wall", config=cfg)
        later = now
        for _ in range(APPLY_MAX):
            later += timedelta(hours=2)
            apply_updates(catalog, cfg, now=later)
        assert _state(catalog, parent) == "closed"
        with catalog.session() as s:
            t = service.get_ticket(s, parent)
            assert t.resolution == "Repaved the whole block"
            u = s.scalars(select(RemoteUpdate).where(RemoteUpdate.remote_id == "A-short")).one()
            assert u.status == "failed" and u.attempts == APPLY_MAX
            events = s.scalars(select(TicketEvent.text).join(Ticket).where(
                Ticket.number == short, TicketEvent.kind == "remote_update_failed")).all()
            assert len(events) == 1 and "could not be applied" in events[0]
        assert _state(catalog, short) == "new"
