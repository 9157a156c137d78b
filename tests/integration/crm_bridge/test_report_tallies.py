"""The service-request reports read from the day tallies equal the reports counted from the
tickets, and both equal an independent count: over seeded history, after tickets change
(rerouted, closed, reopened, new today), over periods that are not whole days, and after
the city's zone changes (the tallies count every day again)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from center.history import HistoryOptions, seed_history
from center.seed import seed_demo
from crm_bridge.config import from_settings
from crm_bridge.models import TallyState, Ticket, TicketDayTally
from crm_bridge.tickets import reports, routing, service, tallies
from crm_bridge.tickets.sla import on_time_report
from foundation.db import utcnow
from tests.integration.crm_bridge.test_requests_report import check, independent

PAST = HistoryOptions(months=1.5, volume=20, tickets_per_day=12, seed=9, plan=False)


def doc(db, t0, t1, now, agency=None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    with db.session() as s:
        return {"backlog": reports.backlog(s, now, agency),
                "received": reports.received(s, t0, t1, agency),
                "outcomes": reports.outcomes(s, t0, t1, agency),
                "on_time": on_time_report(s, t0, t1) if agency is None else None}


def on_time_want(db, t0, t1) -> dict[tuple[str, str], tuple[int, int]]:  # type: ignore[no-untyped-def]
    out: dict[tuple[str, str], tuple[int, int]] = {}
    with db.session() as s:
        for t in s.scalars(sa.select(Ticket).where(Ticket.closed_at.is_not(None)).options(
                selectinload(Ticket.agency), selectinload(Ticket.service_type))):
            if t0 <= t.closed_at < t1:
                n, ok = out.get((t.agency.code, t.service_type.code), (0, 0))
                out[(t.agency.code, t.service_type.code)] = (
                    n + 1, ok + int(t.due_at is not None and t.closed_at <= t.due_at))
    return out


def agrees(db, *periods, agency=None) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    for t0, t1 in periods:
        got = doc(db, t0, t1, now, agency)
        check(got, independent(db, t0, t1, now, agency))
        if agency is None:
            assert {(r["agency"], r["service_code"]): (r["closed"], r["on_time"])
                    for r in got["on_time"]} == on_time_want(db, t0, t1)


def test_tallied_reports_equal_the_tickets(settings, database) -> None:  # type: ignore[no-untyped-def]
    list(seed_demo(settings, database))
    list(seed_history(settings, database, PAST))
    zone = settings.timezone
    tz = ZoneInfo(zone)
    today = utcnow().astimezone(tz).date()
    whole = tuple(datetime.combine(d, time(), tz)
                  for d in (today - timedelta(days=40), today + timedelta(days=1)))
    ragged = (whole[0] + timedelta(hours=10, minutes=7), utcnow() - timedelta(hours=30))
    with database.session() as s:
        assert tallies.split(s, *whole) == (None, [whole])  # none yet: all from tickets
    agrees(database, whole, ragged)

    assert tallies.refresh(database, zone) > 40  # the first run counts every day
    with database.session() as s:
        days, live = tallies.split(s, *whole)
        state = s.get(TallyState, 1)
        assert state is not None
        upto = tallies.cut(state)  # today up to the cut from the tallies, since then live
        assert days == (today - timedelta(days=40), upto.astimezone(tz).date()
                        + timedelta(days=1)) and live == [(upto, whole[1])]
        assert s.scalar(sa.select(sa.func.sum(TicketDayTally.received))) > 300
    agrees(database, whole, ragged)
    agrees(database, whole, agency="DSNY")

    cfg = from_settings(settings)
    with database.session() as s:  # stamped 5 minutes ago, committed after the run
        some = s.scalars(sa.select(Ticket).order_by(Ticket.id.desc())).first()
        assert some is not None
        late = service.open_ticket(s, service.TicketDraft(
            service_code=some.service_type.code, channel="phone", actor="agent",
            description="opened before the run, committed after it",
            attributes=dict(some.attributes or {})), now=utcnow() - timedelta(minutes=5),
            config=cfg)
        assert late.requested_at < utcnow() - timedelta(minutes=4)
        s.commit()
    agrees(database, whole, ragged)  # counted at once: the last minutes are live

    with database.session() as s:  # change old tickets, and open one today
        closed = s.scalars(sa.select(Ticket).where(Ticket.state == "closed")
                           .order_by(Ticket.closed_at.desc())).all()
        old = next(t for t in closed if t.closed_at < utcnow() - timedelta(days=2))
        service.reopen(s, old, "supervisor", "work not done", override=True, config=cfg)
        waiting = s.scalars(sa.select(Ticket).where(Ticket.state != "closed")
                            .order_by(Ticket.requested_at)).all()
        moved = next(t for t in waiting if t.agency.code != "DOT")
        routing.transfer(s, moved, "DOT", "supervisor", "theirs", config=cfg)
        service.close(s, waiting[-1], "agent", "resolved", "fixed it", config=cfg)
        draft = service.TicketDraft(service_code=moved.service_type.code, channel="web",
                                    actor="resident", description="a new one today",
                                    attributes=dict(moved.attributes or {}))
        service.open_ticket(s, draft, config=cfg)
        s.commit()
    assert tallies.refresh(database, zone) < 10  # only the days those tickets touched
    agrees(database, whole, ragged)
    agrees(database, whole, agency="DOT")

    assert tallies.refresh(database, "America/Los_Angeles") > 40  # a new zone: every day
    with database.session() as s:
        state = s.get(TallyState, 1)
        assert state is not None and state.zone == "America/Los_Angeles"
    agrees(database, whole)
