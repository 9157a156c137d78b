"""What other capabilities may call: what anyone holding a ticket number may learn (the IVR
reads it by keypad; no personal data: no names, contact details, address or description; the
resolution is the public view's, ``crm_bridge.open311.public_view``: phone numbers and e-mail
addresses masked), the catalog a resident picks from, and a resident's own requests (open
one, say "work not done", see requests near a place) for the web portal.
"""

from __future__ import annotations

import hmac
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_bridge.config import CrmConfig, from_settings
from crm_bridge.models import ServiceType, Ticket
from crm_bridge.open311.public_view import public_view
from crm_bridge.photos import STORE as PHOTO_STORE
from crm_bridge.photos import PhotoError
from crm_bridge.photos import keep as keep_photo
from crm_bridge.tickets import records, service, translations
from crm_bridge.tickets.checkdigit import InvalidTicketNumber, normalize
from crm_bridge.tickets.draft import TicketDraft
from crm_bridge.tickets.errors import CrmError, InvalidInput, NotFound
from crm_bridge.tickets.lifecycle import LifecycleError, State, plain
from crm_bridge.tickets.phones import variants
from crm_bridge.tickets.routing import distance_m
from foundation.db import utcnow

__all__ = ["PHOTO_STORE", "CrmConfig", "CrmError", "InvalidInput", "InvalidTicketNumber",
           "LifecycleError", "NotFound", "Opened", "PhotoError", "PublicStatus", "ServiceCard",
           "TicketDraft", "agency_numbers", "catalog", "faq_answers", "from_settings",
           "keep_photo", "nearby_requests", "open_request", "public_status", "reopen_request",
           "type_name"]


@dataclass(frozen=True)
class PublicStatus:
    number: str
    state: str  # plain words: "received", "in progress", "on hold", "closed"...
    closed: bool
    agency_name: str
    service_name: str
    expected_date: date | None
    resolution: str | None
    closed_at: datetime | None = None  # the reopen window runs from here


def type_name(st: ServiceType, lang: str = "en") -> str:
    """The service type's name in ``lang`` (the catalog's ``i18n``), else in English."""
    return translations.text(st.i18n, lang, "name", st.name)


def public_status(session: Session, ticket_number: str,
                  tz: str = "America/New_York", lang: str = "en") -> PublicStatus | None:
    """The status of a ticket, None if no such ticket; InvalidTicketNumber on bad digits.
    The type is named in ``lang`` where the catalog translates it."""
    number = normalize(ticket_number)
    t = session.scalar(select(Ticket).where(Ticket.number == number))
    if t is None:
        return None
    state = State(t.state)
    return PublicStatus(
        number=number,
        state=plain(state),
        closed=state is State.CLOSED,
        agency_name=t.agency.name,
        service_name=type_name(t.service_type, lang),
        expected_date=t.due_at.astimezone(ZoneInfo(tz)).date() if t.due_at else None,
        resolution=(public_view(t, t.service_type.public_description).resolution
                    if state is State.CLOSED else None),
        closed_at=t.closed_at if state is State.CLOSED else None,
    )


def faq_answers(session: Session, lang: str = "en") -> dict[str, str]:
    """service_code -> the FAQ text agents read, for every active service type that has one
    (the IVR reads the same words to callers); in another ``lang`` only the types whose
    catalog translates the FAQ (a caller never hears English in its place)."""
    rows = session.execute(select(ServiceType.code, ServiceType.faq, ServiceType.i18n).where(
        ServiceType.active.is_(True), ServiceType.faq != ""))
    if lang == translations.BASE:
        return {code: faq for code, faq, _ in rows}
    return {code: text for code, _, tr in rows
            if (text := ((tr or {}).get(lang) or {}).get("faq"))}


def agency_numbers(session: Session) -> list[tuple[str, str]]:
    """(name, public phone) of every agency that has one: the referral directory's catalog part."""
    from crm_bridge.models import Agency

    return [(a.name, a.phone) for a in session.scalars(select(Agency).order_by(Agency.name))
            if a.phone]


@dataclass(frozen=True)
class ServiceCard:
    """A service type as a resident picks it: its questions (``variable`` ones are asked,
    the others are information to read) and the promise in words."""

    code: str
    name: str
    group: str
    description: str
    keywords: str
    questions: list[dict[str, Any]]
    information: list[str]
    sla: str


