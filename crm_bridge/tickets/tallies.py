"""Tallies of the service-request reports: requests received and closed (and on time) per
city day, agency, type and channel, and received per district (per agency, and for the
whole city), so a report over months reads a few rows per day instead of counting every
ticket again.

The worker keeps them (``refresh``, every minute). A day's tallies are rewritten whole from
its tickets whenever one of them changes: the days a changed ticket was received on, closed
on now, and closed on before (its ``closed`` events: a reopened ticket's old closure leaves
that day). Changed means ``updated_at`` moved, which every write of the ticket service does;
the run looks back ``OVERLAP`` past its previous run, so a transaction that committed late
is not missed. The first run after the upgrade, and after the city's zone changes, counts
every day (seconds at a million tickets).

The tallies count what happened before the run's cut, ``OVERLAP`` before the run
(``cut``): today's tally holds today up to the cut. Reports split their period (``split``):
the city days up to the cut from the tallies, the rest (the minutes since the cut, and any
edge of a period that is not a whole day) from the tickets. So today is live at the cost of
the last minutes' tickets, whatever the hour and however busy the city, a ticket that
committed up to ``OVERLAP`` late is counted at once, and a change to an older one shows
within a minute.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from crm_bridge.models import (
    CLOSED,
    NUMBERED,
    CityDistrictTally,
    TallyState,
    Ticket,
    TicketDayTally,
    TicketDistrict,
    TicketDistrictTally,
    TicketEvent,
)
from foundation.db import Database, utcnow

log = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=10)
BATCH_DAYS = 31
Range = tuple[datetime, datetime]


def midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(zone))


def cut(state: TallyState) -> datetime:
    """The instant the tallies count up to: ``OVERLAP`` before their run."""
    return state.ran_at - OVERLAP


def split(s: Session, start: datetime, end: datetime
          ) -> tuple[tuple[date, date] | None, list[Range]]:
    """[start, end) as the tallied city days [first, last) it covers, and the ranges left
    over for the tickets themselves (none tallied yet: all of it). The last day is the cut's
    when the period reaches the cut; its tally ends there, and the period's rest is live."""
    state = s.get(TallyState, 1)
    if state is None:
        return None, [(start, end)]
    zone, upto = ZoneInfo(state.zone), cut(state)
    first = start.astimezone(zone).date()
    if midnight(first, state.zone) < start:
        first += timedelta(days=1)
    if end >= upto:
        last, rest = upto.astimezone(zone).date() + timedelta(days=1), upto
    else:
        last = end.astimezone(zone).date()
        rest = midnight(last, state.zone)
    if first >= last:
        return None, [(start, end)]
    edges = [(start, midnight(first, state.zone)), (rest, end)]
    return (first, last), [(a, b) for a, b in edges if a < b]


def refresh(db: Database, zone: str, now: datetime | None = None) -> int:
    """Bring the tallies up to date; returns how many days were rewritten. Days are written
    a month at a time, each month in its own transaction (a first run never holds the
    database's write lock for long), and the run is noted last: until then the reports go
    on as before the run (a first run: from the tickets alone)."""
    now = now or utcnow()
    with db.session() as s:
        state = s.get(TallyState, 1)
        if state is None or state.zone != zone:
            s.execute(delete(TallyState))
            s.execute(delete(TicketDayTally))
            s.execute(delete(TicketDistrictTally))
            s.execute(delete(CityDistrictTally))
            s.commit()
            days = sorted(_every_day(s, zone, now))
        else:  # and the days the cut moves over, whatever changed
            days = sorted(_touched_days(s, zone, state.ran_at - OVERLAP)
                          | _days(cut(state), now - OVERLAP, zone))
    for i in range(0, len(days), BATCH_DAYS):
        with db.session() as s:
            for day in days[i:i + BATCH_DAYS]:
                _rewrite(s, day, zone, now - OVERLAP)
            s.commit()
    with db.session() as s:
        state = s.get(TallyState, 1)
        if state is None:
            s.add(TallyState(id=1, zone=zone, ran_at=now))
        else:
            state.zone, state.ran_at = zone, now
        s.commit()
    if len(days) > 1:
        log.info("ticket tallies: %d days rewritten", len(days))
    return len(days)


def _every_day(s: Session, zone: str, now: datetime) -> set[date]:
    first = s.scalar(select(func.min(Ticket.requested_at)))
    return set() if first is None else _days(first, now, zone)


def _days(t0: datetime, t1: datetime, zone: str) -> set[date]:
    """The city days from t0's to t1's, both included."""
    tz = ZoneInfo(zone)
    day, last = t0.astimezone(tz).date(), t1.astimezone(tz).date()
    return {day + timedelta(days=i) for i in range((last - day).days + 1)}


