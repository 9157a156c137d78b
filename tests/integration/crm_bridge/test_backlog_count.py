"""The open backlog read from the worker's count equals the backlog counted from the tickets
at the instant asked for: right after the count, minutes and days later (due dates crossing
the bands' edges), before it, after tickets change and before the next count (reopened,
rerouted, closed, opened, due date moved), for every agency and for one."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from center.history import HistoryOptions, seed_history
from center.seed import seed_demo
from crm_bridge.config import from_settings
from crm_bridge.models import BacklogCount, BacklogState, Ticket
from crm_bridge.tickets import backlog, reports, routing, service
from foundation.db import utcnow

PAST = HistoryOptions(months=1.5, volume=20, tickets_per_day=12, seed=4, plan=False)
EDGES = ((31, "30+"), (8, "8-30"), (2, "2-7"), (0, "0-1"))


def want(db, now: datetime, agency: str | None = None) -> Counter[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """Every open ticket in its band, by whole days past due (an independent count)."""
    out: Counter[tuple[str, str, str]] = Counter()
    with db.session() as s:
        for t in s.scalars(sa.select(Ticket).options(selectinload(Ticket.agency),
                                                     selectinload(Ticket.service_type))):
            if t.number is None or t.state == "closed" or agency not in (None, t.agency.code):
                continue
            late = None if t.due_at is None or t.due_at > now else (now - t.due_at).days
            label = "not due" if late is None else next(b for d, b in EDGES if late >= d)
            out[(t.agency.code, t.service_type.name, label)] += 1
    return out


def got(db, now: datetime, agency: str | None = None) -> Counter[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    out: Counter[tuple[str, str, str]] = Counter()
    with db.session() as s:
        for r in reports.backlog(s, now, agency):
            assert r["open"] == sum(r[b] for b in backlog.BANDS) > 0
            for b in backlog.BANDS:
                if r[b]:
                    out[(r["agency"], r["service_name"], b)] += r[b]
    return out


def agrees(db, now: datetime, agency: str | None = None) -> None:  # type: ignore[no-untyped-def]
    assert got(db, now, agency) == want(db, now, agency)


def test_counted_backlog_equals_the_tickets(settings, database) -> None:  # type: ignore[no-untyped-def]
    list(seed_demo(settings, database))
    list(seed_history(settings, database, PAST))
    now = utcnow()
    agrees(database, now)  # no count yet: from the tickets
    with database.session() as s:
        assert s.scalar(sa.select(BacklogState.counted_at)) is None

    counted, before = backlog.refresh(database, now), want(database, now)
    assert counted == sum(before.values()) > 100
    # right after the count; later, as due dates cross each band's edge; before it
    for at in (now, now + timedelta(minutes=7), now + timedelta(hours=30),
               now + timedelta(days=9), now - timedelta(days=3)):
        agrees(database, at)
    agrees(database, now + timedelta(days=2), agency="DSNY")
    late = want(database, now + timedelta(days=9))
    assert late != want(database, now)  # the edges were crossed: the test can fail

    cfg = from_settings(settings)
    with database.session() as s:  # change tickets, and count nothing yet
        closed = s.scalars(sa.select(Ticket).where(Ticket.state == "closed")
                           .order_by(Ticket.closed_at.desc())).all()
        service.reopen(s, closed[3], "supervisor", "work not done", override=True, config=cfg)
        waiting = s.scalars(sa.select(Ticket).where(Ticket.state != "closed",
                                                    Ticket.number.is_not(None))
                            .order_by(Ticket.requested_at)).all()
        moved = next(t for t in waiting if t.agency.code != "DOT")
        routing.transfer(s, moved, "DOT", "supervisor", "theirs", config=cfg)
        service.close(s, waiting[-1], "agent", "resolved", "fixed it", config=cfg)
        # an SLA's due date moved, written as every write of the ticket service is (the
        # ticket's updated_at moves with it: the column has no onupdate)
        waiting[1].due_at, waiting[1].updated_at = now - timedelta(days=20), utcnow()
        draft = service.TicketDraft(service_code=moved.service_type.code, channel="web",
                                    actor="resident", description="a new one today",
                                    attributes=dict(moved.attributes or {}))
        service.open_ticket(s, draft, config=cfg)
        s.commit()
    later = utcnow()
    with database.session() as s:  # the count alone is now wrong: the test can fail
        agencies, types = reports.names(s)
        stale = Counter({(agencies[a][0], types[t][1], backlog.BANDS[i]): n
                         for a, t, i, n in s.execute(sa.select(
                             BacklogCount.agency_id, BacklogCount.service_type_id,
                             BacklogCount.band, BacklogCount.n))})
    assert stale == before != want(database, now)
    for at in (later, later + timedelta(days=1, hours=1), later + timedelta(days=8)):
        agrees(database, at)
        agrees(database, at, agency="DOT")

    assert backlog.refresh(database, later) == sum(want(database, later).values())
    agrees(database, later + timedelta(minutes=3))
    agrees(database, later + timedelta(days=31, minutes=5))
    agrees(database, later, agency="DOT")


def test_a_reset_count_is_not_read(settings, database) -> None:  # type: ignore[no-untyped-def]
    """Seeded history writes past ``updated_at`` values the look-back would miss: it resets
    the count, and reads go back to the tickets until the next one."""
    list(seed_demo(settings, database))
    backlog.refresh(database)
    list(seed_history(settings, database, PAST))
    with database.session() as s:
        assert s.scalar(sa.select(BacklogState.counted_at)) is None
    agrees(database, utcnow())
    backlog.refresh(database)
    agrees(database, utcnow() + timedelta(days=3))
