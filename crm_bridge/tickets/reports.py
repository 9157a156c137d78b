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

from crm_bridge.models import (
    OPEN_NUMBERED,
    Agency,
    ServiceType,
    Ticket,
    TicketEvent,
)
from crm_bridge.tickets import tallies

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


def names(s: Session) -> tuple[dict[int, tuple[str, str]], dict[int, tuple[str, str]]]:
    """Agency and service-type ids -> (code, name): the reports count by id in the indexes
    and name the few groups afterwards."""
    return ({i: (c, n) for i, c, n in s.execute(select(Agency.id, Agency.code, Agency.name))},
            {i: (c, n) for i, c, n in s.execute(select(ServiceType.id, ServiceType.code,
                                                       ServiceType.name))})


def agency_id(s: Session, agency: str | None) -> int | None:
    """The id of an agency code (None: every agency; an unknown code: 0, which no agency has,
    so its reports count nothing)."""
    if agency is None:
        return None
    return s.scalar(select(Agency.id).where(Agency.code == agency)) or 0


def _band_of(now: datetime) -> Any:
    """The ageing band's index in BANDS, computed by the database: a ticket is at least d
    whole days past due exactly when due_at <= now - d days."""
    due = Ticket.due_at
    bounded = [(due > now - timedelta(days=high + 1), i + 1)
               for i, (_, _, high) in enumerate(AGE_BANDS) if high is not None]
    return case((due.is_(None) | (due > now), 0), *bounded, else_=len(BANDS) - 1)


def backlog(s: Session, now: datetime, agency: str | None) -> list[dict[str, Any]]:
    """Open tickets per agency and type, counted in each ageing band."""
    b = _band_of(now)
    stmt = (select(Ticket.agency_id, Ticket.service_type_id, b, func.count())
            .where(OPEN_NUMBERED).group_by(Ticket.agency_id, Ticket.service_type_id, b))
    aid = agency_id(s, agency)
    rows = s.execute(stmt if aid is None else stmt.where(Ticket.agency_id == aid))
    agencies, types = names(s)
    counts: dict[tuple[str, str, str], Counter[str]] = {}
    for a, type_id, i, n in rows:
        key = (*agencies[a], types[type_id][1])
        counts.setdefault(key, Counter())[BANDS[i]] += int(n)
    return [{"agency": code, "agency_name": name, "service_name": t,
             "open": sum(c.values()), **{b: c[b] for b in BANDS}}
            for (code, name, t), c in sorted(counts.items())]


def received(s: Session, start: datetime, end: datetime, agency: str | None,
             top: int = 10) -> dict[str, Any]:
    """Requests received in [start, end): the top types, the count per channel, and per
    district of each layer (``outside`` counts those in no district of that layer: no place,
    or a place beyond the layer's polygons)."""
    aid = agency_id(s, agency)
    _, types = names(s)
    by_type: Counter[str] = Counter()
    channels: Counter[str] = Counter()
    for (_, type_id, channel), n in tallies.received(s, start, end, aid).items():
        by_type[types[type_id][1]] += n
        channels[channel] += n
    total = sum(channels.values())
    ranked = sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    layers: dict[str, Any] = {}
    by_code: dict[tuple[str, str], list[Any]] = {}
    for (_, layer, code), (name, n) in tallies.districts(s, start, end, aid).items():
        entry = by_code.setdefault((layer, code), [name, 0])
        entry[0], entry[1] = entry[0] or name, entry[1] + n
    for (layer, code), (name, n) in sorted(by_code.items()):
        entry = layers.setdefault(layer, {"districts": [], "outside": total})
        entry["districts"].append({"code": code, "name": name or code, "count": n})
        entry["outside"] -= n
    return {"total": total,
            "top_types": [{"service_name": n, "count": c} for n, c in ranked],
            "channels": dict(sorted(channels.items())), "districts": layers}


def outcomes(s: Session, start: datetime, end: datetime, agency: str | None) -> dict[str, Any]:
    """Closed in [start, end) and how many on time; reopened and escalated in the period."""
    aid = agency_id(s, agency)
    counts = tallies.closed(s, start, end, aid).values()
    closed, on_time = sum(n for n, _ in counts), sum(ok for _, ok in counts)
    events = select(TicketEvent.kind, func.count(func.distinct(TicketEvent.ticket_id))).where(
        TicketEvent.at >= start, TicketEvent.at < end,
        TicketEvent.kind.in_(("reopened", "escalated"))).group_by(TicketEvent.kind)
    if aid is not None:
        events = events.join(Ticket, Ticket.id == TicketEvent.ticket_id).where(
            Ticket.agency_id == aid)
    kinds = dict(s.execute(events).all())
    reopened = int(kinds.get("reopened", 0))
    return {"closed": closed, "on_time": on_time,
            "on_time_rate": round(on_time / closed, 4) if closed else None,
            "reopened": reopened, "reopen_rate": round(reopened / closed, 4) if closed else None,
            "escalated": int(kinds.get("escalated", 0))}
