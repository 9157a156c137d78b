"""Ticket service: open a ticket and apply lifecycle actions, logging every change.

Callable without Flask (the IVR, the worker and tests use it): pass a SQLAlchemy session,
and optionally a ``CrmConfig`` (``crm_bridge.config.from_settings``) and ``now``.
The caller owns the transaction.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_bridge.config import CrmConfig
from crm_bridge.models import Agency, ServiceType, Ticket, TicketDistrict, TicketEvent
from crm_bridge.notify import notices
from crm_bridge.tickets.attributes import validate_answers
from crm_bridge.tickets.business_calendar import next_check_at
from crm_bridge.tickets.checkdigit import normalize, ticket_number
from crm_bridge.tickets.draft import TicketDraft
from crm_bridge.tickets.errors import InvalidInput, NotFound
from crm_bridge.tickets.fields import check, check_draft, check_note
from crm_bridge.tickets.lifecycle import (
    Action,
    LifecycleError,
    LinkKind,
    State,
    cascade_targets,
    check_close,
    check_reopen,
    is_open,
    next_state,
    plain,
)
from crm_bridge.tickets.records import (
    DEFAULT_CONFIG,
    escalate,
    log,
    policy,
    queue_outbox,
    unpause,
)
from foundation.db import utcnow
from foundation.header_values import email_problem
from places.public import locate

# how a request reached the city: ``walk-in`` and ``letter`` are entered by staff at the
# desktop (STAFF_CHANNELS: what an agent may say a request came by)
CHANNELS = ("phone", "ivr", "web", "open311", "email", "sms", "walk-in", "letter")
STAFF_CHANNELS = ("phone", "walk-in", "letter")
LANGUAGES = ("en", "es")


def get_ticket(session: Session, number: str, *, lock: bool = False) -> Ticket:
    """The ticket with this number (check digit verified), or NotFound."""
    q = select(Ticket).where(Ticket.number == normalize(number))
    if lock:
        q = q.with_for_update()
    t = session.scalar(q)
    if t is None:
        raise NotFound("ticket_not_found", f"no ticket {number}")
    return t


def service_type(session: Session, code: str) -> ServiceType:
    st = session.scalar(select(ServiceType).where(ServiceType.code == code))
    if st is None or not st.active:
        raise NotFound("service_code", f"no service type {code!r}")
    return st


def _check_location(lat: float | None, long: float | None) -> None:
    if (lat is None) != (long is None):
        raise InvalidInput("location", "lat and long go together")
    if lat is not None and long is not None and not (
            math.isfinite(lat) and math.isfinite(long) and -90 <= lat <= 90
            and -180 <= long <= 180):
        raise InvalidInput("location", "lat/long out of range")


def open_ticket(session: Session, draft: TicketDraft, *, now: datetime | None = None,
                config: CrmConfig | None = None) -> Ticket:
    """Store a new ticket locally (numbered, SLA due set, logged, notifications and outbox
    queued); returns it flushed, with ``number`` set."""
    cfg = config or DEFAULT_CONFIG
    now = now or utcnow()
    d = draft
    attributes = d.attributes or {}
    key = idempotency_hash(d.idempotency_key) if d.idempotency_key else None
    if key:
        seen = session.scalar(select(Ticket).where(Ticket.idempotency_key == key))
        if seen is not None:
            return seen
    if d.channel not in CHANNELS:
        raise InvalidInput("channel", f"channel must be one of {', '.join(CHANNELS)}")
    check_draft(d)
    if d.language not in LANGUAGES:
        raise InvalidInput("language", f"language must be one of {', '.join(LANGUAGES)}")
    st = service_type(session, d.service_code)
    _check_location(d.lat, d.long)
    problem = email_problem(d.email) if d.email else None
    if problem:
        raise InvalidInput("email", problem)
    answers = validate_answers(st.attributes or [], attributes)
    place = locate(session, d.address, d.lat, d.long)
    agency, by_district = _route(session, st, place.districts)
    pol = policy(st)
    due = cfg.calendar.due(pol, now)
    t = Ticket(
        token=secrets.token_hex(12), service_type=st, agency_id=agency.id, agency=agency,
        state=State.NEW.value, wire_status="open", channel=d.channel, language=d.language,
        description=d.description, attributes=answers, address=place.address or d.address,
        address_id=d.address_id or place.address_id, zipcode=d.zipcode,
        lat=place.lat, long=place.long, first_name=d.first_name, last_name=d.last_name,
        email=d.email or None, phone=_digits(d.phone), notify_email=d.notify_email,
        notify_sms=d.notify_sms, account_id=d.account_id, device_id=d.device_id,
        media_url=d.media_url, call_uniqueid=d.call_uniqueid, source_client=d.source_client,
        idempotency_key=key, created_by=d.actor, requested_at=now, updated_at=now,
        due_at=due, sla_next_check_at=next_check_at(cfg.calendar, pol, due, 0),
        districts=[TicketDistrict(layer=x.layer, code=x.code, name=x.name)
                   for x in _one_per_layer(place.districts)])
    if key:
        try:  # the same key sent twice at once: the unique key lets one in, the other waits
            with session.begin_nested():
                session.add(t)
        except IntegrityError:
            seen = session.scalar(select(Ticket).where(Ticket.idempotency_key == key))
            if seen is None:
                raise
            return seen
    else:
        session.add(t)
    session.flush()
    t.number = ticket_number(t.id)
    log(session, t, "created", d.actor, f"{st.name} via {d.channel}", now=now)
    log(session, t, "routed", "system", f"Routed to {agency.name}{by_district}", now=now)
    queue_outbox(session, t, agency, now)
    session.flush()
    notices.to_resident(session, t, "created", cfg, now=now)
    return t


def idempotency_hash(key: str) -> str:
    """What is stored for a client's ``Idempotency-Key`` (its SHA-256): any length, and two
    different keys never share a row (a stored prefix once made them collide)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _route(session: Session, st: ServiceType, districts: list[Any]) -> tuple[Agency, str]:
    """The agency a new ticket goes to: the type's, unless its routing rule names another for
    the district the ticket lies in; and the words saying why."""
    rule = st.district_routes or {}
    here = next((x for x in districts if x.layer == rule.get("layer")), None)
    if here is None:
        return st.agency, ""
    code = (rule.get("agencies") or {}).get(here.code)
    if code and code != st.agency.code:
        agency = session.scalar(select(Agency).where(Agency.code == code))
        if agency is not None:
            return agency, f" ({here.name})"
    return st.agency, ""


