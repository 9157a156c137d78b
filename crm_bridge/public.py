"""What anyone holding a ticket number may learn (the IVR reads this by keypad).

No personal data: no names, contact details, address or description; the resolution is the
public view's (``crm_bridge.open311.public_view``: phone numbers and e-mail addresses masked).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_bridge.models import ServiceType, Ticket
from crm_bridge.open311.public_view import public_view
from crm_bridge.tickets.checkdigit import InvalidTicketNumber, normalize
from crm_bridge.tickets.lifecycle import State, plain

__all__ = ["InvalidTicketNumber", "PublicStatus", "faq_answers", "public_status"]


@dataclass(frozen=True)
class PublicStatus:
    number: str
    state: str  # plain words: "received", "in progress", "on hold", "closed"...
    closed: bool
    agency_name: str
    service_name: str
    expected_date: date | None
    resolution: str | None


def public_status(session: Session, ticket_number: str,
                  tz: str = "America/New_York") -> PublicStatus | None:
    """The status of a ticket, None if no such ticket; InvalidTicketNumber on bad digits."""
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
        service_name=t.service_type.name,
        expected_date=t.due_at.astimezone(ZoneInfo(tz)).date() if t.due_at else None,
        resolution=(public_view(t, t.service_type.public_description).resolution
                    if state is State.CLOSED else None),
    )


def faq_answers(session: Session) -> dict[str, str]:
    """service_code -> the FAQ text agents read, for every active service type that has one
    (the IVR reads the same words to callers)."""
    rows = session.execute(select(ServiceType.code, ServiceType.faq).where(
        ServiceType.active.is_(True), ServiceType.faq != ""))
    return {code: faq for code, faq in rows}
