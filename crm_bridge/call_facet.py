"""The service requests opened on a call, for the call timeline (``acd.timeline``)."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from acd.models import CallRecord
from acd.timeline import Facet, Step
from crm_bridge.models import Agency, ServiceType, Ticket


def tickets_facet(s: Session, call: CallRecord, role: str) -> Facet | None:
    """Tickets opened on this call (linked by the call, or the number noted at wrap-up)."""
    match = [Ticket.call_uniqueid == call.uniqueid]
    if call.ticket_number:
        match.append(Ticket.number == call.ticket_number)
    rows = s.execute(select(Ticket.number, Ticket.state, Ticket.requested_at, ServiceType.name,
                            Agency.name).join(ServiceType, Ticket.service_type_id == ServiceType.id)
                     .join(Agency, Ticket.agency_id == Agency.id).where(or_(*match))
                     .order_by(Ticket.requested_at)).all()
    if not rows:
        return None
    facts, steps = [], []
    for number, state, requested, type_name, agency in rows:
        href = url_for("crm.ticket", number=number) if number else None
        facts.append((number or "draft", f"{type_name} · {agency} · {state}"))
        steps.append(Step(requested, f"opened request {number}: {type_name} ({agency})", href))
    return Facet("Service requests", facts, steps)