def _one_per_layer(districts: list[Any]) -> list[Any]:
    """Overlapping polygons of one layer (a bad import) keep the first, by code."""
    seen: dict[str, Any] = {}
    for x in districts:
        seen.setdefault(x.layer, x)
    return list(seen.values())


def _digits(phone: str | None) -> str | None:
    if not phone:
        return None
    digits = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    return digits or None


def act(session: Session, t: Ticket, action: Action | str, actor: str, *,
        comment: str | None = None, assignee: str | None = None, reason: str | None = None,
        override: bool = False, now: datetime | None = None,
        config: CrmConfig | None = None) -> Ticket:
    """Apply one lifecycle action (guards enforced) and log it."""
    cfg = config or DEFAULT_CONFIG
    now = now or utcnow()
    action = Action(action)
    check_note("comment", comment)
    check_note("reason", reason)
    check("assignee", assignee.strip() if assignee else None, Ticket.assignee)
    old = State(t.state)
    if action is Action.CLOSE:
        return close(session, t, actor, reason, comment, now=now, config=cfg)
    if action is Action.REOPEN:
        return reopen(session, t, actor, comment, override=override, now=now, config=cfg)
    new = next_state(old, action)
    if action is Action.ASSIGN:
        if not (assignee or "").strip():
            raise LifecycleError("assignee_required", "say who the ticket is assigned to")
        t.assignee = assignee.strip()  # type: ignore[union-attr]
    if old is State.ON_HOLD and new is not State.ON_HOLD:
        unpause(t, now, cfg)
    if new is State.ON_HOLD:
        t.hold_started_at = now
        t.sla_next_check_at = None  # the SLA clock is paused
    if new is State.ACKNOWLEDGED and t.acknowledged_at is None:
        t.acknowledged_at = now
    t.state = new.value
    t.updated_at = now
    text = f"{plain(old)} → {plain(new)}"
    if action is Action.ASSIGN:
        text += f" (assigned to {t.assignee})"
    if comment:
        text += f": {comment}"
        t.status_notes = comment
    log(session, t, "status", actor, text, now=now)
    notices.to_resident(session, t, "status", cfg, comment, now=now)
    return t