def _touched_days(s: Session, zone: str, since: datetime) -> set[date]:
    tz = ZoneInfo(zone)
    changed = select(Ticket.id).where(Ticket.updated_at > since)
    stamps: Iterable[datetime | None] = [
        *(t for row in s.execute(select(Ticket.requested_at, Ticket.closed_at)
                                 .where(Ticket.updated_at > since)) for t in row),
        *s.scalars(select(TicketEvent.at).where(TicketEvent.kind == "closed",
                                                TicketEvent.ticket_id.in_(changed)))]
    return {t.astimezone(tz).date() for t in stamps if t is not None}


def _rewrite(s: Session, day: date, zone: str, upto: datetime) -> None:
    """One city day's tallies, counted again from its tickets, up to the cut ``upto``."""
    t0, t1 = midnight(day, zone), min(midnight(day + timedelta(days=1), zone), upto)
    t1 = max(t0, t1)  # a day after the cut: nothing in it yet
    s.execute(delete(TicketDayTally).where(TicketDayTally.day == day))
    s.execute(delete(TicketDistrictTally).where(TicketDistrictTally.day == day))
    s.execute(delete(CityDistrictTally).where(CityDistrictTally.day == day))
    rows: dict[tuple[int, int, str], TicketDayTally] = {}

    def row(agency_id: int, type_id: int, channel: str) -> TicketDayTally:
        key = (agency_id, type_id, channel)
        if key not in rows:
            rows[key] = TicketDayTally(day=day, agency_id=agency_id, service_type_id=type_id,
                                       channel=channel, received=0, closed=0, on_time=0)
        return rows[key]

    for (agency_id, type_id, channel), n in received_counts(s, [(t0, t1)], None).items():
        row(agency_id, type_id, channel).received = n
    for (agency_id, type_id, channel), (n, on_time) in closed_counts(s, [(t0, t1)],
                                                                     None).items():
        r = row(agency_id, type_id, channel)
        r.closed, r.on_time = n, on_time
    s.add_all(rows.values())
    by_agency = district_counts(s, [(t0, t1)], None)
    s.add_all(TicketDistrictTally(day=day, agency_id=agency_id, layer=layer, code=code,
                                  name=name, received=n)
              for (agency_id, layer, code), (name, n) in by_agency.items())
    s.add_all(CityDistrictTally(day=day, layer=layer, code=code, name=name, received=n)
              for (layer, code), (name, n) in _per_district(_flat(by_agency)).items())
    s.flush()


def received_counts(s: Session, ranges: list[Range], agency_id: int | None
                    ) -> dict[tuple[int, int, str], int]:
    """(agency id, type id, channel) -> requests received within the ranges."""
    out: dict[tuple[int, int, str], int] = {}
    for start, end in ranges:
        stmt = (select(Ticket.agency_id, Ticket.service_type_id, Ticket.channel, func.count())
                .where(NUMBERED, Ticket.requested_at >= start, Ticket.requested_at < end)
                .group_by(Ticket.agency_id, Ticket.service_type_id, Ticket.channel))
        if agency_id is not None:
            stmt = stmt.where(Ticket.agency_id == agency_id)
        for a, t, ch, n in s.execute(stmt):
            out[(a, t, ch)] = out.get((a, t, ch), 0) + int(n)
    return out


def closed_counts(s: Session, ranges: list[Range], agency_id: int | None
                  ) -> dict[tuple[int, int, str], tuple[int, int]]:
    """(agency id, type id, channel) -> (closed, closed on time) within the ranges."""
    out: dict[tuple[int, int, str], tuple[int, int]] = {}
    on_time = func.sum(case((Ticket.closed_at <= Ticket.due_at, 1), else_=0))
    for start, end in ranges:
        stmt = (select(Ticket.agency_id, Ticket.service_type_id, Ticket.channel, func.count(),
                       on_time)
                .where(CLOSED, Ticket.closed_at >= start, Ticket.closed_at < end)
                .group_by(Ticket.agency_id, Ticket.service_type_id, Ticket.channel))
        if agency_id is not None:
            stmt = stmt.where(Ticket.agency_id == agency_id)
        for a, t, ch, n, ok in s.execute(stmt):
            was = out.get((a, t, ch), (0, 0))
            out[(a, t, ch)] = (was[0] + int(n), was[1] + int(ok or 0))
    return out


