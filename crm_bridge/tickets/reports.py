"""Service-request reports: the open backlog aged past its due date, the top request types,
requests by channel and by district (each layer ``civic311 gis import`` loaded), on-time
closure, reopen and escalation counts (queries, no web).

Each function takes an agency code (an agency worker's scope) or None for every agency.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from crm_bridge.models import Agency, ServiceType, Ticket, TicketDistrict, TicketEvent
from crm_bridge.tickets.lifecycle import State

# days past due: (label, lowest day, highest day or None); "not yet due" comes first
AGE_BANDS = (("0-1", 0, 1), ("2-7", 2, 7), ("8-30", 8, 30), ("30+", 31, None))
BANDS = ("not due", *(b[0] for b in AGE_BANDS))


def band(due_at: datetime | None, now: datetime) -> str:
    """Which ageing band an open ticket is in: whole days past its due date."""
    if due_at is None or due_at > now:
        return "not due"
    days = (now - due_at) // timedelta(days=1)
    for label, low, high in AGE_BANDS:
        if days >= low and (high is None or days <= high):
            return label
    return AGE_BANDS[-1][0]


def _scoped(stmt: Any, agency: str | None) -> Any:
    return stmt.where(Agency.code == agency) if agency is not None else stmt


def backlog(s: Session, now: datetime, agency: str | None) -> list[dict[str, Any]]:
    """Open tickets per agency and type, counted in each ageing band."""
    stmt = _scoped(select(Agency.code, Agency.name, ServiceType.name, Ticket.due_at)
                   .join(Agency, Agency.id == Ticket.agency_id)
                   .join(ServiceType, ServiceType.id == Ticket.service_type_id)
                   .where(Ticket.state != State.CLOSED.value, Ticket.number.is_not(None)),
                   agency)
    rows: dict[tuple[str, str, str], Counter[str]] = {}
    for code, name, type_name, due in s.execute(stmt):
        rows.setdefault((code, name, type_name), Counter())[band(due, now)] += 1
    return [{"agency": code, "agency_name": name, "service_name": t,
             "open": sum(c.values()), **{b: c[b] for b in BANDS}}
            for (code, name, t), c in sorted(rows.items())]


def received(s: Session, start: datetime, end: datetime, agency: str | None,
             top: int = 10) -> dict[str, Any]:
    """Requests received in [start, end): the top types, the count per channel, and per
    district of each layer (``outside`` counts those in no district of that layer: no place,
    or a place beyond the layer's polygons)."""
    base = (select(func.count(Ticket.id)).join(Agency, Agency.id == Ticket.agency_id)
            .where(Ticket.requested_at >= start, Ticket.requested_at < end,
                   Ticket.number.is_not(None)))
    types = s.execute(_scoped(base.add_columns(ServiceType.name)
                              .join(ServiceType, ServiceType.id == Ticket.service_type_id)
                              .group_by(ServiceType.name), agency)
                      .order_by(func.count(Ticket.id).desc(), ServiceType.name).limit(top)).all()
    channels = s.execute(_scoped(base.add_columns(Ticket.channel).group_by(Ticket.channel),
                                 agency).order_by(Ticket.channel)).all()
    total = int(s.scalar(_scoped(base, agency)) or 0)
    return {"total": total,
            "top_types": [{"service_name": n, "count": int(c)} for c, n in types],
            "channels": {ch: int(c) for c, ch in channels},
            "districts": _by_district(s, base, agency, total)}


def _by_district(s: Session, base: Any, agency: str | None, total: int) -> dict[str, Any]:
    """layer -> {"districts": [{code, name, count}], "outside": count}."""
    rows = s.execute(_scoped(
        base.add_columns(TicketDistrict.layer, TicketDistrict.code,
                         func.max(TicketDistrict.name))
        .join(TicketDistrict, TicketDistrict.ticket_id == Ticket.id)
        .group_by(TicketDistrict.layer, TicketDistrict.code), agency)
        .order_by(TicketDistrict.layer, TicketDistrict.code)).all()
    layers: dict[str, Any] = {}
    for count, layer, code, name in rows:
        entry = layers.setdefault(layer, {"districts": [], "outside": total})
        entry["districts"].append({"code": code, "name": name or code, "count": int(count)})
        entry["outside"] -= int(count)
    return layers


def outcomes(s: Session, start: datetime, end: datetime, agency: str | None) -> dict[str, Any]:
    """Closed in [start, end) and how many on time; reopened and escalated in the period."""
    closed, on_time = s.execute(_scoped(
        select(func.count(Ticket.id), func.sum(case((Ticket.closed_at <= Ticket.due_at, 1),
                                                    else_=0)))
        .join(Agency, Agency.id == Ticket.agency_id)
        .where(Ticket.closed_at >= start, Ticket.closed_at < end), agency)).one()
    events = dict(s.execute(_scoped(
        select(TicketEvent.kind, func.count(func.distinct(TicketEvent.ticket_id)))
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .join(Agency, Agency.id == Ticket.agency_id)
        .where(TicketEvent.at >= start, TicketEvent.at < end,
               TicketEvent.kind.in_(("reopened", "escalated"))).group_by(TicketEvent.kind),
        agency)).all())
    closed, on_time = int(closed or 0), int(on_time or 0)
    reopened = int(events.get("reopened", 0))
    return {"closed": closed, "on_time": on_time,
            "on_time_rate": round(on_time / closed, 4) if closed else None,
            "reopened": reopened, "reopen_rate": round(reopened / closed, 4) if closed else None,
            "escalated": int(events.get("escalated", 0))}