def close(session: Session, t: Ticket, actor: str, reason: str | None, comment: str | None, *,
          now: datetime | None = None, config: CrmConfig | None = None,
          _cascade: bool = True) -> Ticket:
    """Close with a reason and a resolution comment; closes the ticket's open duplicates."""
    cfg = config or DEFAULT_CONFIG
    now = now or utcnow()
    check_note("comment", comment)
    children = session.execute(
        select(Ticket.id, Ticket.state, Ticket.link_kind).where(Ticket.parent_id == t.id)
    ).all()
    open_children = sum(1 for _, st, k in children if k == LinkKind.CHILD and is_open(State(st)))
    parsed = check_close(State(t.state), reason, comment, open_children=open_children,
                         has_parent=t.parent_id is not None and t.link_kind == LinkKind.DUPLICATE,
                         min_chars=cfg.min_resolution_chars)
    resolution = (comment or "").strip()
    if t.hold_started_at is not None:
        unpause(t, now, cfg)
    t.state = State.CLOSED.value
    t.wire_status = "closed"
    t.closure_reason = parsed.value
    t.resolution = resolution
    t.status_notes = resolution
    t.closed_at = now
    t.updated_at = now
    t.sla_next_check_at = None
    log(session, t, "closed", actor, f"{parsed.value}: {resolution}", now=now)
    notices.to_resident(session, t, "closed", cfg, now=now)
    if _cascade:
        targets = cascade_targets(
            (cid, State(st), LinkKind(k)) for cid, st, k in children if k is not None)
        for cid in targets:
            child = session.get(Ticket, cid)
            assert child is not None
            try:
                close(session, child, actor, "duplicate",
                      f"Closed with {t.number}: {resolution}", now=now, config=cfg,
                      _cascade=False)
            except LifecycleError as exc:
                log(session, child, "commented", "system",
                    f"not closed with {t.number}: {exc}", public=False, now=now)
    return t


def reopen(session: Session, t: Ticket, actor: str, comment: str | None, *,
           override: bool = False, by_resident: bool = False, now: datetime | None = None,
           config: CrmConfig | None = None) -> Ticket:
    """Reopen a closed ticket within the window ("work not done"); a resident's reopen
    escalates to the next level of oversight and restarts the SLA clock."""
    cfg = config or DEFAULT_CONFIG
    now = now or utcnow()
    check_note("comment", comment)
    check_reopen(State(t.state), t.closed_at, now, cfg.reopen_window_days, override=override)
    pol = policy(t.service_type)
    t.state = State.REOPENED.value
    t.wire_status = "open"
    t.closure_reason = None
    t.closed_at = None
    t.reopen_count += 1
    t.updated_at = now
    t.due_at = cfg.calendar.due(pol, now)
    t.sla_stage = 0
    t.sla_next_check_at = next_check_at(cfg.calendar, pol, t.due_at, 0)
    t.status_notes = f"Reopened: {comment}" if comment else "Reopened"
    log(session, t, "reopened", actor, comment or "", now=now)
    notices.to_resident(session, t, "status", cfg, t.status_notes, now=now)
    if by_resident:
        escalate(session, t, max(t.escalation_level, 0) + 1,
                 f"reopened by the resident: {comment or 'work not done'}", "system",
                 now=now, config=cfg)
    return t


def reopen_by_resident(session: Session, number: str, text: str, *,
                       now: datetime | None = None, config: CrmConfig | None = None) -> Ticket:
    """A resident says the work was not done (web link, IVR, reply); window enforced."""
    t = get_ticket(session, number, lock=True)
    return reopen(session, t, "resident", text.strip() or "work not done", by_resident=True,
                  now=now, config=config)


def comment(session: Session, t: Ticket, actor: str, text: str, *, public: bool = True,
            now: datetime | None = None) -> Ticket:
    if not text.strip():
        raise InvalidInput("comment_empty", "the comment is empty")
    check_note("comment", text)
    now = now or utcnow()
    t.updated_at = now
    if public:
        t.status_notes = text.strip()
    log(session, t, "commented", actor, text.strip(), public=public, now=now)
    return t


def events(session: Session, t: Ticket) -> list[TicketEvent]:
    return list(session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id)
                                .order_by(TicketEvent.at, TicketEvent.id)))


def count_open(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Ticket)
                          .where(Ticket.wire_status == "open")) or 0