def _card(st: ServiceType, lang: str) -> ServiceCard:
    tr = st.i18n
    defs = translations.definitions(st.attributes or [], tr, lang)
    return ServiceCard(st.code, type_name(st, lang), translations.text(tr, lang, "group", st.group),
                       translations.text(tr, lang, "description", st.description), st.keywords,
                       [d for d in defs if d.get("variable", True)],
                       [d["description"] for d in defs if not d.get("variable", True)],
                       records.policy(st).describe())


def catalog(session: Session, lang: str = "en") -> list[ServiceCard]:
    """Every active service type, by group then name, in ``lang`` where the catalog
    translates it (codes and list keys are the same in every language)."""
    rows = session.scalars(select(ServiceType).where(ServiceType.active.is_(True))
                           .order_by(ServiceType.group, ServiceType.name))
    cards = [_card(st, lang) for st in rows]
    if lang == translations.BASE:
        return cards
    return sorted(cards, key=lambda c: (c.group.casefold(), c.name.casefold()))


@dataclass(frozen=True)
class Opened:
    number: str
    due_at: datetime | None
    districts: list[tuple[str, str]]  # (layer, district name)


def open_request(session: Session, draft: TicketDraft, config: CrmConfig) -> Opened:
    """Open a ticket from any channel (validated as every other: CrmError on bad input)."""
    t = service.open_ticket(session, draft, config=config)
    return Opened(t.number or "", t.due_at, [(d.layer, d.name) for d in t.districts])


def _same_contact(t: Ticket, contact: str) -> bool:
    typed = contact.strip().lower()
    if t.email and hmac.compare_digest(typed.encode(), t.email.lower().encode()):
        return True
    return bool(t.phone) and t.phone in variants(typed)


def reopen_request(session: Session, number: str, contact: str, text: str,
                   config: CrmConfig) -> PublicStatus:
    """A resident says the work was not done, within the reopen window. When the request
    carries an e-mail or a phone number, the resident types it (the number alone, a short
    run of digits, must not let anyone reopen another's request)."""
    t = service.get_ticket(session, number, lock=True)
    if (t.email or t.phone) and not _same_contact(t, contact):
        raise InvalidInput("contact", "that is not the e-mail or phone given with the request")
    service.reopen_by_resident(session, number, text, config=config)
    status = public_status(session, number, str(config.calendar.tz))
    assert status is not None
    return status


@dataclass(frozen=True)
class NearbyRequest:
    number: str
    service_name: str
    state: str
    requested: date
    address: str | None
    lat: float
    long: float
    distance_m: float


def nearby_requests(session: Session, lat: float, long: float, config: CrmConfig,
                    radius_m: float = 400.0, days: float = 90.0,
                    limit: int = 50, lang: str = "en") -> list[NearbyRequest]:
    """Requests opened or still open near a point in the last ``days`` (what Open311 shows
    anyone: type, state, date, the public view's block and rounded spot; no personal data),
    nearest first."""
    since = utcnow() - timedelta(days=days)
    dlat = radius_m / 111_000
    dlon = dlat / max(0.01, math.cos(math.radians(lat)))
    rows = session.scalars(select(Ticket).where(
        Ticket.lat.between(lat - dlat, lat + dlat), Ticket.long.between(long - dlon, long + dlon),
        (Ticket.requested_at >= since) | (Ticket.wire_status == "open")).limit(2000))
    tz = config.calendar.tz
    out = []
    for t in rows:
        if t.lat is None or t.long is None:
            continue
        d = distance_m(lat, long, t.lat, t.long)
        if d <= radius_m:  # measured on the exact spot, shown as the public view's place
            pv = public_view(t, t.service_type.public_description,
                             config.public_coordinate_decimals)
            out.append(NearbyRequest(t.number or "", type_name(t.service_type, lang),
                                     plain(State(t.state)),
                                     t.requested_at.astimezone(tz).date(), pv.address,
                                     round(t.lat, config.public_coordinate_decimals),
                                     round(t.long, config.public_coordinate_decimals), round(d)))
    return sorted(out, key=lambda r: r.distance_m)[:limit]
