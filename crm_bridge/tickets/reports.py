"""Service-request reports: the open backlog aged past its due date (``backlog``), the top
request types, requests by channel and by district (each layer ``civic311 gis import``
loaded), on-time closure, reopen and escalation counts (queries, no web).

Each function takes an agency code (an agency worker's scope) or None for every agency.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_bridge.models import (
    Agency,
    ServiceType,
    Ticket,
    TicketEvent,
)
from crm_bridge.tickets import backlog as open_backlog
from crm_bridge.tickets import tallies


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


def backlog(s: Session, now: datetime, agency: str | None) -> list[dict[str, Any]]:
    """Open tickets per agency and type, counted in each ageing band (``backlog.BANDS``)."""
    counts = open_backlog.counts(s, now, agency_id(s, agency))
    agencies, types = names(s)
    rows = sorted(((*agencies[a], types[t][1]), c) for (a, t), c in counts.items())
    return [{"agency": code, "agency_name": name, "service_name": t,
             "open": sum(c.values()), **{b: c[i] for i, b in enumerate(open_backlog.BANDS)}}
            for (code, name, t), c in rows]


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
    for (layer, code), (name, n) in sorted(tallies.districts(s, start, end, aid).items()):
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