def district_counts(s: Session, ranges: list[Range], agency_id: int | None
                    ) -> dict[tuple[int, str, str], tuple[str, int]]:
    """(agency id, layer, district code) -> (district name, requests received)."""
    out: dict[tuple[int, str, str], tuple[str, int]] = {}
    for start, end in ranges:
        stmt = (select(Ticket.agency_id, TicketDistrict.layer, TicketDistrict.code,
                       func.max(TicketDistrict.name), func.count())
                .join(Ticket, Ticket.id == TicketDistrict.ticket_id)
                .where(NUMBERED, Ticket.requested_at >= start, Ticket.requested_at < end)
                .group_by(Ticket.agency_id, TicketDistrict.layer, TicketDistrict.code))
        if agency_id is not None:
            stmt = stmt.where(Ticket.agency_id == agency_id)
        for a, layer, code, name, n in s.execute(stmt):
            was = out.get((a, layer, code), ("", 0))
            out[(a, layer, code)] = (name or was[0], was[1] + int(n))
    return out


def received(s: Session, start: datetime, end: datetime, agency_id: int | None
             ) -> dict[tuple[int, int, str], int]:
    """``received_counts`` over [start, end): the tallied days from the tallies."""
    days, live = split(s, start, end)
    out = received_counts(s, live, agency_id)
    if days is not None:
        stmt = (select(TicketDayTally.agency_id, TicketDayTally.service_type_id,
                       TicketDayTally.channel, func.sum(TicketDayTally.received))
                .where(*_tallied(TicketDayTally, days, agency_id), TicketDayTally.received > 0)
                .group_by(TicketDayTally.agency_id, TicketDayTally.service_type_id,
                          TicketDayTally.channel))
        for a, t, ch, n in s.execute(stmt):
            out[(a, t, ch)] = out.get((a, t, ch), 0) + int(n)
    return out


def closed(s: Session, start: datetime, end: datetime, agency_id: int | None
           ) -> dict[tuple[int, int, str], tuple[int, int]]:
    """``closed_counts`` over [start, end): the tallied days from the tallies."""
    days, live = split(s, start, end)
    out = closed_counts(s, live, agency_id)
    if days is not None:
        stmt = (select(TicketDayTally.agency_id, TicketDayTally.service_type_id,
                       TicketDayTally.channel, func.sum(TicketDayTally.closed),
                       func.sum(TicketDayTally.on_time))
                .where(*_tallied(TicketDayTally, days, agency_id), TicketDayTally.closed > 0)
                .group_by(TicketDayTally.agency_id, TicketDayTally.service_type_id,
                          TicketDayTally.channel))
        for a, t, ch, n, ok in s.execute(stmt):
            was = out.get((a, t, ch), (0, 0))
            out[(a, t, ch)] = (was[0] + int(n), was[1] + int(ok))
    return out


def districts(s: Session, start: datetime, end: datetime, agency_id: int | None
              ) -> dict[tuple[str, str], tuple[str, int]]:
    """(layer, district code) -> (district name, requests received in [start, end)), of one
    agency or (None) of the whole city: the tallied days from the tallies."""
    days, live = split(s, start, end)
    rows = list(_flat(district_counts(s, live, agency_id)))
    if days is not None:
        t: type[TicketDistrictTally] | type[CityDistrictTally] = TicketDistrictTally
        where = _tallied(TicketDistrictTally, days, agency_id)
        if agency_id is None:
            t = CityDistrictTally
            where = [t.day >= days[0], t.day < days[1]]
        rows += s.execute(select(t.layer, t.code, func.max(t.name), func.sum(t.received))
                          .where(*where).group_by(t.layer, t.code))
    return _per_district(rows)


def _flat(counts: dict[tuple[int, str, str], tuple[str, int]]) -> Iterable[Any]:
    """Agencies' district counts as (layer, code, name, count) rows."""
    return ((layer, code, name, n) for (_, layer, code), (name, n) in counts.items())


def _per_district(rows: Iterable[Any]) -> dict[tuple[str, str], tuple[str, int]]:
    """(layer, code, name, count) rows summed per district (the first name given)."""
    out: dict[tuple[str, str], tuple[str, int]] = {}
    for layer, code, name, n in rows:
        was = out.get((layer, code), ("", 0))
        out[(layer, code)] = (was[0] or name, was[1] + int(n))
    return out


def _tallied(table: type[TicketDayTally] | type[TicketDistrictTally], days: tuple[date, date],
             agency_id: int | None) -> list[Any]:
    conds: list[Any] = [table.day >= days[0], table.day < days[1]]
    return conds if agency_id is None else [*conds, table.agency_id == agency_id]
