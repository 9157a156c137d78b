"""Ticket bookkeeping shared by the ticket service and routing: the activity log, the SLA policy
of a ticket's type, the outbox hand-off, holds, and escalation to oversight."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.orm import Session

from crm_bridge.config import CrmConfig
from crm_bridge.models import Agency, OutboxItem, ServiceType, Ticket, TicketEvent
from crm_bridge.notify import notices
from crm_bridge.tickets.business_calendar import SlaPolicy, SlaUnit, next_check_at
from foundation.db import utcnow

DEFAULT_CONFIG = CrmConfig()


def policy(st: ServiceType) -> SlaPolicy:
    return SlaPolicy(SlaUnit(st.sla_unit), float(st.sla_amount))


def log(session: Session, t: Ticket, kind: str, actor: str, text: str = "", *,
        public: bool = True, now: datetime | None = None) -> None:
    session.add(TicketEvent(ticket_id=t.id, kind=kind, actor=actor, text=text, public=public,
                            at=now or utcnow()))


def queue_outbox(session: Session, t: Ticket, agency: Agency,
                 now: datetime | None = None) -> None:
    """Queue the ticket for the agency's external CRM, if it has one (the outbox sends it)."""
    if agency.external_kind in ("open311", "email"):
        now = now or utcnow()
        session.add(OutboxItem(ticket_id=t.id, agency_id=agency.id,
                               destination=agency.external_kind, next_attempt_at=now,
                               created_at=now,
                               idempotency_key=f"civic311-{t.number}-{agency.code}-"
                                               f"{secrets.token_hex(4)}"))


def unpause(t: Ticket, now: datetime, cfg: CrmConfig) -> None:
    """End an on-hold spell: push the due time out by the time spent on hold."""
    if t.hold_started_at is not None and t.due_at is not None:
        pol = policy(t.service_type)
        t.due_at = cfg.calendar.extend_for_hold(pol, t.due_at, t.hold_started_at, now)
        t.sla_next_check_at = next_check_at(cfg.calendar, pol, t.due_at, t.sla_stage)
    t.hold_started_at = None


def escalate(session: Session, t: Ticket, level: int, reason: str, actor: str, *,
             now: datetime | None = None, config: CrmConfig | None = None) -> None:
    """Raise the ticket to oversight ``level`` and email that level's contact."""
    cfg = config or DEFAULT_CONFIG
    now = now or utcnow()
    t.escalation_level = max(t.escalation_level, level)
    who = notices.to_oversight(session, t, "escalation", level, cfg, reason=reason, now=now)
    log(session, t, "escalated", actor,
        f"level {level} ({who or 'no contact on file'}): {reason}", public=False, now=now)
