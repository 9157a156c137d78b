"""The open backlog: open tickets per agency and type in each ageing band past their due
date, at this instant, without counting every open ticket on each read.

The worker counts it (``refresh``, every minute): the open tickets as they are then (the
members: agency, type, due date) and their count per band at that instant. A read starts
from that count and corrects it to the instant asked for, exactly:

- a ticket that changed since (``updated_at`` after the count, less ``OVERLAP``, so a
  transaction that committed late is not missed) is taken off as its member row was and
  added as it is now (closed: not at all; rerouted: to its new agency);
- an unchanged member whose band moved between the count and now (its due date crossed one
  of the band edges, ``now - d`` days for each band's first day ``d``) moves band.

So a read costs the tickets changed in the last minutes and the due dates crossing an edge
in that time, not the open tickets (about 75,000 at a million tickets). Without a count
(before the first run, or after history was seeded with past times) it counts the tickets.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from crm_bridge.models import (
    OPEN_NUMBERED,
    BacklogCount,
    BacklogMember,
    BacklogState,
    Ticket,
)
from foundation.db import Database, utcnow

# days past due: (label, lowest day, highest day or None); "not yet due" comes first
AGE_BANDS = (("0-1", 0, 1), ("2-7", 2, 7), ("8-30", 8, 30), ("30+", 31, None))
BANDS = ("not due", *(b[0] for b in AGE_BANDS))
# a ticket is at least d whole days past due exactly when due_at <= now - d days: the
# instants, before now, at which a ticket moves into each band after "not due"
EDGES = tuple(timedelta(days=low) for _, low, _ in AGE_BANDS)
OVERLAP = timedelta(minutes=10)
MANY = 5000  # changed tickets past which a read counts the tickets (a bulk import just ran)
Key = tuple[int, int]  # (agency id, service type id)


def band(due_at: datetime | None, now: datetime) -> str:
    """Which ageing band an open ticket is in: whole days past its due date."""
    if due_at is None or due_at > now:
        return "not due"
    days = (now - due_at) // timedelta(days=1)
    for label, low, high in AGE_BANDS:
        if days >= low and (high is None or days <= high):
            return label
    return AGE_BANDS[-1][0]


def band_of(due: Any, now: datetime) -> ColumnElement[int]:
    """The ageing band's index in BANDS of a due-date column at ``now``, in SQL."""
    later = [(due > now - EDGES[i + 1], i + 1) for i in range(len(EDGES) - 1)]
    return case((due.is_(None) | (due > now), 0), *later, else_=len(BANDS) - 1)


def counts(s: Session, now: datetime, agency_id: int | None) -> dict[Key, Counter[int]]:
    """(agency id, type id) -> open tickets per band index at ``now``."""
    for _ in range(3):  # a count written meanwhile: read again on the new one
        counted_at = s.scalar(select(BacklogState.counted_at))
        if counted_at is None:
            return _from_tickets(s, now, agency_id)
        out = _corrected(s, counted_at, now, agency_id)
        if s.scalar(select(BacklogState.counted_at)) == counted_at:
            return out
    return _from_tickets(s, now, agency_id)


def _from_tickets(s: Session, now: datetime, agency_id: int | None) -> dict[Key, Counter[int]]:
    b = band_of(Ticket.due_at, now)
    stmt = (select(Ticket.agency_id, Ticket.service_type_id, b, func.count())
            .where(OPEN_NUMBERED).group_by(Ticket.agency_id, Ticket.service_type_id, b))
    if agency_id is not None:
        stmt = stmt.where(Ticket.agency_id == agency_id)
    out: dict[Key, Counter[int]] = {}
    for a, t, i, n in s.execute(stmt):
        out.setdefault((a, t), Counter())[i] += int(n)
    return out


def _corrected(s: Session, counted_at: datetime, now: datetime, agency_id: int | None
               ) -> dict[Key, Counter[int]]:
    out: dict[Key, Counter[int]] = {}

    def add(key: Key, i: int, n: int) -> None:
        if agency_id is None or key[0] == agency_id:
            out.setdefault(key, Counter())[i] += n

    for a, t, i, n in s.execute(select(BacklogCount.agency_id, BacklogCount.service_type_id,
                                       BacklogCount.band, BacklogCount.n)):
        add((a, t), i, n)
    m = BacklogMember
    then_band = band_of(m.due_at, counted_at)
    changed = []
    for row in s.execute(
            select(Ticket.id, Ticket.agency_id, Ticket.service_type_id, Ticket.due_at,
                   Ticket.state != "closed", Ticket.number.is_not(None),
                   m.agency_id, m.service_type_id, then_band)
            .outerjoin(m, m.ticket_id == Ticket.id)
            .where(Ticket.updated_at > counted_at - OVERLAP)):
        ticket_id, a, t, due, not_closed, numbered, was_a, was_t, was_band = row
        changed.append(ticket_id)
        if len(changed) > MANY:
            return _from_tickets(s, now, agency_id)
        if was_a is not None:
            add((was_a, was_t), was_band, -1)
        if not_closed and numbered:
            add((a, t), BANDS.index(band(due, now)), 1)
    early, late = min(counted_at, now), max(counted_at, now)
    crossing = or_(*(and_(m.due_at > early - d, m.due_at <= late - d) for d in EDGES))
    now_band = band_of(m.due_at, now)
    for a, t, was_band, is_band, n in s.execute(
            select(m.agency_id, m.service_type_id, then_band, now_band, func.count())
            .where(crossing, m.ticket_id.not_in(changed))  # those are done above
            .group_by(m.agency_id, m.service_type_id, then_band, now_band)):
        add((a, t), was_band, -int(n))
        add((a, t), is_band, int(n))
    return {key: +c for key, c in out.items() if +c}


def refresh(db: Database, now: datetime | None = None) -> int:
    """Count the backlog again as of ``now`` in one transaction (on PostgreSQL a repeatable
    read: its statements see the tickets at one instant); returns the open tickets counted.
    Only the members of tickets changed since the last count are written again."""
    now = now or utcnow()
    m = BacklogMember
    with db.session() as s:
        if s.get_bind().dialect.name == "postgresql":
            s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        counted_at = s.scalar(select(BacklogState.counted_at))
        members = select(Ticket.id, Ticket.agency_id, Ticket.service_type_id,
                         Ticket.due_at).where(OPEN_NUMBERED)
        if counted_at is None:
            s.execute(delete(m))
        else:
            changed = select(Ticket.id).where(Ticket.updated_at > counted_at - OVERLAP)
            s.execute(delete(m).where(m.ticket_id.in_(changed)))
            members = members.where(Ticket.updated_at > counted_at - OVERLAP)
        s.execute(insert(m).from_select(
            ["ticket_id", "agency_id", "service_type_id", "due_at"], members))
        s.execute(delete(BacklogCount))
        b = band_of(m.due_at, now)
        s.execute(insert(BacklogCount).from_select(
            ["agency_id", "service_type_id", "band", "n"],
            select(m.agency_id, m.service_type_id, b, func.count())
            .group_by(m.agency_id, m.service_type_id, b)))
        state = s.get(BacklogState, 1)
        if state is None:
            s.add(BacklogState(id=1, counted_at=now))
        else:
            state.counted_at = now
        total = s.scalar(select(func.coalesce(func.sum(BacklogCount.n), 0)))
        s.commit()
    return int(total or 0)


def reset(s: Session) -> None:
    """Forget the count (tickets were written with past times, which a read's look-back
    would not see): reads count the tickets until the next run."""
    s.execute(delete(BacklogState))
