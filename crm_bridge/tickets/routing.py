"""Moving tickets between people and agencies: transfer, link, escalate; and the
lookups of the agent's screen pop (the caller's tickets, open requests nearby)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_bridge.config import CrmConfig
from crm_bridge.models import Agency, Ticket
from crm_bridge.notify import notices
from crm_bridge.tickets.errors import NotFound
from crm_bridge.tickets.fields import check_note
from crm_bridge.tickets.lifecycle import LinkKind, State, check_link, check_transfer, is_open
from crm_bridge.tickets.phones import variants
from crm_bridge.tickets.records import DEFAULT_CONFIG, log, queue_outbox, unpause
from foundation.db import utcnow
from places.public import geocode


def agency_by_code(session: Session, code: str) -> Agency:
    a = session.scalar(select(Agency).where(Agency.code == code))
    if a is None:
        raise NotFound("agency_not_found", f"no agency {code!r}")
    return a


def transfer(session: Session, t: Ticket, to_code: str, actor: str, comment: str = "", *,
             now: datetime | None = None, config: CrmConfig | None = None) -> Ticket:
    """Hand the ticket to another agency: it arrives there as new, unassigned."""
    cfg = config or DEFAULT_CONFIG
    now = now or utcnow()
    check_note("comment", comment)
    target = agency_by_code(session, to_code)
    check_transfer(State(t.state), t.agency.code, target.code)
    if t.hold_started_at is not None:
        unpause(t, now, cfg)
    source = t.agency
    t.agency_id = target.id
    t.agency = target
    t.assignee = None
    t.state = State.NEW.value
    t.updated_at = now
    t.escalation_level = 0
    t.status_notes = f"Transferred to {target.name}" + (f": {comment}" if comment else "")
    log(session, t, "transferred", actor,
        f"{source.code} → {target.code}" + (f": {comment}" if comment else ""), now=now)
    queue_outbox(session, t, target, now)
    notices.to_resident(session, t, "status", cfg, t.status_notes, now=now)
    return t


def link(session: Session, child: Ticket, parent: Ticket, kind: LinkKind | str, actor: str, *,
         now: datetime | None = None) -> Ticket:
    """Link ``child`` under ``parent``: a duplicate (closes with it) or another agency's work
    (the parent cannot close before it)."""
    now = now or utcnow()
    kind = LinkKind(kind)
    check_link(child.id, State(child.state), parent.id, State(parent.state), parent.parent_id,
               kind, child.agency.code, parent.agency.code)
    child.parent_id = parent.id
    child.link_kind = kind.value
    child.updated_at = parent.updated_at = now
    log(session, child, "linked", actor, f"{kind.value} of {parent.number}", now=now)
    log(session, parent, "linked", actor, f"{child.number} linked as {kind.value}", now=now)
    return child


def caller_tickets(session: Session, phone: str | None, limit: int = 20) -> list[Ticket]:
    """The caller's earlier tickets, newest first (screen pop); the caller ID matches a number
    typed with or without the country code."""
    forms = variants(phone)
    if not forms:
        return []
    return list(session.scalars(select(Ticket).where(Ticket.phone.in_(forms))
                                .order_by(Ticket.requested_at.desc()).limit(limit)))


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(min(1.0, a)))


def nearby_open(session: Session, service_type_id: int, *, lat: float | None,
                long: float | None, address: str | None, config: CrmConfig | None = None,
                now: datetime | None = None, exclude_id: int | None = None) -> list[Ticket]:
    """Open tickets of the same type within the radius and time window: duplicate suggestions.
    A typed address is placed on the city's address points (``places``) first, so two
    spellings of one place match by distance; an address the city does not know matches the
    same text (case- and space-insensitive)."""
    cfg = config or DEFAULT_CONFIG
    now = now or utcnow()
    if (lat is None or long is None) and address and address.strip():
        found = geocode(session, address)
        if found is not None:
            lat, long = found.lat, found.long
    since = now - timedelta(days=cfg.duplicate_window_days)
    q = select(Ticket).where(Ticket.service_type_id == service_type_id,
                             Ticket.wire_status == "open", Ticket.requested_at >= since)
    out: list[Ticket] = []
    if lat is not None and long is not None:
        dlat = cfg.duplicate_radius_m / 111_000
        dlon = dlat / max(0.01, math.cos(math.radians(lat)))
        q = q.where(Ticket.lat.between(lat - dlat, lat + dlat),
                    Ticket.long.between(long - dlon, long + dlon))
        for t in session.scalars(q.limit(200)):
            if t.lat is not None and t.long is not None and \
                    distance_m(lat, long, t.lat, t.long) <= cfg.duplicate_radius_m:
                out.append(t)
    elif address and address.strip():
        key = " ".join(address.lower().split())
        for t in session.scalars(q.where(Ticket.address.is_not(None)).limit(2000)):
            if " ".join((t.address or "").lower().split()) == key:
                out.append(t)
    return [t for t in out if t.id != exclude_id and is_open(State(t.state))
            and t.parent_id is None]
